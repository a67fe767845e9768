/**
 * RouteScripts as the compiler attaches them — several on one route, in their declared order — with
 * `rewrite`, `redirect` and `onResponse`, served through real sockets to real upstreams. No table
 * edits: what a user writes in manifests is what runs.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';
import { addWebSocketEcho } from '../helpers/websocket-echo.ts';

/** The API answers 502 on /api/broken (a failing backend), else the default echo. */
function api(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  req.resume();
  req.on('end', () => {
    if (req.url?.startsWith('/v2/broken') === true || req.url?.startsWith('/api/broken') === true) {
      res.writeHead(502, { 'content-type': 'text/plain', server: 'gunicorn/21' });
      return res.end('upstream broke');
    }
    res.writeHead(200, { 'content-type': 'text/plain', server: 'gunicorn/21', 'x-upstream': 'api' });
    res.end(`api ${req.method} ${req.url} user=${req.headers['x-user'] ?? '-'}`);
  });
}

describe('RouteScript chains, rewrite, redirect and onResponse on real traffic', () => {
  let env: ScriptedEnv;
  const upgrades: IncomingMessage[] = [];

  before(async () => {
    env = await startScripted({
      upstreams: { api, beta: null, ws: null, down: null },
      objects: () => [
        ingress('shop', 'shop.test', [{ path: '/api', service: 'api' }, { path: '/old', service: 'api' }, { path: '/ws', service: 'ws' }, { path: '/down', service: 'down' }]),
        // Targets the Service: runs second on /api (the path-targeted script is more specific).
        routeScript('beta-users', {
          targetRefs: [{ kind: 'Service', name: 'api' }],
          backends: { beta: { service: { name: 'beta', port: { number: 80 } } } },
          code: `export function onRequest(req) {
            return req.headers['x-user'] === 'tester' ? { backend: 'beta', setHeaders: { 'x-beta': 'yes' } } : null;
          }`,
        }),
        // Targets the Ingress path /api: runs first there.
        routeScript('api-auth', {
          targetRefs: [{ kind: 'Ingress', name: 'shop', path: '/api' }],
          code: `const keys = { k1: 'alice', k2: 'tester' };
          export function onRequest(req) {
            const user = keys[req.headers['x-api-key']];
            if (user === undefined) return { respond: { status: 401, body: 'no key' } };
            return { setHeaders: { 'x-user': user }, removeHeaders: ['x-api-key'], rewrite: { path: req.path.replace(/^\\/api/, '/v2') } };
          }
          export function onResponse(res) {
            // The request as this onRequest saw it: the client's key, not the x-user it set itself.
            const user = keys[res.request.headers['x-api-key']] ?? 'nobody';
            if (res.status >= 500) return { respond: { status: 503, headers: { 'retry-after': '7' }, body: 'sorry, ' + user } };
            return { setHeaders: { 'x-served-for': user }, removeHeaders: ['server'] };
          }`,
        }),
        routeScript('moved', {
          targetRefs: [{ kind: 'Ingress', name: 'shop', path: '/old' }],
          code: `export function onRequest(req) { return { redirect: { status: 308, location: 'https://new.shop.test' + req.path.slice(4) } }; }`,
        }),
        routeScript('down-page', {
          targetRefs: [{ kind: 'Service', name: 'down' }],
          code: `export function onResponse(res) {
            return res.status >= 500 ? { respond: { status: 503, headers: { 'content-type': 'text/html' }, body: '<p>down for maintenance (' + res.headers['x-signalbox-error'] + ')</p>' } } : null;
          }`,
        }),
        routeScript('ws-auth', {
          targetRefs: [{ kind: 'Ingress', name: 'shop', path: '/ws' }],
          code: `export function onRequest(req) {
            if (req.headers['x-ticket'] !== 'ok') return { respond: { status: 403, body: 'no ticket' } };
            return { setHeaders: { 'x-ws-user': 'ticket-holder' }, rewrite: { path: '/socket' + req.path.slice(3) } };
          }`,
        }),
      ],
    });
    addWebSocketEcho(env.ups.ws!.server, upgrades);
    // The Service's only endpoint stops listening: every attempt fails to connect.
    await env.ups.down!.close();
  });
  after(() => env.close());

  it('the compiler puts both scripts on /api, the path-targeted one first', () => {
    const route = env.proxy.current()!.table.virtualHosts[0]!.routes.find((r) => r.match.path.value === '/api')!;
    assert.deepEqual(route.filters, [{ type: 'RouteScript', script: 'default/api-auth' }, { type: 'RouteScript', script: 'default/beta-users' }]);
  });

  it('/debug/scripts shows each route’s chain in the order it runs', async () => {
    const report = (await (await fetch(`${env.proxy.debug}/debug/scripts`)).json()) as { id: string; chains: Record<string, string[]> }[];
    const beta = report.find((s) => s.id === 'default/beta-users')!;
    assert.deepEqual(beta.chains['Ingress/default/shop/rule/0/path/0'], ['default/api-auth', 'default/beta-users']);
  });

  it('a later script sees the headers the earlier one set; the rewrite and the headers reach the upstream', async () => {
    const res = await send(env.proxy, 'shop.test', '/api/orders?page=2', { 'x-api-key': 'k2' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'beta GET /v2/orders?page=2', 'beta-users saw x-user set by api-auth and chose its backend');
    const seen = env.ups.beta!.seen.at(-1)!;
    assert.equal(seen.headers['x-user'], 'tester');
    assert.equal(seen.headers['x-beta'], 'yes');
    assert.equal(seen.headers['x-api-key'], undefined, 'the key was removed before the upstream');
  });

  it('a respond ends the chain: the later script and the upstreams see nothing', async () => {
    const before = env.ups.api!.seen.length + env.ups.beta!.seen.length;
    const res = await send(env.proxy, 'shop.test', '/api/orders', { 'x-api-key': 'wrong' });
    assert.equal(res.status, 401);
    assert.equal(res.body, 'no key');
    assert.equal(env.ups.api!.seen.length + env.ups.beta!.seen.length, before);
  });

  it('onResponse edits the upstream response headers, with the request as its onRequest saw it', async () => {
    const res = await send(env.proxy, 'shop.test', '/api/cart', { 'x-api-key': 'k1' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'api GET /v2/cart user=alice');
    assert.equal(res.headers['x-served-for'], 'alice');
    assert.equal(res.headers.server, undefined, 'removeHeaders dropped Server');
  });

  it('onResponse replaces an upstream error response, body included', async () => {
    const res = await send(env.proxy, 'shop.test', '/api/broken', { 'x-api-key': 'k1' });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '7');
    assert.equal(res.body, 'sorry, alice');
    assert.equal(env.ups.api!.seen.at(-1)!.url, '/v2/broken', 'the upstream did answer 502 first');
  });

  it('onResponse also sees the proxy’s own answers on the route: a respond that ended the chain', async () => {
    const res = await send(env.proxy, 'shop.test', '/api/orders', { 'x-api-key': 'nope' });
    assert.equal(res.status, 401);
    assert.equal(res.headers['x-served-for'], 'nobody', 'api-auth’s onResponse ran on its own 401');
  });

  it('onResponse replaces the proxy’s own 502 when the upstream cannot be reached', async () => {
    const res = await send(env.proxy, 'shop.test', '/down/status');
    assert.equal(res.status, 503);
    assert.equal(res.headers['content-type'], 'text/html');
    assert.equal(res.body, '<p>down for maintenance (upstream-refused)</p>');
  });

  it('a redirect decision answers with its status and Location, nothing upstream', async () => {
    const before = env.ups.api!.seen.length;
    const res = await send(env.proxy, 'shop.test', '/old/shoes?size=9');
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, 'https://new.shop.test/shoes');
    assert.equal(env.ups.api!.seen.length, before);
  });

  it('an upgrade runs the same script phase: refused without a ticket, rewritten and edited with one', async () => {
    const port = env.proxy.ports.http;
    const head = (extra: string): string => `GET /ws/chat HTTP/1.1\r\nHost: shop.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
    const refused = await rawRequest(port, head(''));
    assert.equal(refused.status, 403);
    assert.equal(upgrades.length, 0);
    const accepted = await rawRequest(port, head('X-Ticket: ok\r\n'), 500);
    assert.equal(accepted.status, 101, accepted.raw);
    const seen = upgrades.at(-1)!;
    assert.equal(seen.url, '/socket/chat');
    assert.equal(seen.headers['x-ws-user'], 'ticket-holder');
  });
});
