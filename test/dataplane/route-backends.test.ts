import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { waitForMetric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { clusterOf, editRoutes } from '../helpers/table-edits.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

describe('weighted backends', () => {
  let dir: string;
  let proxy: TestProxy;
  let one: TestUpstream;
  let three: TestUpstream;
  let never: TestUpstream;

  before(async () => {
    one = await startUpstream('one');
    three = await startUpstream('three');
    never = await startUpstream('never');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('one', [{ port: one.port }]),
      ...serviceWithEndpoints('three', [{ port: three.port }]),
      ...serviceWithEndpoints('never', [{ port: never.port }]),
      ingress('w', null, [
        { path: '/split', service: 'one' },
        { path: '/unresolved', service: 'one' },
        { path: '/empty', service: 'one' },
        { path: '/redirect-only', service: 'one' },
        { path: '/three', service: 'three' },
        { path: '/never', service: 'never' },
      ]),
    ]);
    proxy = await startProxy(dir, {
      editTable: editRoutes({
        '/split': (route) => ({
          backends: [
            { cluster: clusterOf('one'), weight: 1, provenance: `${route.provenance}/backend/0` },
            { cluster: clusterOf('three'), weight: 3, provenance: `${route.provenance}/backend/1` },
            { cluster: clusterOf('never'), weight: 0, provenance: `${route.provenance}/backend/2` },
          ],
        }),
        '/unresolved': (route) => ({
          backends: [
            { cluster: clusterOf('one'), weight: 1, provenance: `${route.provenance}/backend/0` },
            { cluster: null, weight: 1, provenance: `${route.provenance}/backend/1` },
          ],
        }),
        '/empty': () => ({ backends: [] }),
        '/redirect-only': () => ({ backends: [], filters: [{ type: 'RequestRedirect', hostname: 'elsewhere.example', statusCode: 302 }] }),
      }),
    });
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([one.close(), three.close(), never.close()]);
    await removeDir(dir);
  });

  /** Sends `n` GETs to `path`, `parallel` at a time; returns the count of each answer body's first word. */
  async function tally(path: string, n: number, parallel = 8): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < n) {
        sent++;
        const res = await fetch(`${proxy.http}${path}`);
        const key = res.status === 200 ? (await res.text()).split(' ')[0]! : String((await res.text(), res.status));
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return counts;
  }

  it('splits requests by weight (1:3 within ±3% over 10,000), never to a backend of weight 0', async () => {
    const counts = await tally('/split', 10_000);
    const share = (counts.get('three') ?? 0) / 10_000;
    assert.ok(Math.abs(share - 0.75) <= 0.03, `share of the weight-3 backend: ${share}`);
    assert.equal((counts.get('one') ?? 0) + (counts.get('three') ?? 0), 10_000);
    assert.equal(never.seen.length, 0);
  });

  it('labels each backend’s requests with the route and its own cluster', async () => {
    const route = 'Ingress\\/default\\/w\\/rule\\/0\\/path\\/0';
    await waitForMetric(proxy, new RegExp(`signalbox_http_requests_total\\{route="${route}",cluster="default\\/three:80",code="200"\\} \\d+`));
    await waitForMetric(proxy, new RegExp(`signalbox_http_requests_total\\{route="${route}",cluster="default\\/one:80",code="200"\\} \\d+`));
  });

  it('answers 500 for the share of a backend that does not resolve', async () => {
    const counts = await tally('/unresolved', 100, 1);
    assert.equal(counts.get('one'), 50);
    assert.equal(counts.get('500'), 50);
    const res = await fetch(`${proxy.http}/unresolved`);
    const again = await fetch(`${proxy.http}/unresolved`);
    const reasons = [res.headers.get('x-signalbox-error'), again.headers.get('x-signalbox-error')];
    await Promise.all([res.text(), again.text()]);
    assert.ok(reasons.includes('no-backend'));
  });

  it('answers 500 on a route without backends, unless a filter answers', async () => {
    const res = await fetch(`${proxy.http}/empty`);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-signalbox-error'), 'no-backend');
    await res.text();
    const redirect = await fetch(`${proxy.http}/redirect-only/x`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.match(redirect.headers.get('location') ?? '', /^http:\/\/elsewhere\.example(:\d+)?\/redirect-only\/x$/);
  });
});
