import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { addWebSocketEcho } from '../helpers/websocket-echo.ts';

/** The RouteScript of the issue, exactly as written there. */
const TENANT_SHARDS = {
  targetRefs: [{ kind: 'Ingress', name: 'storefront' }],
  backends: {
    'shard-a': { service: { name: 'shop-a', port: { number: 80 } } },
    'shard-b': { service: { name: 'shop-b', port: { number: 80 } } },
  },
  data: { shards: { '1': 'shard-a', '2': 'shard-b' } },
  limits: { timeoutMs: 5, memoryMiB: 16 },
  failurePolicy: 'fallback',
  code: `export function onRequest(req, ctx) {
  const name = ctx.data.shards[req.headers['x-shop-id']];
  if (!name) return { respond: { status: 404, body: 'unknown shop' } };
  return { backend: name, setHeaders: { 'x-shard': name } };
}
`,
};

describe('RouteScript decisions through the proxy', () => {
  let env: ScriptedEnv;
  before(async () => {
    env = await startScripted({
      namespace: 'shop',
      upstreams: { shop: null, 'shop-a': null, 'shop-b': null, other: null },
      objects: () => [
        ingress('storefront', 'shop.test', [{ path: '/', service: 'shop' }], { namespace: 'shop' }),
        ingress('plain', 'other.test', [{ path: '/', service: 'other' }], { namespace: 'shop' }),
        routeScript('tenant-shards', TENANT_SHARDS, 'shop'),
      ],
    });
  });
  after(() => env.close());

  it('sends each shop to its shard with the header the script set (the issue example)', async () => {
    const a = await send(env.proxy, 'shop.test', '/cart', { 'x-shop-id': '1' });
    assert.equal(a.status, 200);
    assert.equal(a.body, 'shop-a GET /cart');
    assert.equal(env.ups['shop-a']!.seen.at(-1)!.headers['x-shard'], 'shard-a');
    const b = await send(env.proxy, 'shop.test', '/cart?x=1', { 'x-shop-id': '2' });
    assert.equal(b.body, 'shop-b GET /cart?x=1');
    assert.equal(env.ups['shop-b']!.seen.at(-1)!.headers['x-shard'], 'shard-b');
    assert.equal(env.ups.shop!.seen.length, 0, 'the route\'s own backend got nothing');
  });

  it('answers an unknown shop itself, without going upstream', async () => {
    const before = env.ups['shop-a']!.seen.length + env.ups['shop-b']!.seen.length + env.ups.shop!.seen.length;
    const res = await send(env.proxy, 'shop.test', '/', { 'x-shop-id': '99' });
    assert.equal(res.status, 404);
    assert.equal(res.body, 'unknown shop');
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.headers['x-signalbox-error'], undefined, 'a script answer is not a proxy error');
    assert.equal(env.ups['shop-a']!.seen.length + env.ups['shop-b']!.seen.length + env.ups.shop!.seen.length, before);
  });

  it('leaves routes it does not target alone', async () => {
    const res = await send(env.proxy, 'other.test', '/', { 'x-shop-id': '99' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'other GET /');
  });

  it('counts runs and decisions by kind, and observes their duration', async () => {
    await send(env.proxy, 'shop.test', '/', { 'x-shop-id': '1' });
    assert.ok((await metric(env.proxy, /signalbox_script_invocations_total\{script="shop\/tenant-shards"\} (\d+)/)) >= 4);
    assert.ok((await metric(env.proxy, /signalbox_script_decisions_total\{script="shop\/tenant-shards",decision="backend"\} (\d+)/)) >= 3);
    assert.ok((await metric(env.proxy, /signalbox_script_decisions_total\{script="shop\/tenant-shards",decision="setHeaders"\} (\d+)/)) >= 3);
    assert.equal(await metric(env.proxy, /signalbox_script_decisions_total\{script="shop\/tenant-shards",decision="respond"\} (\d+)/), 1);
    assert.ok((await metric(env.proxy, /signalbox_script_duration_seconds_count\{script="shop\/tenant-shards"\} (\d+)/)) >= 4);
    assert.ok((await metric(env.proxy, /signalbox_http_requests_total\{route="Ingress\/shop\/storefront\/rule\/0\/path\/0",cluster="shop\/shop-a:80",code="200"\} (\d+)/)) >= 2,
      'requests are counted against the backend the script chose');
  });
});

describe('RouteScript request view, header edits, hash keys and answers', () => {
  let env: ScriptedEnv;
  const script = (code: string, extra: Record<string, unknown> = {}): object =>
    routeScript('s', { targetRefs: [{ kind: 'Ingress', name: 'app' }], code, ...extra });
  before(async () => {
    env = await startScripted({
      upstreams: { app: null, ring: null, ring2: null, ring3: null },
      annotations: { ring: { 'signalbox.dev/lb-policy': 'ring-hash' } },
      extraEndpoints: (ups) => ({ ring: [{ port: ups.ring2!.port }, { port: ups.ring3!.port }] }),
      objects: () => [ingress('app', 'app.test', [{ path: '/', service: 'app' }]), script('export function onRequest() { return null; }')],
    });
  });
  after(() => env.close());

  it('sees the request as it arrived: method, host, path, query, headers, cookies, client address', async () => {
    await env.rewrite([
      ingress('app', 'app.test', [{ path: '/', service: 'app' }]),
      script(`export function onRequest(req) {
        return { setHeaders: { 'x-seen': JSON.stringify([req.method, req.host, req.path, req.query, req.headers['x-a'], req.cookies, req.clientIp, req.sni]) } };
      }`),
    ]);
    await send(env.proxy, 'APP.test:80', '/p/../q?a=1&a=2&b=%20x', { 'x-a': 'v', cookie: 'c1=1; c2="two"' }, { method: 'POST', body: 'x' });
    const seen = JSON.parse(String(env.ups.app!.seen.at(-1)!.headers['x-seen'])) as unknown[];
    assert.deepEqual(seen, ['POST', 'app.test', '/q', { a: ['1', '2'], b: ' x' }, 'v', { c1: '1', c2: '"two"' }, '127.0.0.1', null]);
  });

  it('sets and removes request headers, replacing what the client sent', async () => {
    await env.rewrite([
      ingress('app', 'app.test', [{ path: '/', service: 'app' }]),
      script(`export function onRequest(req) {
        return { setHeaders: { 'X-User': 'alice', authorization: 'Bearer edge' }, removeHeaders: ['cookie', 'X-Debug'] };
      }`),
    ]);
    await send(env.proxy, 'app.test', '/', { 'x-user': 'mallory', authorization: 'Basic abc', cookie: 'a=1', 'x-debug': '1', 'x-keep': 'k' });
    const { rawHeaders, headers } = env.ups.app!.seen.at(-1)!;
    assert.equal(headers['x-user'], 'alice');
    assert.equal(headers.authorization, 'Bearer edge');
    assert.equal(headers.cookie, undefined);
    assert.equal(headers['x-debug'], undefined);
    assert.equal(headers['x-keep'], 'k');
    assert.equal(rawHeaders.filter((h) => h.toLowerCase() === 'x-user').length, 1, 'the client\'s copy is gone, not duplicated');
    assert.equal(headers['x-forwarded-for'], '127.0.0.1', 'forwarding headers are still the proxy\'s');
  });

  it('answers with status, headers and body: a redirect, and HEAD without a body', async () => {
    await env.rewrite([
      ingress('app', 'app.test', [{ path: '/', service: 'app' }]),
      script(`export function onRequest(req) {
        return { respond: { status: 308, headers: { location: 'https://app.test' + req.path, 'cache-control': 'no-store' }, body: 'moved' } };
      }`),
    ]);
    const res = await send(env.proxy, 'app.test', '/x');
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, 'https://app.test/x');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.body, 'moved');
    const head = await send(env.proxy, 'app.test', '/x', {}, { method: 'HEAD' });
    assert.equal(head.status, 308);
    assert.equal(head.body, '');
  });

  it('gives the consistent-hash policy its key: one key, one endpoint; the request\'s own headers do not matter', async () => {
    await env.rewrite([
      ingress('app', 'app.test', [{ path: '/', service: 'app' }]),
      routeScript('s', {
        targetRefs: [{ kind: 'Ingress', name: 'app' }],
        backends: { ring: { service: { name: 'ring', port: { number: 80 } } } },
        code: `export function onRequest(req) { return { backend: 'ring', hashKey: req.headers['x-tenant'] ?? 'none' }; }`,
      }),
    ]);
    const used = new Set<string>();
    for (let t = 0; t < 12; t++) {
      const bodies = new Set<string>();
      for (let i = 0; i < 4; i++) bodies.add((await send(env.proxy, 'app.test', '/', { 'x-tenant': `t${t}`, 'x-noise': String(i) })).body);
      assert.equal(bodies.size, 1, `tenant t${t} always lands on the same endpoint: ${[...bodies].join(', ')}`);
      used.add([...bodies][0]!);
    }
    assert.ok(used.size >= 2, `the keys spread over the endpoints: ${[...used].join(', ')}`);
  });

  it('runs on WebSocket upgrades too: refuses without a token, tunnels with one and its headers', async () => {
    const heads = addWebSocketEcho(env.ups.app!.server);
    await env.rewrite([
      ingress('app', 'app.test', [{ path: '/', service: 'app' }]),
      script(`export function onRequest(req) {
        if (req.query.token !== 'ok') return { respond: { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: 'token required' } };
        return { setHeaders: { 'x-user': 'ws-user' } };
      }`),
    ]);
    const port = Number(new URL(env.proxy.http).port);
    const upgrade = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const refused = await rawRequest(port, upgrade('/chat'));
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['www-authenticate'], 'Bearer');
    assert.equal(refused.body, 'token required');
    assert.equal(heads.length, 0);
    const accepted = await rawRequest(port, upgrade('/chat?token=ok'), 500);
    assert.equal(accepted.status, 101);
    assert.equal(heads.length, 1);
    assert.equal(heads[0]!.headers['x-user'], 'ws-user');
  });
});
