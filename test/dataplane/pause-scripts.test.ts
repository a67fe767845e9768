import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { steadyLoad } from '../helpers/load.ts';
import { metric } from '../helpers/metrics.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';

const BACKENDS = { 'shard-a': { service: { name: 'shop-a', port: { number: 80 } } }, 'shard-b': { service: { name: 'shop-b', port: { number: 80 } } } };

/** The shop's RouteScript: tenants by `x-tenant` to their shard; `spec` fields added as given. */
function shopScript(data: Record<string, unknown>, spec: Record<string, unknown> = {}): object {
  return routeScript('tenants', {
    targetRefs: [{ kind: 'Ingress', name: 'shop' }],
    backends: BACKENDS,
    data,
    limits: { timeoutMs: 20, memoryMiB: 16 },
    code: `export function onRequest(req, ctx) {
  const tenant = req.headers['x-tenant'] ?? '';
  if (ctx.data.moving.includes(tenant)) return { pause: { until: 'tenant-' + tenant + '-moved', maxWaitMs: ctx.data.waitMs } };
  if (ctx.data.slowDown.includes(tenant)) return { backend: ctx.data.shards[tenant], pause: { maxWaitMs: 300 } };
  return { backend: ctx.data.shards[tenant] ?? 'shard-a' };
}`,
    ...spec,
  });
}

const SHOP = ingress('shop', 'shop.test', [{ path: '/', service: 'shop' }]);

/** Polls `check` every 25 ms until it holds (bounded: then the test fails saying `what`). */
async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not in ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('pausing by an operator and by a script', () => {
  let env: ScriptedEnv | null = null;
  afterEach(async () => {
    await env?.close();
    env = null;
  });
  const start = async (data: Record<string, unknown>, spec: Record<string, unknown> = {}): Promise<ScriptedEnv> =>
    (env = await startScripted({ upstreams: { shop: null, 'shop-a': null, 'shop-b': null }, objects: () => [SHOP, shopScript(data, spec)], proxy: { workers: 1 } }));
  const data = { moving: [] as string[], slowDown: [] as string[], shards: { t1: 'shard-a', t2: 'shard-b' }, waitMs: 10_000 };

  it('an operator\'s spec.pause holds every request of the routes until it is set back; none fails', async () => {
    const e = await start(data, { pause: { enabled: true, maxWaitSeconds: 30 } });
    const traffic = steadyLoad(e.proxy, 'shop.test', '/', 8, { 'x-tenant': 't2' });
    await until(async () => (await metric(e.proxy, /signalbox_pause_held_requests\{kind="operator",gate="default\/tenants"\} (\d+)/)) === 8, 'every client held');
    assert.equal(traffic.results.length, 0, 'nothing answered while paused');
    assert.equal(e.ups['shop-b']!.seen.length, 0, 'nothing reached the backend while paused');
    await e.rewrite([SHOP, shopScript(data, { pause: { enabled: false, maxWaitSeconds: 30 } })]);
    await until(async () => traffic.results.length > 16, 'the held requests and more answered');
    await traffic.stop();
    assert.ok(traffic.results.length > 8);
    assert.deepEqual(new Set(traffic.results.map((r) => `${r.status} ${r.body}`)), new Set(['200 shop-b GET /']), 'held requests went on through the script to their shard');
    assert.ok((await metric(e.proxy, /signalbox_pause_released_total\{kind="operator",gate="default\/tenants"\} (\d+)/)) >= 8);
  });

  it('an operator\'s pause ends each request at its maximum wait with 503 and Retry-After', async () => {
    const e = await start(data, { pause: { enabled: true, maxWaitSeconds: 1 } });
    const started = performance.now();
    const res = await send(e.proxy, 'shop.test', '/', { 'x-tenant': 't1' });
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-signalbox-error'], 'pause-expired');
    assert.equal(res.headers['retry-after'], '1');
    assert.ok(performance.now() - started >= 950);
    // A WebSocket upgrade cannot be held: it is told to retry.
    const upgrade = await rawRequest(Number(new URL(e.proxy.http).port), 'GET /ws HTTP/1.1\r\nHost: shop.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    assert.equal(upgrade.status, 503);
    assert.equal(upgrade.headers['x-signalbox-error'], 'paused');
    assert.equal(upgrade.headers['retry-after'], '1');
    assert.equal(e.ups['shop-a']!.seen.length + e.ups['shop-b']!.seen.length, 0);
  });

  it('a script pauses the tenants being moved until their move shows in its data, then sends them to the new shard', async () => {
    const e = await start({ ...data, moving: ['t1'] });
    const moving = steadyLoad(e.proxy, 'shop.test', '/', 6, { 'x-tenant': 't1' });
    const others = steadyLoad(e.proxy, 'shop.test', '/', 2, { 'x-tenant': 't2' });
    await until(async () => (await metric(e.proxy, /signalbox_pause_held_requests\{kind="script",gate="default\/tenants"\} (\d+)/)) === 6 && others.results.length > 10, 'the moving tenant held, the others served');
    assert.equal(moving.results.length, 0, 'the tenant being moved waits');
    assert.ok(others.results.every((r) => r.body === 'shop-b GET /'), 'other tenants are served meanwhile');
    // The migration is done: t1 now lives on shard-b.
    await e.rewrite([SHOP, shopScript({ ...data, moving: [], shards: { t1: 'shard-b', t2: 'shard-b' } })]);
    await until(async () => moving.results.length > 12, 'the moved tenant served again');
    await Promise.all([moving.stop(), others.stop()]);
    assert.ok(moving.results.length > 6);
    assert.deepEqual(new Set(moving.results.map((r) => `${r.status} ${r.body}`)), new Set(['200 shop-b GET /']));
    assert.equal(e.ups['shop-a']!.seen.length, 0, 'no request of the moved tenant reached its old shard');
  });

  it('a script pause ends at its maxWaitMs with 503; one without `until` is a delay that then goes on', async () => {
    const e = await start({ ...data, moving: ['t1'], slowDown: ['t2'], waitMs: 400 });
    let started = performance.now();
    const held = await send(e.proxy, 'shop.test', '/', { 'x-tenant': 't1' });
    assert.equal(held.headers['x-signalbox-error'], 'pause-expired');
    assert.ok(performance.now() - started >= 380);
    started = performance.now();
    const delayed = await send(e.proxy, 'shop.test', '/', { 'x-tenant': 't2' });
    assert.equal(delayed.body, 'shop-b GET /');
    assert.ok(performance.now() - started >= 280, 'delayed by the pause');
    assert.equal(await metric(e.proxy, /signalbox_pause_expired_total\{kind="script",gate="default\/tenants"\} (\d+)/), 1, 'only the held request expired');
    assert.equal(await metric(e.proxy, /signalbox_pause_released_total\{kind="script",gate="default\/tenants"\} (\d+)/), 1, 'the delay ended as meant: released');
  });
});
