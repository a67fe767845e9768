/**
 * ingress-nginx's response rewrites (proxy-redirect-from/-to, proxy-cookie-path,
 * proxy-cookie-domain) and the sticky cookie's attributes (session-cookie-samesite,
 * -conditional-samesite-none, -domain), as a client sees them, through real upstreams whose own
 * log says what reached them.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { nginxIngress, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const OLD_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36';
const NEW_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';


/** Every field `name` of the response head, in order, each as its own line said it. */
function fields(res: RawResponse, name: string): string[] {
  const head = res.raw.slice(0, res.raw.indexOf('\r\n\r\n'));
  return head
    .split('\r\n')
    .slice(1)
    .filter((line) => line.slice(0, line.indexOf(':')).toLowerCase() === name)
    .map((line) => line.slice(line.indexOf(':') + 1).trim());
}

describe('ingress-nginx response rewrites on real upstreams', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let legacy: TestUpstream;
  let pinA: TestUpstream;
  let pinB: TestUpstream;

  const get = (host: string, path: string, headers = ''): Promise<RawResponse> =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`);

  before(async () => {
    // An application that believes it is http://backend.internal:8080/ at the root.
    legacy = await startUpstream('legacy', (req, res) => {
      req.resume();
      if (req.url === '/login') {
        res.writeHead(302, { location: 'http://backend.internal:8080/home?from=login' });
        res.end();
      } else if (req.url === '/elsewhere') {
        res.writeHead(302, { location: 'https://id.example/authorize?redirect_uri=http://backend.internal:8080/cb' });
        res.end();
      } else if (req.url === '/refresh') {
        res.writeHead(200, { refresh: '0; URL=http://backend.internal:8080/dashboard' });
        res.end('soon');
      } else {
        res.setHeader('set-cookie', [
          'sid=abc; Path=/; Domain=.backend.internal; HttpOnly',
          'pref=dark;path=/settings ; domain = BACKEND.Internal;Secure',
          'other=1; Path=/keep; Domain=elsewhere.example',
          'theme=x;Max-Age=60',
        ]);
        res.end('cookies');
      }
    });
    pinA = await startUpstream('pin-a');
    pinB = await startUpstream('pin-b');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('legacy', [{ port: legacy.port }]),
      ...serviceWithEndpoints('pinned', [{ port: pinA.port }, { port: pinB.port }]),
      nginxIngress('legacy', 'app.example', 'legacy', {
        'proxy-redirect-from': 'http://backend.internal:8080/',
        'proxy-redirect-to': 'http://app.example/',
        'proxy-cookie-path': '/ /app/',
        'proxy-cookie-domain': 'backend.internal app.example',
        // The proxy's own cookie is not the upstream's: its Path=/ stays.
        affinity: 'cookie',
      }, '2024-01-01T00:00:00Z'),
      // The proxy's own redirect is not rewritten.
      nginxIngress('moved', 'moved.example', 'legacy', {
        'permanent-redirect': 'http://backend.internal:8080/new',
        'proxy-redirect-from': 'http://backend.internal:8080/',
        'proxy-redirect-to': 'http://rewritten.example/',
      }, '2024-01-02T00:00:00Z'),
      nginxIngress('sticky', 'sticky.example', 'pinned', {
        affinity: 'cookie',
        'session-cookie-name': 'route',
        'session-cookie-samesite': 'None',
        'session-cookie-conditional-samesite-none': 'true',
        'session-cookie-domain': 'sticky.example',
        'session-cookie-max-age': '3600',
      }, '2024-01-03T00:00:00Z'),
      nginxIngress('strict', 'strict.example', 'pinned', { affinity: 'cookie', 'session-cookie-samesite': 'strict' }, '2024-01-04T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });

  after(async () => {
    await proxy.stop();
    await Promise.all([legacy.close(), pinA.close(), pinB.close()]);
    await removeDir(dir);
  });

  it('rewrites the beginning of the upstream\'s Location, and only a Location that begins so', async () => {
    const login = await get('app.example', '/login');
    assert.equal(login.status, 302);
    assert.deepEqual(fields(login, 'location'), ['http://app.example/home?from=login']);
    const elsewhere = await get('app.example', '/elsewhere');
    assert.deepEqual(fields(elsewhere, 'location'), ['https://id.example/authorize?redirect_uri=http://backend.internal:8080/cb']);
    assert.deepEqual(legacy.seen.slice(-2).map((s) => s.url), ['/login', '/elsewhere']);
  });

  it('rewrites the URL of a Refresh field', async () => {
    const res = await get('app.example', '/refresh');
    assert.deepEqual(fields(res, 'refresh'), ['0; URL=http://app.example/dashboard']);
  });

  it('rewrites Path and Domain in each Set-Cookie field, each kept a field of its own, and leaves the proxy\'s cookie alone', async () => {
    const res = await get('app.example', '/cookies');
    assert.equal(res.status, 200);
    assert.equal(legacy.seen.at(-1)?.url, '/cookies');
    const cookies = fields(res, 'set-cookie');
    assert.equal(cookies.length, 5, cookies.join(' | '));
    assert.deepEqual(cookies.slice(0, 4), [
      'sid=abc; Path=/app/; Domain=.app.example; HttpOnly',
      // Rewritten as nginx writes a changed cookie: parts joined by "; ", spaces trimmed.
      'pref=dark; path=/app/settings; domain=app.example; Secure',
      // Its Path begins with / too; its Domain is another one and stays.
      'other=1; Path=/app/keep; Domain=elsewhere.example',
      // Nothing to rewrite: passed exactly as it came.
      'theme=x;Max-Age=60',
    ]);
    assert.match(cookies[4]!, /^INGRESSCOOKIE=[0-9a-f]{8}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('rewrites each Set-Cookie field of an HTTP/2 client\'s response, each still a field of its own', async () => {
    const session = h2connect(proxy.https, { rejectUnauthorized: false });
    try {
      const stream = session.request({ ':method': 'GET', ':path': '/cookies', ':authority': 'app.example' }, { endStream: true });
      const response = once(stream, 'response') as Promise<[IncomingHttpHeaders]>;
      const closed = once(stream, 'close');
      stream.resume();
      const [head] = await response;
      await closed;
      assert.equal(head[':status'], 200);
      const cookies = head['set-cookie'] ?? [];
      assert.deepEqual(cookies.slice(0, 4), [
        'sid=abc; Path=/app/; Domain=.app.example; HttpOnly',
        'pref=dark; path=/app/settings; domain=app.example; Secure',
        'other=1; Path=/app/keep; Domain=elsewhere.example',
        'theme=x;Max-Age=60',
      ]);
      // Over HTTPS the proxy's own cookie is Secure; its Path stays the proxy's.
      assert.match(cookies[4] ?? '', /^INGRESSCOOKIE=[0-9a-f]{8}; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
      assert.equal(cookies.length, 5);
    } finally {
      session.close();
    }
  });

  it('does not rewrite the proxy\'s own redirect', async () => {
    const before = legacy.seen.length;
    const res = await get('moved.example', '/anything');
    assert.equal(res.status, 301);
    assert.deepEqual(fields(res, 'location'), ['http://backend.internal:8080/new']);
    assert.equal(legacy.seen.length, before, 'the redirect never reached the upstream');
  });

  it('sets the sticky cookie with SameSite=None and its Domain, leaves SameSite out for a browser that refuses None, and still pins', async () => {
    const modern = await get('sticky.example', '/', `User-Agent: ${NEW_CHROME}\r\n`);
    const [cookie] = fields(modern, 'set-cookie');
    assert.match(cookie ?? '', /^route=[0-9a-f]{8}; Path=\/; Domain=sticky\.example; HttpOnly; SameSite=None; Max-Age=3600$/);
    const old = await get('sticky.example', '/', `User-Agent: ${OLD_CHROME}\r\n`);
    const [oldCookie] = fields(old, 'set-cookie');
    assert.match(oldCookie ?? '', /^route=[0-9a-f]{8}; Path=\/; Domain=sticky\.example; HttpOnly; Max-Age=3600$/);

    const pin = cookie!.split(';')[0]!;
    const first = modern.headers['x-upstream'];
    const seenBefore = { a: pinA.seen.length, b: pinB.seen.length };
    for (let i = 0; i < 6; i++) {
      const again = await get('sticky.example', `/again/${i}`, `Cookie: ${pin}\r\nUser-Agent: ${NEW_CHROME}\r\n`);
      assert.equal(again.headers['x-upstream'], first);
      assert.deepEqual(fields(again, 'set-cookie'), [], 'a pinned client gets no new cookie');
    }
    const pinned = first === 'pin-a' ? pinA : pinB;
    const other = first === 'pin-a' ? pinB : pinA;
    assert.equal(pinned.seen.length - (first === 'pin-a' ? seenBefore.a : seenBefore.b), 6);
    assert.equal(other.seen.length - (first === 'pin-a' ? seenBefore.b : seenBefore.a), 0, 'the other endpoint saw none of the pinned requests');
  });

  it('writes session-cookie-samesite as browsers spell it, whatever the annotation\'s case', async () => {
    const res = await get('strict.example', '/');
    assert.match(fields(res, 'set-cookie')[0] ?? '', /^INGRESSCOOKIE=[0-9a-f]{8}; Path=\/; HttpOnly; SameSite=Strict$/);
  });
});
