import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { clusterOf, editRoutes } from '../helpers/table-edits.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';
import { addWebSocketEcho } from '../helpers/websocket-echo.ts';

describe('route filters', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let app: TestUpstream;
  let mirror: TestUpstream;
  const upgrades: IncomingMessage[] = [];

  before(async () => {
    app = await startUpstream('app');
    addWebSocketEcho(app.server, upgrades);
    mirror = await startUpstream('mirror');
    dir = await tempManifestDir();
    const paths = ['/headers', '/response', '/redirect', '/redirect-port', '/rewrite', '/regex', '/mirror', '/ws', '/ws-redirect'];
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      ...serviceWithEndpoints('mirror', [{ port: mirror.port }]),
      // The mirror's cluster exists in the table because a path names its Service.
      ingress('f', null, [...paths.map((path) => ({ path, service: 'app' })), { path: '/mirror-target', service: 'mirror' }]),
    ]);
    proxy = await startProxy(dir, {
      editTable: editRoutes({
        '/headers': () => ({
          filters: [{ type: 'RequestHeaderModifier', set: [{ name: 'x-set', value: 'new' }, { name: 'x-forwarded-proto', value: 'https' }], add: [{ name: 'x-add', value: 'two' }], remove: ['x-drop'] }],
        }),
        '/response': () => ({
          filters: [{ type: 'ResponseHeaderModifier', set: [{ name: 'x-upstream', value: 'hidden' }], add: [{ name: 'x-added', value: 'yes' }], remove: ['content-type'] }],
        }),
        '/redirect': () => ({
          filters: [{ type: 'RequestRedirect', scheme: 'https', hostname: 'secure.example', path: { type: 'ReplacePrefixMatch', value: '/new' }, statusCode: 301 }],
        }),
        '/redirect-port': () => ({ filters: [{ type: 'RequestRedirect', port: 8443, statusCode: 302 }] }),
        '/rewrite': () => ({ filters: [{ type: 'URLRewrite', hostname: 'internal.svc', path: { type: 'ReplacePrefixMatch', value: '/v2' } }] }),
        '/regex': () => ({ filters: [{ type: 'URLRewrite', path: { type: 'ReplaceRegexMatch', pattern: '/regex/([a-z]+)/([0-9]+)', substitution: '/items/$2/$1' } }] }),
        '/mirror': () => ({ filters: [{ type: 'RequestMirror', cluster: clusterOf('mirror'), percent: 100 }, { type: 'RequestHeaderModifier', set: [{ name: 'x-edited', value: '1' }] }] }),
        '/ws': () => ({ filters: [{ type: 'RequestHeaderModifier', set: [{ name: 'x-ws', value: 'edited' }] }, { type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/socket' } }] }),
        '/ws-redirect': () => ({ filters: [{ type: 'RequestRedirect', hostname: 'other.example', statusCode: 308 }] }),
      }),
    });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await mirror.close();
    await removeDir(dir);
  });

  it('RequestHeaderModifier sets, adds and removes request fields, after the forwarding headers', async () => {
    const res = await fetch(`${proxy.http}/headers`, { headers: { 'x-set': 'old', 'x-add': 'one', 'x-drop': 'secret' } });
    assert.equal(res.status, 200);
    await res.text();
    const seen = app.seen.at(-1)!;
    assert.equal(seen.headers['x-set'], 'new');
    assert.equal(seen.headers['x-add'], 'one, two');
    assert.equal(seen.headers['x-drop'], undefined);
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
  });

  it('ResponseHeaderModifier edits the upstream response head before the client sees it', async () => {
    const res = await fetch(`${proxy.http}/response`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-upstream'), 'hidden');
    assert.equal(res.headers.get('x-added'), 'yes');
    assert.equal(res.headers.get('content-type'), null);
    assert.equal(await res.text(), 'app GET /response');
  });

  it('RequestRedirect answers with a Location built from the request, the default port left out, the query kept', async () => {
    const before = app.seen.length;
    const res = await fetch(`${proxy.http}/redirect/a/b?q=1`, { redirect: 'manual' });
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), 'https://secure.example/new/a/b?q=1');
    const other = await rawRequest(port, 'GET /redirect-port/x HTTP/1.1\r\nHost: shop.example:8080\r\nConnection: close\r\n\r\n');
    assert.equal(other.status, 302);
    assert.equal(other.headers.location, 'http://shop.example:8443/redirect-port/x');
    assert.equal(app.seen.length, before, 'a redirect never goes upstream');
  });

  it('URLRewrite changes the Host and path the upstream receives; X-Forwarded-Host keeps the original', async () => {
    const res = await rawRequest(port, 'GET /rewrite/list?page=2 HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    const seen = app.seen.at(-1)!;
    assert.equal(seen.url, '/v2/list?page=2');
    assert.equal(seen.headers.host, 'internal.svc');
    assert.equal(seen.headers['x-forwarded-host'], 'shop.example');
  });

  it('a ReplaceRegexMatch path rewrite uses capture groups; a path it does not match is left as it is', async () => {
    assert.equal(await (await fetch(`${proxy.http}/regex/shoes/42`)).text(), 'app GET /items/42/shoes');
    assert.equal(await (await fetch(`${proxy.http}/regex/Shoes`)).text(), 'app GET /regex/Shoes');
  });

  it('RequestMirror copies a bodiless request whole, with the route’s header edits, and ignores the answer', async () => {
    const copied = once(mirror.server, 'request') as Promise<[IncomingMessage]>;
    const res = await fetch(`${proxy.http}/mirror/item?id=7`, { headers: { 'x-client': 'c' } });
    assert.equal(await res.text(), 'app GET /mirror/item?id=7');
    const [copy] = await copied;
    assert.equal(copy.url, '/mirror/item?id=7');
    assert.equal(copy.headers['x-client'], 'c');
    assert.equal(copy.headers['x-edited'], '1');
  });

  it('RequestMirror sends the head of a request with a body, and the original its whole body', async () => {
    const copied = once(mirror.server, 'request') as Promise<[IncomingMessage]>;
    const res = await fetch(`${proxy.http}/mirror/upload`, { method: 'POST', body: 'payload' });
    assert.equal(res.status, 200);
    await res.text();
    const [copy] = await copied;
    assert.equal(copy.method, 'POST');
    assert.equal(copy.headers['content-length'], '0');
    const original = app.seen.at(-1)!;
    assert.equal(original.url, '/mirror/upload');
    assert.equal(original.headers['content-length'], '7');
  });

  it('an upgrade runs the same filters: header edits and a path rewrite reach the WebSocket upstream', async () => {
    const ws = new WebSocket(`${proxy.http.replace('http:', 'ws:')}/ws/chat`);
    const reply = new Promise<string>((resolve, reject) => {
      ws.onopen = () => ws.send('hi');
      ws.onmessage = (event) => {
        resolve(String(event.data));
        ws.close();
      };
      ws.onerror = () => reject(new Error('websocket error'));
    });
    assert.equal(await reply, 'echo: hi');
    const head = upgrades.at(-1)!;
    assert.equal(head.url, '/socket/chat');
    assert.equal(head.headers['x-ws'], 'edited');
  });

  it('a redirect answers an upgrade request', async () => {
    const res = await rawRequest(port, 'GET /ws-redirect/x HTTP/1.1\r\nHost: shop.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, 'http://other.example/ws-redirect/x');
  });
});
