/**
 * ingress-nginx's `proxy-next-upstream-timeout` on real sockets: endpoints that answer 503 after a
 * while (retried, by the Service's `retry-on`) are tried in turn until the time since the first
 * attempt has passed the limit; then the last answer is the client's. The upstreams' own logs say
 * how many attempts were made. Margins are wide: each attempt takes 1.5 s against a 2 s limit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';
const ATTEMPT_MS = 1_500;

function ingress(name: string, host: string, annotations: Record<string, string>, created: string): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: created, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'busy', port: { number: 80 } } } }] } }] },
  };
}

describe('proxy-next-upstream-timeout', () => {
  let dir: string;
  let proxy: TestProxy;
  let busy: TestUpstream[];

  before(async () => {
    // Each answers 503 after ATTEMPT_MS: an endpoint that is slow to fail.
    busy = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name, (req, res) => {
      const timer = setTimeout(() => res.writeHead(503).end(name), ATTEMPT_MS);
      res.on('close', () => clearTimeout(timer));
    })));
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false' } },
      ...serviceWithEndpoints('busy', busy.map((u) => ({ port: u.port })), 'default', { 'signalbox.dev/retry-on': '503' }),
      ingress('bounded', 'bounded.example', { 'proxy-next-upstream-tries': '3', 'proxy-next-upstream-timeout': '2' }, '2024-01-01T00:00:00Z'),
      ingress('roomy', 'roomy.example', { 'proxy-next-upstream-tries': '3', 'proxy-next-upstream-timeout': '60' }, '2024-01-02T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
  });
  after(async () => {
    await proxy.stop();
    await Promise.all(busy.map((u) => u.close()));
    await removeDir(dir);
  });

  const seen = (path: string): number => busy.reduce((n, u) => n + u.seen.filter((s) => s.url === path).length, 0);

  it('stops retrying once the limit has passed since the first attempt, and not before', async () => {
    const port = Number(new URL(proxy.http).port);
    const get = (host: string, path: string) => rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 15_000);
    const [bounded, roomy] = await Promise.all([get('bounded.example', '/bounded'), get('roomy.example', '/roomy')]);
    assert.equal(bounded.status, 503, bounded.raw);
    // Attempt 1 fails at 1.5 s (< 2 s: retried), attempt 2 at 3 s (past 2 s: answered).
    assert.equal(seen('/bounded'), 2, 'two attempts within the limit');
    assert.equal(roomy.status, 503);
    assert.equal(seen('/roomy'), 3, 'all three tries when the limit is far');
  });
});
