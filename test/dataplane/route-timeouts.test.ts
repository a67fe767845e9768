import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { holdingUpstream, type HoldingUpstream } from '../helpers/holding-upstream.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

describe('route timeouts', () => {
  let dir: string;
  let proxy: TestProxy;
  let held: HoldingUpstream;
  let stuck: TestUpstream;
  let fast: TestUpstream;

  before(async () => {
    held = holdingUpstream();
    stuck = await startUpstream('stuck', held.handler);
    fast = await startUpstream('fast');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('stuck', [{ port: stuck.port }]),
      // One endpoint that never answers, one that does; a 504 of an attempt is retried elsewhere.
      ...serviceWithEndpoints('mixed', [{ port: stuck.port }, { port: fast.port }], 'default', { 'signalbox.dev/retry-on': '504', 'signalbox.dev/retries': '1' }),
      ingress('t', null, [
        { path: '/request-limit', service: 'stuck' },
        { path: '/attempt-limit', service: 'stuck' },
        { path: '/retried', service: 'mixed' },
      ]),
    ]);
    proxy = await startProxy(dir, {
      // Far beyond any test: only the routes' own limits can end these requests.
      timeouts: { responseHeadersMs: 600_000 },
      editTable: editRoutes({
        '/request-limit': () => ({ timeouts: { requestMs: 200 } }),
        '/attempt-limit': () => ({ timeouts: { backendRequestMs: 200 } }),
        '/retried': () => ({ timeouts: { backendRequestMs: 200 } }),
      }),
    });
  });
  after(async () => {
    await proxy.stop();
    await stuck.close();
    await fast.close();
    await removeDir(dir);
  });

  it('timeouts.requestMs answers 504 when no response head came in time, and aborts the attempt', async () => {
    const res = await fetch(`${proxy.http}/request-limit/x`);
    assert.equal(res.status, 504);
    assert.equal(res.headers.get('x-signalbox-error'), 'upstream-timeout');
    await res.text();
    const request = held.log.find((r) => r.url === '/request-limit/x')!;
    await request.aborted;
  });

  it('timeouts.backendRequestMs answers 504 for an attempt past it, overriding the cluster’s limit', async () => {
    const res = await fetch(`${proxy.http}/attempt-limit/y`);
    assert.equal(res.status, 504);
    assert.equal(res.headers.get('x-signalbox-error'), 'upstream-timeout');
    await res.text();
  });

  it('an attempt past timeouts.backendRequestMs is retried on another endpoint under the retry policy', async () => {
    // Round robin sends one of two requests to the stuck endpoint first: both still succeed.
    for (const n of [1, 2]) {
      const res = await fetch(`${proxy.http}/retried/${n}`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^fast GET \/retried\//);
    }
    assert.ok(held.log.some((r) => r.url.startsWith('/retried/')), 'the stuck endpoint had one of them first');
  });
});
