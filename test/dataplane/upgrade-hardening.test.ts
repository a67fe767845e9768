/**
 * Upgrade requests cannot carry traffic past routing and RouteScripts: a tunnel opens only after the
 * endpoint's 101 to a protocol the Service allows, and everything else stays HTTP, parsed one
 * request at a time. Each test reads the upstream's own log of what reached it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { converse } from '../helpers/conversation.ts';
import { ingress, ingressClass, removeDir, routeScript, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric, waitForMetric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { okResponse, startRawUpstream, type RawAnswer, type RawUpstream, type RawUpstreamRequest } from '../helpers/raw-upstream.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/** An upgrade request head (WebSocket unless `protocol` says otherwise). */
function upgradeHead(host: string, path: string, protocol = 'websocket', extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

function switching(protocol: string, delayMs?: number): RawAnswer {
  return { response: `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${protocol}\r\nConnection: Upgrade\r\n\r\n`, switches: true, ...(delayMs === undefined ? {} : { delayMs }) };
}

/** How the raw upstream answers, by request target. */
function answer(req: RawUpstreamRequest): RawAnswer {
  const upgrade = req.headers.upgrade;
  switch (req.target) {
    case '/ws/refuse':
      return { response: 'HTTP/1.1 426 Upgrade Required\r\ncontent-type: text/plain\r\ncontent-length: 15\r\nconnection: keep-alive\r\n\r\nupgrade refused' };
    case '/ws/switch':
      return switching('websocket');
    case '/ws/slow-switch':
      // Long enough for bytes the proxy sent ahead of the 101 to arrive and be logged.
      return switching('websocket', 150);
    case '/ws/wrong-switch':
      return switching('h2c');
    case '/ws/slow':
      return { response: okResponse('slow'), delayMs: 100 };
    default:
      if (upgrade !== undefined) return switching(upgrade);
      return { response: okResponse(`raw ${req.method} ${req.target} ${req.body}`) };
  }
}

describe('upgrade hardening', { timeout: 20_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let raw: RawUpstream;
  let plain: TestUpstream;
  let port: number;

  before(async () => {
    raw = await startRawUpstream(answer);
    plain = await startUpstream('plain');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('raw', [{ port: raw.port }]),
      ...serviceWithEndpoints('proto', [{ port: raw.port }], 'default', { 'signalbox.dev/upgrade-protocols': 'websocket, my-proto' }),
      ...serviceWithEndpoints('plain', [{ port: plain.port }]),
      // Only /ws is routed on raw.test: anything else there is no-route.
      ingress('raw', 'raw.test', [{ path: '/ws', service: 'raw' }]),
      ingress('proto', 'proto.test', [{ path: '/', service: 'proto' }]),
      ingress('plain', 'plain.test', [{ path: '/', service: 'plain' }]),
      // On proto.test a RouteScript blocks /admin and can send a request to the raw Service instead.
      routeScript('guard', {
        targetRefs: [{ kind: 'Ingress', name: 'proto' }],
        backends: { raw: { service: { name: 'raw', port: { number: 80 } } } },
        code: `export function onRequest(req) {
          if (req.path === '/admin') return { respond: { status: 403, body: 'blocked by script' } };
          if (req.query.to === 'raw') return { backend: 'raw' };
          return null;
        }`,
      }),
    ]);
    proxy = await startProxy(dir);
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await raw.close();
    await plain.close();
    await removeDir(dir);
  });

  /** What the raw upstream logged from now on. */
  function logFrom(): { requests: () => RawUpstreamRequest[]; received: () => string } {
    const requests = raw.requests.length;
    const connections = raw.connections.length;
    return {
      requests: () => raw.requests.slice(requests),
      received: () => raw.connections.slice(connections).map((c) => c.received).join(''),
    };
  }

  it('routes a request pipelined after an upgrade the endpoint refused, instead of sending it down the upgrade connection', async () => {
    const log = logFrom();
    const c = await converse(port);
    c.write(`${upgradeHead('raw.test', '/ws/refuse')}GET /internal HTTP/1.1\r\nHost: raw.test\r\n\r\n`);
    const refused = await c.next();
    assert.equal(refused.status, 426);
    assert.equal(refused.body, 'upgrade refused');
    // The pipelined request was parsed and routed by the proxy: there is no route for it.
    const internal = await c.next();
    assert.equal(internal.status, 404);
    assert.equal(internal.headers['x-signalbox-error'], 'no-route');
    c.close();
    // The upstream got the upgrade request and not one byte of the pipelined one.
    assert.deepEqual(log.requests().map((r) => r.target), ['/ws/refuse']);
    assert.ok(!log.received().includes('/internal'), log.received());
    await waitForMetric(proxy, /signalbox_upgrades_total\{outcome="refused-by-upstream"\} [1-9]/);
  });

  it('keeps the connection usable after an upgrade the endpoint refused: the next requests are proxied one by one', async () => {
    const log = logFrom();
    const accepted = await metric(proxy, /signalbox_connections_total\{listener="http"\} (\d+)/);
    const c = await converse(port);
    c.write(upgradeHead('raw.test', '/ws/refuse'));
    assert.equal((await c.next()).status, 426);
    c.write('GET /ws/next HTTP/1.1\r\nHost: raw.test\r\n\r\n');
    const next = await c.next();
    assert.equal(next.status, 200);
    assert.equal(next.body, 'raw GET /ws/next ');
    // And a later upgrade on the same connection that the endpoint accepts becomes a tunnel.
    c.write(upgradeHead('raw.test', '/ws/switch'));
    assert.equal((await c.next()).status, 101);
    c.write('ping');
    assert.equal(await c.bytes('echo:ping'.length), 'echo:ping');
    c.close();
    const [upgrade, plainNext, tunnel] = log.requests();
    assert.equal(upgrade?.target, '/ws/refuse');
    // The next request reached the upstream as a proxied request: on a connection of the proxy's
    // pool, not the upgrade's, with the forwarding headers the proxy sets.
    assert.equal(plainNext?.target, '/ws/next');
    assert.notEqual(plainNext.conn, upgrade.conn);
    assert.equal(plainNext.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(tunnel?.target, '/ws/switch');
    assert.equal(log.requests().length, 3);
    // One client connection, counted once although the proxy parsed it anew after the refusal.
    assert.equal(await metric(proxy, /signalbox_connections_total\{listener="http"\} (\d+)/), accepted + 1);
  });

  it('answers an upgrade pipelined behind a slow request only after that request\'s response, in order', async () => {
    const log = logFrom();
    const c = await converse(port);
    c.write(`GET /ws/slow HTTP/1.1\r\nHost: raw.test\r\n\r\n${upgradeHead('raw.test', '/ws/refuse')}GET /ws/next HTTP/1.1\r\nHost: raw.test\r\n\r\n`);
    assert.equal((await c.next()).body, 'slow');
    assert.equal((await c.next()).status, 426);
    assert.equal((await c.next()).body, 'raw GET /ws/next ');
    c.close();
    assert.deepEqual(log.requests().map((r) => r.target).sort(), ['/ws/next', '/ws/refuse', '/ws/slow']);
  });

  it('does the same over HTTPS (HTTP/1.1 by ALPN): a refused upgrade, then the pipelined request routed', async () => {
    const log = logFrom();
    const c = await converse(Number(new URL(proxy.https).port), { servername: 'raw.test' });
    c.write(`${upgradeHead('raw.test', '/ws/refuse')}GET /internal HTTP/1.1\r\nHost: raw.test\r\n\r\nGET /ws/next HTTP/1.1\r\nHost: raw.test\r\n\r\n`);
    assert.equal((await c.next()).status, 426);
    assert.equal((await c.next()).headers['x-signalbox-error'], 'no-route');
    const next = await c.next();
    assert.equal(next.body, 'raw GET /ws/next ');
    c.close();
    const [upgrade, plainNext] = log.requests();
    assert.equal(upgrade?.target, '/ws/refuse');
    assert.equal(plainNext?.target, '/ws/next');
    assert.equal(plainNext.headers['x-forwarded-proto'], 'https');
    assert.equal(log.requests().length, 2);
    assert.ok(!log.received().includes('/internal'));
  });

  it('does not forward bytes pipelined after an upgrade request before the endpoint answered 101', async () => {
    const log = logFrom();
    const c = await converse(port);
    c.write(`${upgradeHead('raw.test', '/ws/slow-switch')}EARLY`);
    const switched = await c.next();
    assert.equal(switched.status, 101);
    assert.equal(switched.headers.upgrade, 'websocket');
    assert.equal(await c.bytes('echo:EARLY'.length), 'echo:EARLY');
    c.close();
    const conn = raw.connections.find((k) => k.received.includes('/ws/slow-switch'));
    assert.ok(conn !== undefined);
    // Nothing arrived between the request head and the 101; the bytes came through the tunnel after it.
    assert.equal(conn.beforeSwitch, '');
    assert.equal(conn.tunnelled, 'EARLY');
    assert.deepEqual(log.requests().map((r) => r.target), ['/ws/slow-switch']);
  });

  it('serves an h2c upgrade as plain HTTP/1.1: the upstream sees no Upgrade or HTTP2-Settings, and a pipelined request follows', async () => {
    const seen = plain.seen.length;
    const c = await converse(port);
    c.write(
      'GET /h2 HTTP/1.1\r\nHost: plain.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n' +
        'GET /after-h2 HTTP/1.1\r\nHost: plain.test\r\n\r\n',
    );
    const first = await c.next();
    assert.equal(first.status, 200);
    assert.equal(first.body, 'plain GET /h2');
    assert.equal(first.headers.upgrade, undefined);
    const second = await c.next();
    assert.equal(second.body, 'plain GET /after-h2');
    c.close();
    const [h2, afterH2] = plain.seen.slice(seen);
    assert.equal(h2?.url, '/h2');
    assert.equal(h2.headers.upgrade, undefined);
    assert.equal(h2.headers['http2-settings'], undefined);
    assert.doesNotMatch(String(h2.headers.connection ?? ''), /upgrade|http2-settings/i);
    assert.equal(afterH2?.url, '/after-h2');
    await waitForMetric(proxy, /signalbox_upgrades_total\{outcome="not-allowed"\} [1-9]/);
  });

  it('serves an upgrade to a protocol the Service does not allow as a plain request', async () => {
    const log = logFrom();
    const c = await converse(port);
    c.write(upgradeHead('raw.test', '/ws/custom', 'my-proto'));
    const reply = await c.next();
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'raw GET /ws/custom ');
    c.close();
    const [req] = log.requests();
    assert.equal(req?.target, '/ws/custom');
    assert.equal(req.headers.upgrade, undefined);
    assert.equal(req.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('tunnels a protocol that the Service allows with signalbox.dev/upgrade-protocols', async () => {
    const log = logFrom();
    const c = await converse(port);
    c.write(upgradeHead('proto.test', '/custom', 'my-proto'));
    const switched = await c.next();
    assert.equal(switched.status, 101);
    assert.equal(switched.headers.upgrade, 'my-proto');
    c.write('hello');
    assert.equal(await c.bytes('echo:hello'.length), 'echo:hello');
    c.close();
    const [req] = log.requests();
    assert.equal(req?.headers.upgrade, 'my-proto');
    assert.equal(req.headers.connection, 'upgrade');
  });

  it('runs the RouteScript on a request pipelined after a refused upgrade, and follows a script\'s backend that does not allow the protocol', async () => {
    const log = logFrom();
    const c = await converse(port);
    // The script sends this one to the raw Service, which allows only websocket: it goes without its Upgrade.
    c.write(`${upgradeHead('proto.test', '/custom?to=raw', 'my-proto')}GET /admin HTTP/1.1\r\nHost: proto.test\r\n\r\n`);
    const first = await c.next();
    assert.equal(first.status, 200);
    assert.equal(first.body, 'raw GET /custom?to=raw ');
    const admin = await c.next();
    assert.equal(admin.status, 403);
    assert.equal(admin.body, 'blocked by script');
    c.close();
    const [req] = log.requests();
    assert.equal(req?.target, '/custom?to=raw');
    assert.equal(req.headers.upgrade, undefined);
    assert.doesNotMatch(req.headers.connection ?? '', /upgrade/i);
    assert.equal(log.requests().length, 1, 'the blocked request never reached the upstream');
  });

  it('serves an upgrade request with a body as a plain request, body and all, then the request pipelined after it', async () => {
    const log = logFrom();
    const c = await converse(port);
    c.write(
      'POST /ws/body HTTP/1.1\r\nHost: raw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello' +
        'GET /ws/after-body HTTP/1.1\r\nHost: raw.test\r\n\r\n',
    );
    assert.equal((await c.next()).body, 'raw POST /ws/body hello');
    assert.equal((await c.next()).body, 'raw GET /ws/after-body ');
    c.close();
    const [post, get] = log.requests();
    assert.ok(post !== undefined && get !== undefined);
    assert.equal(post.headers.upgrade, undefined);
    assert.equal(post.body, 'hello');
    assert.equal(get.target, '/ws/after-body');
    assert.equal(get.headers.upgrade, undefined);
    await waitForMetric(proxy, /signalbox_upgrades_total\{outcome="with-body"\} [1-9]/);
  });

  it('refuses a 101 that switches to a protocol the client did not offer', async () => {
    const c = await converse(port);
    c.write(upgradeHead('raw.test', '/ws/wrong-switch'));
    const reply = await c.next();
    assert.equal(reply.status, 502);
    assert.equal(reply.headers['x-signalbox-error'], 'upstream-protocol-error');
    await c.closed;
  });
});
