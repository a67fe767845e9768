/**
 * `signalbox migrate --cluster` against a fake API server on a real socket, as a user runs it (the
 * CLI as a child process, a kubeconfig file): the answers an API server gives while it settles
 * (429 "storage is (re)initializing" just after a CRD is created) are waited out and the report
 * comes, while an answer that will not change (403) fails at once with the API's message.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'signalbox.js');
const ROUTESCRIPTS = '/apis/signalbox.dev/v1alpha1/routescripts';
const INGRESSES = '/apis/networking.k8s.io/v1/ingresses';
const INGRESS_CLASSES = '/apis/networking.k8s.io/v1/ingressclasses';

/** What the fake API answers the RouteScript list with, and how often it has been asked. */
const state = { routeScriptAnswers: [] as number[], routeScriptLists: 0, ingressStatus: 200 };

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.searchParams.get('watch') === 'true') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    return;
  }
  if (url.pathname === ROUTESCRIPTS) {
    state.routeScriptLists++;
    const status = state.routeScriptAnswers.shift() ?? 200;
    if (status === 429) return json(429, { kind: 'Status', status: 'Failure', reason: 'TooManyRequests', message: 'storage is (re)initializing', code: 429, details: { retryAfterSeconds: 1 } });
  }
  if (url.pathname === INGRESSES && state.ingressStatus === 403) {
    return json(403, { kind: 'Status', status: 'Failure', reason: 'Forbidden', message: 'ingresses.networking.k8s.io is forbidden: User "nobody" cannot list resource "ingresses"', code: 403 });
  }
  if (url.pathname === INGRESSES) {
    return json(200, {
      metadata: { resourceVersion: '7' },
      items: [{
        metadata: { namespace: 'shop', name: 'storefront', resourceVersion: '5' },
        spec: { ingressClassName: 'nginx', rules: [{ host: 'shop.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
      }],
    });
  }
  if (url.pathname === INGRESS_CLASSES) {
    return json(200, { metadata: { resourceVersion: '7' }, items: [{ metadata: { name: 'nginx', resourceVersion: '3' }, spec: { controller: 'k8s.io/ingress-nginx' } }] });
  }
  json(200, { metadata: { resourceVersion: '7' }, items: [] });
}

function migrate(kubeconfig: string): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', BIN, 'migrate', '--cluster', '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('migrate --cluster and an API server that is still settling', () => {
  const server = createServer(answer);
  const dir = mkdtempSync(join(tmpdir(), 'signalbox-migrate-'));
  const kubeconfig = join(dir, 'kubeconfig');

  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: fake',
      'clusters: [{name: fake, cluster: {server: "http://127.0.0.1:' + port + '", insecure-skip-tls-verify: true}}]',
      'users: [{name: nobody, user: {}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: nobody}}]',
    ].join('\n'));
  });

  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('429 "storage is (re)initializing" twice, then the list: the report comes, the Ingress in it', async () => {
    state.routeScriptAnswers = [429, 429];
    state.routeScriptLists = 0;
    const r = await migrate(kubeconfig);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Ingress shop\/storefront \(class nginx\): /m);
    assert.equal(state.routeScriptLists, 3, 'asked again until the API answered');
  });

  test('403 on Ingresses: a failure at once, with the API\'s message', async () => {
    state.routeScriptAnswers = [];
    state.ingressStatus = 403;
    try {
      const r = await migrate(kubeconfig);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^signalbox: --cluster: could not list Ingress objects from http:\/\/127\.0\.0\.1:\d+: .*cannot list resource "ingresses"/m);
      assert.ok(r.ms < 10_000, `failed after ${r.ms} ms, not at once`);
    } finally {
      state.ingressStatus = 200;
    }
  });
});
