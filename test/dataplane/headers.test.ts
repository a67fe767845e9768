import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { rawRequest } from '../helpers/raw-http.ts';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';

function setup(trustedProxies: string[]): Promise<SingleRoute> {
  return startSingleRoute('echo', (_req, res) => {
    res.writeHead(200, {
      'x-upstream': 'echo',
      connection: 'keep-alive, x-internal',
      'x-internal': 'hop-by-hop, must not reach the client',
      'keep-alive': 'timeout=5',
      'set-cookie': ['a=1', 'b=2'],
    });
    res.end('ok');
  }, { dataplane: { trustedProxies } });
}

describe('request and response headers', () => {
  let env: SingleRoute;
  before(async () => {
    env = await setup([]);
  });
  after(() => env.close());

  it('preserves Host and sets the forwarding headers from the connection', async () => {
    const res = await request(`${env.proxy.http}/x`, { headers: { host: 'My.Shop.test:8080' } });
    await res.body.text();
    const seen = env.up.seen.at(-1)!;
    assert.equal(seen.headers.host, 'My.Shop.test:8080');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'My.Shop.test:8080');
    assert.equal(seen.headers['x-forwarded-port'], new URL(env.proxy.http).port);
  });

  it('replaces forwarding headers sent by an untrusted client', async () => {
    const res = await request(`${env.proxy.http}/x`, {
      headers: { host: 'a.test', 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.test' },
    });
    await res.body.text();
    const seen = env.up.seen.at(-1)!;
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'a.test');
  });

  it('drops hop-by-hop request headers, including those named in Connection', async () => {
    const port = env.port;
    const res = await rawRequest(
      port,
      'GET /hop HTTP/1.1\r\nHost: a.test\r\nConnection: close, x-secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nX-Kept: yes\r\n\r\n',
    );
    assert.equal(res.status, 200);
    const seen = env.up.seen.at(-1)!;
    assert.equal(seen.url, '/hop');
    assert.equal(seen.headers['x-secret'], undefined);
    assert.equal(seen.headers['te'], undefined);
    assert.equal(seen.headers['proxy-authorization'], undefined);
    assert.equal(seen.headers['x-kept'], 'yes');
    assert.notEqual(seen.headers['keep-alive'], 'timeout=9');
  });

  it('drops hop-by-hop response headers and keeps repeated ones', async () => {
    const res = await request(`${env.proxy.http}/x`, { headers: { host: 'a.test' } });
    await res.body.text();
    assert.equal(res.headers['x-internal'], undefined);
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
  });

  it('keeps client connections alive across requests', async () => {
    const port = env.port;
    const two = 'GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /2 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n';
    const res = await rawRequest(port, two);
    assert.equal(res.status, 200);
    assert.equal(res.raw.match(/HTTP\/1\.1 200/g)?.length, 2);
  });
});

describe('trusted proxies', () => {
  let env: SingleRoute;
  before(async () => {
    env = await setup(['127.0.0.0/8']);
  });
  after(() => env.close());

  it('appends to X-Forwarded-For and takes the client address from it', async () => {
    const res = await request(`${env.proxy.http}/x`, {
      headers: { host: 'a.test', 'x-forwarded-for': '203.0.113.7, 127.0.0.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.test', 'x-forwarded-port': '443' },
    });
    await res.body.text();
    const seen = env.up.seen.at(-1)!;
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.5, 127.0.0.1');
    assert.equal(seen.headers['x-real-ip'], '203.0.113.7');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-host'], 'public.test');
    assert.equal(seen.headers['x-forwarded-port'], '443');
  });
});
