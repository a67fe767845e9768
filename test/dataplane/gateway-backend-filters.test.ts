/**
 * Filters on a Gateway API backendRef (HTTPRouteBackendRequestHeaderModification) on real sockets:
 * each backend of a rule edits the headers of the requests sent to it alone, after the rule's own
 * edits, so that two weighted backends of one rule each see their own value (and never the
 * other's), two backendRefs to one Service with different edits keep them apart, and a filter type
 * signalbox cannot apply on a backendRef drops the rule rather than serve it without it. From the
 * upstreams' own logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { GATEWAY_CLASS, httpGateway, httpRoute, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const GW = 'gateway.networking.k8s.io/v1';
const HOST = 'shop.example.com';

describe('filters on a backendRef', () => {
  let dir: string;
  let proxy: TestProxy;
  let port = 0;
  const upstreams: Record<string, TestUpstream> = {};

  const setBackend = (value: string): object => ({ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'Backend', value }] } });
  const rule = (path: string, backendRefs: object[], filters?: object[]): object => ({ matches: [{ path: { type: 'PathPrefix', value: path } }], ...(filters === undefined ? {} : { filters }), backendRefs });

  before(async () => {
    for (const name of ['v1', 'v2']) upstreams[name] = await startUpstream(name);
    port = await deadPort();
    dir = await tempManifestDir();
    await writeManifests(dir, 'gateway.yaml', [
      GATEWAY_CLASS,
      httpGateway('edge', 'app', port),
      httpRoute('shop', 'app', 'edge', [HOST], [
        rule('/weights', [
          { name: 'v1', port: 80, weight: 10, filters: [setBackend('infra-backend-v1')] },
          { name: 'v2', port: 80, weight: 10, filters: [setBackend('infra-backend-v2')] },
        ]),
        // The rule's edits first, then the backend's: its set wins, its remove sees the rule's add.
        rule('/both', [{ name: 'v1', port: 80, filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Layer', value: 'backend' }], remove: ['X-Rule-Only'], add: [{ name: 'X-Backend-Add', value: 'b' }] } }] }], [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Layer', value: 'rule' }, { name: 'X-Rule-Only', value: 'r' }, { name: 'X-Rule-Kept', value: 'k' }] } },
        ]),
        // One Service twice, each reference with its own edit.
        rule('/same-service', [
          { name: 'v1', port: 80, weight: 1, filters: [setBackend('first')] },
          { name: 'v1', port: 80, weight: 1, filters: [setBackend('second')] },
        ]),
        rule('/unsupported', [{ name: 'v1', port: 80, filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'X-Out', value: '1' }] } }] }]),
      ]),
      ...serviceWithEndpoints('v1', [{ port: upstreams.v1!.port }], 'app'),
      ...serviceWithEndpoints('v2', [{ port: upstreams.v2!.port }], 'app'),
    ]);
    proxy = await startProxy(dir);
  });

  after(async () => {
    await proxy?.stop();
    for (const u of Object.values(upstreams)) await u.close();
    await removeDir(dir);
  });

  async function get(path: string, headers: Record<string, string> = {}): Promise<number> {
    const res = await request(`http://127.0.0.1:${port}${path}`, { headers: { host: HOST, ...headers } });
    await res.body.dump();
    return res.statusCode;
  }
  const seen = (name: string, path: string): TestUpstream['seen'] => upstreams[name]!.seen.filter((s) => s.url.startsWith(path));

  it('two weighted backends of one rule: each sees its own header value, never the other\'s, and both get requests', async () => {
    for (let i = 0; i < 40; i++) assert.equal(await get(`/weights/${i}`, { backend: 'from-the-client' }), 200);
    const one = seen('v1', '/weights');
    const two = seen('v2', '/weights');
    assert.ok(one.length > 0 && two.length > 0, `v1 ${one.length}, v2 ${two.length}`);
    assert.deepEqual([...new Set(one.map((s) => s.headers.backend))], ['infra-backend-v1']);
    assert.deepEqual([...new Set(two.map((s) => s.headers.backend))], ['infra-backend-v2']);
  });

  it('the rule\'s edits, then the backend\'s', async () => {
    assert.equal(await get('/both'), 200);
    const [got] = seen('v1', '/both');
    assert.equal(got?.headers['x-layer'], 'backend');
    assert.equal(got?.headers['x-rule-only'], undefined, 'removed by the backend after the rule set it');
    assert.equal(got?.headers['x-rule-kept'], 'k');
    assert.equal(got?.headers['x-backend-add'], 'b');
  });

  it('one Service referenced twice with different edits: each request carries one of them, whole', async () => {
    for (let i = 0; i < 30; i++) assert.equal(await get(`/same-service/${i}`), 200);
    const values = seen('v1', '/same-service').map((s) => s.headers.backend);
    assert.equal(values.length, 30);
    assert.deepEqual([...new Set(values)].sort(), ['first', 'second']);
  });

  it('a filter type a backendRef cannot carry drops the rule: reported, and nothing of it reaches the upstream', async () => {
    assert.ok(proxy.current()!.diagnostics.some((d) => d.code === 'RouteRuleInvalid' && /not supported on a backendRef/.test(d.message)));
    assert.equal(await get('/unsupported'), 404);
    assert.deepEqual(seen('v1', '/unsupported'), []);
  });
});
