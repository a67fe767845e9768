import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';

/** Tenants the shard directory knows; it counts how often it is asked. */
const DIRECTORY: Record<string, string> = { '7': 'shard-a', '8': 'shard-b' };

describe('RouteScript helpers through the proxy: ctx.state, ctx.lookup, ctx.hash', () => {
  let env: ScriptedEnv;
  before(async () => {
    env = await startScripted({
      upstreams: {
        app: null,
        'shop-a': null,
        'shop-b': null,
        directory: (req, res) => {
          const key = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
          const shard = DIRECTORY[key];
          if (key === 'slow') setTimeout(() => res.end('shard-a'), 500);
          else if (shard === undefined) res.writeHead(404).end();
          else res.end(shard);
        },
      },
      objects: () => [
        ingress('app', 'app.test', [{ path: '/limited', service: 'app' }, { path: '/shops', service: 'app' }, { path: '/hashed', service: 'app' }]),
        routeScript('throttle', {
          targetRefs: [{ kind: 'Ingress', name: 'app', path: '/limited' }],
          code: `export function onRequest(req, ctx) {
            const used = ctx.state.incr('ip:' + req.clientIp, 1, 60000);
            if (used > 3) return { respond: { status: 429, headers: { 'retry-after': '60' }, body: 'slow down' } };
            ctx.log('request', used, 'from', req.clientIp);
            return { setHeaders: { 'x-used': String(used) } };
          }`,
        }),
        routeScript('directory', {
          targetRefs: [{ kind: 'Ingress', name: 'app', path: '/shops' }],
          backends: { 'shard-a': { service: { name: 'shop-a', port: { number: 80 } } }, 'shard-b': { service: { name: 'shop-b', port: { number: 80 } } } },
          lookup: { service: { name: 'directory', port: { number: 80 } }, path: '/shards/{key}', cacheTtlSeconds: 60, timeoutMs: 200 },
          limits: { timeoutMs: 300, memoryMiB: 16 },
          code: `export async function onRequest(req, ctx) {
            const shop = req.path.split('/')[2];
            let shard;
            try { shard = await ctx.lookup(shop); } catch (e) { return { respond: { status: 503, body: e.message } }; }
            if (shard === null) return { respond: { status: 404, body: 'unknown shop ' + shop } };
            return { backend: shard };
          }`,
        }),
        routeScript('hashed', {
          targetRefs: [{ kind: 'Ingress', name: 'app', path: '/hashed' }],
          backends: { 'shard-a': { service: { name: 'shop-a', port: { number: 80 } } }, 'shard-b': { service: { name: 'shop-b', port: { number: 80 } } } },
          code: `const shards = ['shard-a', 'shard-b'];
          export function onRequest(req, ctx) { return { backend: shards[ctx.hash(req.headers['x-user'] ?? '') % shards.length] }; }`,
        }),
      ],
      proxy: { workers: 1 },
    });
  });
  after(() => env.close());

  it('ctx.state counts per client across requests: the fourth request in the window is throttled', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(env.proxy, 'app.test', '/limited')).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.deepEqual(env.ups.app!.seen.filter((s) => s.url === '/limited').map((s) => s.headers['x-used']), ['1', '2', '3']);
    const throttled = await send(env.proxy, 'app.test', '/limited');
    assert.equal(throttled.headers['retry-after'], '60');
    assert.equal(throttled.body, 'slow down');
  });

  it('ctx.state survives a table swap that keeps the route and its script', async () => {
    // A new Ingress elsewhere: a new table, the same route and script.
    await env.rewrite([...env.objects, ingress('elsewhere', 'elsewhere.test', [{ path: '/', service: 'app' }])]);
    assert.equal((await send(env.proxy, 'app.test', '/limited')).status, 429);
  });

  it('ctx.lookup asks the lookup Service for the shard, once per shop while cached', async () => {
    const asked = (): number => env.ups.directory!.seen.length;
    const before = asked();
    const a = await send(env.proxy, 'app.test', '/shops/7/cart');
    assert.equal(a.body, 'shop-a GET /shops/7/cart');
    const b = await send(env.proxy, 'app.test', '/shops/8/cart');
    assert.equal(b.body, 'shop-b GET /shops/8/cart');
    for (let i = 0; i < 5; i++) assert.equal((await send(env.proxy, 'app.test', '/shops/7/x')).body, 'shop-a GET /shops/7/x');
    assert.equal(asked() - before, 2, 'one directory request per shop');
    assert.equal(env.ups.directory!.seen.at(-1)!.url, '/shards/8');
    const unknown = await send(env.proxy, 'app.test', '/shops/99/cart');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body, 'unknown shop 99');
  });

  it('a lookup slower than its timeout is an error the script handles', async () => {
    const res = await send(env.proxy, 'app.test', '/shops/slow/cart');
    assert.equal(res.status, 503);
    assert.equal(res.body, 'the lookup timed out after 200 ms');
  });

  it('ctx.hash spreads users over the shards, the same user always to the same shard', async () => {
    const seen = new Map<string, string>();
    for (let u = 0; u < 16; u++) {
      for (let i = 0; i < 2; i++) {
        const body = (await send(env.proxy, 'app.test', '/hashed', { 'x-user': `user-${u}` })).body;
        if (seen.has(`user-${u}`)) assert.equal(body, seen.get(`user-${u}`));
        seen.set(`user-${u}`, body);
      }
    }
    assert.deepEqual(new Set(seen.values()), new Set(['shop-a GET /hashed', 'shop-b GET /hashed']));
  });
});
