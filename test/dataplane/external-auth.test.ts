import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect, constants as h2constants } from 'node:http2';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ExternalAuthFilter } from '../../src/model/table.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metricsText } from '../helpers/metrics.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';
import { addWebSocketEcho } from '../helpers/websocket-echo.ts';

/** What the auth service saw of one subrequest. */
interface AuthSeen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * An auth service in the manner of oauth2-proxy: `Authorization: Bearer good` is alice (200, her
 * name in X-Auth-Request-User and a session cookie), `forbid` is refused (403), `teapot` gets 418,
 * `hang` gets no answer at all, `big` a 200 with a 100 KiB body, and anything else 401 with a challenge and a CSRF cookie.
 */
class AuthService {
  readonly seen: AuthSeen[] = [];
  /** Subrequests that got no answer yet ('hang'), with their response. */
  readonly hanging: { req: IncomingMessage; res: ServerResponse }[] = [];
  connections = 0;
  readonly server: Server;
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const auth = req.headers.authorization;
        // A WebSocket client cannot send Authorization: paths under /public/ are alice's too.
        if (auth === 'Bearer good' || req.headers['x-original-uri']?.includes('/public/') === true) {
          res.writeHead(200, [['X-Auth-Request-User', 'alice'], ['Set-Cookie', '_oauth2=session; Path=/; HttpOnly'], ['Set-Cookie', 'seen=1']]);
          return res.end('ok');
        }
        if (auth === 'Bearer forbid') return res.writeHead(403).end('no');
        if (auth === 'Bearer teapot') return res.writeHead(418).end();
        if (auth === 'Bearer big') return res.writeHead(200).end('x'.repeat(100 * 1024));
        if (auth === 'Bearer hang') return void this.hanging.push({ req, res });
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="shop"', 'set-cookie': 'csrf=token; Path=/' });
        res.end('<html>sign in</html>');
      });
    });
    this.server.on('connection', () => this.connections++);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The next subrequest that hangs. */
  nextHanging(): Promise<{ req: IncomingMessage; res: ServerResponse }> {
    const count = this.hanging.length;
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.hanging.length > count) return resolve(this.hanging[count]!);
        this.server.once('request', (req: IncomingMessage) => req.once('end', () => setImmediate(check)));
      };
      check();
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One response as the client got it. */
interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Sends one request to the proxy as `shop.example`, on a connection of its own. */
function send(proxy: TestProxy, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const { port } = new URL(proxy.http);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, headers: { host: 'shop.example', ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('ExternalAuth', () => {
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;
  const bodies: string[] = [];
  const auth = new AuthService();
  const upgrades: IncomingMessage[] = [];

  before(async () => {
    await auth.listen();
    // The upstream records each body it receives, to show what a denied request never delivered.
    app = await startUpstream('app', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`app ${req.method} ${req.url}`);
      });
    });
    addWebSocketEcho(app.server, upgrades);
    const down = await deadPort();
    dir = await tempManifestDir();
    const paths = ['/app', '/signin', '/signin-vars', '/down', '/slow', '/pending', '/ws'];
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: app.port }]), ingress('auth', null, paths.map((path) => ({ path, service: 'app' })))]);
    const verify = `http://127.0.0.1:${auth.port}/oauth2/auth`;
    const filter = (changes: Partial<ExternalAuthFilter> = {}): ExternalAuthFilter => ({
      type: 'ExternalAuth',
      url: verify,
      method: 'GET',
      responseHeaders: ['x-auth-request-user', 'x-auth-request-email'],
      requestHeaders: [{ name: 'x-auth-key', value: 'k3y' }],
      requestRedirect: null,
      signin: null,
      alwaysSetCookie: false,
      timeoutMs: 5_000,
      ...changes,
    });
    proxy = await startProxy(dir, {
      editTable: editRoutes({
        '/app': () => ({ filters: [filter()] }),
        '/signin': () => ({ filters: [filter({ signin: { url: 'https://login.example/oauth2/start', redirectParam: 'rd' } })] }),
        '/signin-vars': () => ({ filters: [filter({ signin: { url: 'https://$host/oauth2/start?rd=$escaped_request_uri', redirectParam: 'rd' } })] }),
        '/down': () => ({ filters: [filter({ url: `http://127.0.0.1:${down}/oauth2/auth` })] }),
        '/slow': () => ({ filters: [filter({ timeoutMs: 200 })] }),
        '/pending': () => ({ filters: [filter({ timeoutMs: 60_000 })] }),
        '/ws': () => ({ filters: [filter()] }),
      }),
    });
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await auth.close();
    await removeDir(dir);
  });

  it('a 2xx answer lets the request through, with the named answer fields in place of the client’s own', async () => {
    const before = app.seen.length;
    const res = await send(proxy, '/app/cart?id=7', { headers: { authorization: 'Bearer good', 'x-auth-request-user': 'mallory', 'x-auth-request-email': 'mallory@evil.example', 'x-forwarded-proto': 'https', cookie: 'a=b' } });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'app GET /app/cart?id=7');
    const upstream = app.seen.at(-1)!;
    assert.equal(app.seen.length, before + 1);
    assert.equal(upstream.headers['x-auth-request-user'], 'alice');
    assert.equal(upstream.headers['x-auth-request-email'], undefined, 'a name the answer lacks is removed, not left to the client');
    assert.equal(upstream.headers.authorization, 'Bearer good');
    // The answer's cookies reach the client on the upstream's 200, each as a field of its own.
    assert.deepEqual(res.headers['set-cookie'], ['_oauth2=session; Path=/; HttpOnly', 'seen=1']);

    const asked = auth.seen.at(-1)!;
    assert.equal(asked.method, 'GET');
    assert.equal(asked.url, '/oauth2/auth');
    assert.equal(asked.headers.host, '127.0.0.1');
    assert.equal(asked.headers['x-original-url'], 'http://shop.example/app/cart?id=7');
    assert.equal(asked.headers['x-original-uri'], '/app/cart?id=7');
    assert.equal(asked.headers['x-original-method'], 'GET');
    assert.equal(asked.headers['x-auth-request-redirect'], '/app/cart?id=7');
    assert.equal(asked.headers['x-sent-from'], 'nginx-ingress-controller');
    assert.equal(asked.headers['x-real-ip'], '127.0.0.1');
    assert.equal(asked.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(asked.headers['x-forwarded-host'], 'shop.example');
    assert.equal(asked.headers['x-forwarded-proto'], undefined, 'cleared, as ingress-nginx does');
    assert.equal(asked.headers['x-auth-key'], 'k3y');
    assert.equal(asked.headers.cookie, 'a=b');
    assert.equal(asked.headers.authorization, 'Bearer good');
  });

  it('reuses its connection to the auth service', async () => {
    const before = auth.connections;
    for (let i = 0; i < 3; i++) assert.equal((await send(proxy, '/app/x', { headers: { authorization: 'Bearer good' } })).status, 200);
    assert.ok(auth.connections - before <= 1, `${auth.connections - before} new connections for 3 subrequests`);
  });

  it('401 answers 401 with the service’s WWW-Authenticate, and the upstream is never asked', async () => {
    const before = app.seen.length;
    const res = await send(proxy, '/app/private');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="shop"');
    assert.equal(res.headers['set-cookie'], undefined, 'nginx adds the auth cookie to a 401 only with auth-always-set-cookie');
    assert.equal(app.seen.length, before);
  });

  it('401 with signin redirects there with rd=<the original URL>, and passes the service’s cookie', async () => {
    const before = app.seen.length;
    const res = await send(proxy, '/signin/page?a=b&c=d');
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, 'https://login.example/oauth2/start?rd=http://shop.example%2Fsignin%2Fpage%3Fa%3Db%26c%3Dd');
    assert.deepEqual(res.headers['set-cookie'], ['csrf=token; Path=/']);
    const vars = await send(proxy, '/signin-vars/p?x=1');
    assert.equal(vars.status, 302);
    assert.equal(vars.headers.location, 'https://shop.example/oauth2/start?rd=%2Fsignin-vars%2Fp%3Fx%3D1');
    assert.equal(app.seen.length, before);
    // Signed in, the same route goes through.
    assert.equal((await send(proxy, '/signin/page', { headers: { authorization: 'Bearer good' } })).status, 200);
  });

  it('403 answers 403; another status answers 500', async () => {
    const before = app.seen.length;
    assert.equal((await send(proxy, '/app/x', { headers: { authorization: 'Bearer forbid' } })).status, 403);
    const teapot = await send(proxy, '/app/x', { headers: { authorization: 'Bearer teapot' } });
    assert.equal(teapot.status, 500);
    assert.equal(teapot.headers['x-signalbox-error'], 'auth-failed');
    assert.equal(app.seen.length, before);
  });

  it('an auth service that cannot be reached, answers too late or too much, gives 500 and the upstream is never asked', async () => {
    const before = app.seen.length;
    const down = await send(proxy, '/down/x', { headers: { authorization: 'Bearer good' } });
    assert.equal(down.status, 500);
    assert.equal(down.headers['x-signalbox-error'], 'auth-failed');
    const slow = await send(proxy, '/slow/x', { headers: { authorization: 'Bearer hang' } });
    assert.equal(slow.status, 500);
    const big = await send(proxy, '/app/x', { headers: { authorization: 'Bearer big' } });
    assert.equal(big.status, 500, 'an answer past the bound is a failure, even a 2xx');
    assert.equal(app.seen.length, before);
  });

  it('a POST body is not read before auth: denied, it never reaches the upstream; allowed, it arrives whole', async () => {
    const seenBefore = app.seen.length;
    const denied = await send(proxy, '/app/upload', { method: 'POST', body: 'secret-payload' });
    assert.equal(denied.status, 401);
    assert.equal(app.seen.length, seenBefore);
    const asked = auth.seen.at(-1)!;
    assert.equal(asked.body, '', 'the subrequest carries no body');
    assert.equal(asked.headers['content-length'], undefined);
    assert.equal(asked.headers['x-original-method'], 'POST');
    assert.ok(!bodies.includes('secret-payload'));

    const allowed = await send(proxy, '/app/upload', { method: 'POST', body: 'payload-2', headers: { authorization: 'Bearer good' } });
    assert.equal(allowed.status, 200);
    assert.equal(bodies.at(-1), 'payload-2');
    assert.equal(auth.seen.at(-1)!.method, 'GET', 'the subrequest has the filter’s method, not the client’s');
  });

  it('a client that leaves while auth is pending cancels the subrequest', async () => {
    const before = app.seen.length;
    const pending = auth.nextHanging();
    const { port } = new URL(proxy.http);
    const client = request({ host: '127.0.0.1', port, path: '/pending/x', agent: false, headers: { host: 'shop.example', authorization: 'Bearer hang' } });
    client.on('error', () => {});
    client.end();
    const { res } = await pending;
    const cancelled = once(res, 'close');
    client.destroy();
    await cancelled;
    assert.equal(app.seen.length, before);
  });

  it('an HTTP/2 stream reset while auth is pending cancels the subrequest', async () => {
    const before = app.seen.length;
    const session = h2connect(proxy.https, { rejectUnauthorized: false });
    try {
      const pending = auth.nextHanging();
      const stream = session.request({ ':path': '/pending/h2', ':authority': 'shop.example', authorization: 'Bearer hang' });
      stream.on('error', () => {});
      const { res } = await pending;
      const cancelled = once(res, 'close');
      stream.close(h2constants.NGHTTP2_CANCEL);
      await cancelled;
      assert.equal(app.seen.length, before);
    } finally {
      session.close();
    }
  });

  it('guards HTTP/2 requests alike: X-Original-URL from :authority, 401 without credentials', async () => {
    const session = h2connect(proxy.https, { rejectUnauthorized: false });
    try {
      const ask = (headers: Record<string, string>): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          const stream = session.request({ ':path': '/app/h2?x=1', ':authority': 'shop.example', ...headers });
          let status = 0;
          let body = '';
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.setEncoding('utf8');
          stream.on('data', (c: string) => (body += c));
          stream.on('end', () => resolve({ status, body }));
          stream.on('error', reject);
        });
      const allowed = await ask({ authorization: 'Bearer good' });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body, 'app GET /app/h2?x=1');
      assert.equal(auth.seen.at(-1)!.headers['x-original-url'], 'https://shop.example/app/h2?x=1');
      assert.equal(app.seen.at(-1)!.headers['x-auth-request-user'], 'alice');
      assert.equal((await ask({})).status, 401);
    } finally {
      session.close();
    }
  });

  it('guards an upgrade: denied, the WebSocket gets 401; allowed, it is tunnelled with the copied fields', async () => {
    const before = upgrades.length;
    const { port } = new URL(proxy.http);
    const denied = await rawRequest(Number(port), 'GET /ws/chat HTTP/1.1\r\nHost: shop.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    assert.equal(denied.status, 401);
    assert.equal(denied.headers['www-authenticate'], 'Bearer realm="shop"');
    assert.equal(upgrades.length, before);

    const ws = new WebSocket(`${proxy.http.replace('http:', 'ws:')}/ws/public/chat`);
    const reply = new Promise<string>((resolve, reject) => {
      ws.onopen = () => ws.send('hi');
      ws.onmessage = (event) => {
        resolve(String(event.data));
        ws.close();
      };
      ws.onerror = () => reject(new Error('websocket error'));
    });
    assert.equal(await reply, 'echo: hi');
    assert.equal(upgrades.at(-1)!.headers['x-auth-request-user'], 'alice');
  });

  it('counts the outcomes', async () => {
    const text = await metricsText(proxy);
    for (const outcome of ['allowed', 'unauthorized', 'signin', 'forbidden', 'error-status', 'unreachable', 'timeout', 'too-large', 'client-gone']) {
      assert.match(text, new RegExp(`signalbox_external_auth_total\\{outcome="${outcome}"\\} [1-9]`), outcome);
    }
  });
});
