/**
 * The reflector against a small fake API server on a real socket: a list the API refuses for a
 * while (429 "storage is (re)initializing" as a CRD's storage starts, a 500) is asked again until
 * it succeeds — never skipped for a watch from nothing, which would leave the kind unsynced for
 * ever and the controller never ready.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { KubeApi } from '../../src/k8s/kube-api.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { Reflector } from '../../src/k8s/reflector.ts';
import { createLogger } from '../../src/log.ts';

const PATH = '/apis/signalbox.dev/v1alpha1/routescripts';
/** Statuses the next lists get (then 200); each request seen, as `list` or `watch rv=…`. */
const state = { failures: [] as number[], seen: [] as string[] };

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname !== PATH) return json(404, { kind: 'Status', reason: 'NotFound', message: 'not found', code: 404 });
  if (url.searchParams.get('watch') === 'true') {
    state.seen.push(`watch rv=${url.searchParams.get('resourceVersion') ?? ''}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    return;
  }
  state.seen.push('list');
  const status = state.failures.shift();
  if (status === 429) return json(429, { kind: 'Status', reason: 'TooManyRequests', message: 'storage is (re)initializing', code: 429 });
  if (status !== undefined) return json(status, { kind: 'Status', reason: 'InternalError', message: 'etcdserver: leader changed', code: status });
  json(200, { metadata: { resourceVersion: '9' }, items: [{ metadata: { namespace: 'shop', name: 'shard', resourceVersion: '8' }, spec: {} }] });
}

describe('the reflector and a list the API refuses for a while', () => {
  let fake: FakeKubeApi;
  let api: KubeApi;

  before(async () => {
    fake = await startFakeKubeApi(answer);
    api = fake.api;
  });

  after(async () => {
    await fake.close();
  });

  test('429, then 500, then the list: synced with the object, and the watch starts from the list\'s version', async () => {
    state.failures = [429, 500];
    state.seen = [];
    const errors: number[] = [];
    let changed = 0;
    const reflector = new Reflector(api, { kind: 'RouteScript', apiVersion: 'signalbox.dev/v1alpha1', plural: 'routescripts' }, null, {
      changed: () => changed++,
      error: (_type, error) => errors.push((error as { status?: number }).status ?? 0),
    }, createLogger({ level: 'silent' }), true);
    reflector.start();
    try {
      const deadline = Date.now() + 15_000;
      while (!reflector.synced && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(reflector.synced, `never synced; requests: ${state.seen.join(', ')}`);
      assert.deepEqual([...reflector.objects()].map((o) => o.metadata?.name), ['shard']);
      assert.deepEqual(errors, [429, 500]);
      assert.ok(changed >= 1);
      while (state.seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(state.seen.slice(0, 4), ['list', 'list', 'list', 'watch rv=9'], 'no watch before a list succeeded');
    } finally {
      await reflector.stop();
    }
  });
});
