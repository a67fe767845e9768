/**
 * ingress-nginx annotations that need more than a route of their own, end to end on real sockets:
 * canaries (header, cookie, weight), external authentication with a real auth service, CORS, and
 * backend-protocol HTTPS to a real TLS upstream (not verified, as ingress-nginx does by default).
 * Each upstream's own log says what reached it.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { nginxIngress, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { makeTestPki } from '../helpers/test-ca.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';



describe('ingress-nginx annotations on real upstreams', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let main: TestUpstream;
  let canary: TestUpstream;
  let auth: TestUpstream;
  let tlsSeen = 0;
  const pki = makeTestPki('backend.internal');
  const tlsUpstream = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    tlsSeen++;
    res.end(`tls ${req.url}`);
  });

  const get = (host: string, path: string, headers = ''): Promise<RawResponse> =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`);

  before(async () => {
    main = await startUpstream('main');
    canary = await startUpstream('canary');
    // Allows requests that carry a token, naming the user; 401 otherwise.
    auth = await startUpstream('auth', (req, res) => {
      if (req.headers.authorization === 'Bearer good') {
        res.writeHead(200, { 'x-auth-request-user': 'alice' });
        res.end();
      } else {
        res.writeHead(401, { 'www-authenticate': 'Bearer' });
        res.end();
      }
    });
    await new Promise<void>((resolve) => tlsUpstream.listen(0, '127.0.0.1', resolve));
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('main', [{ port: main.port }]),
      ...serviceWithEndpoints('canary', [{ port: canary.port }]),
      ...serviceWithEndpoints('tls', [{ port: (tlsUpstream.address() as AddressInfo).port }]),
      nginxIngress('app', 'app.example', 'main', {}, '2024-01-01T00:00:00Z'),
      // Weight 100: every request the header and cookie rules leave goes to the canary.
      nginxIngress('app-canary', 'app.example', 'canary', { canary: 'true', 'canary-by-header': 'x-canary', 'canary-by-cookie': 'beta', 'canary-weight': '100' }, '2024-01-02T00:00:00Z'),
      nginxIngress('private', 'private.example', 'main', {
        'auth-url': `http://127.0.0.1:${auth.port}/verify`,
        'auth-signin': 'https://login.example/start',
        'auth-response-headers': 'X-Auth-Request-User',
      }, '2024-01-03T00:00:00Z'),
      // A rule without host takes any; the auth URL names the request's own host (oauth2-proxy's pattern).
      { ...(nginxIngress('any-host', 'x', 'main', { 'auth-url': `http://$host:${auth.port}/verify-host` }, '2024-01-06T00:00:00Z') as { spec: { rules: { host?: string }[] } }), spec: { ingressClassName: 'nginx', rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'main', port: { number: 80 } } } }] } }] } },
      nginxIngress('cors', 'cors.example', 'main', { 'enable-cors': 'true', 'cors-allow-origin': 'https://web.example' }, '2024-01-04T00:00:00Z'),
      nginxIngress('secure-backend', 'tls.example', 'tls', { 'backend-protocol': 'HTTPS' }, '2024-01-05T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([main.close(), canary.close(), auth.close()]);
    tlsUpstream.close();
    await removeDir(dir);
  });

  it('sends a canary request by header first, then cookie, then weight', async () => {
    const [m0, c0] = [main.seen.length, canary.seen.length];
    await get('app.example', '/h-always', 'X-Canary: always\r\n');
    await get('app.example', '/h-never', 'X-Canary: never\r\nCookie: beta=always\r\n');
    await get('app.example', '/c-never', 'Cookie: a=1; beta=never\r\n');
    await get('app.example', '/c-always', 'Cookie: beta=always; a=1\r\n');
    await get('app.example', '/weight', 'X-Canary: maybe\r\n');
    assert.deepEqual(main.seen.slice(m0).map((s) => s.url), ['/h-never', '/c-never']);
    assert.deepEqual(canary.seen.slice(c0).map((s) => s.url), ['/h-always', '/c-always', '/weight']);
  });

  it('asks the auth service first: 2xx passes with its headers, 401 goes to sign-in, unseen upstream', async () => {
    const [m0, a0] = [main.seen.length, auth.seen.length];
    const denied = await get('private.example', '/reports?q=1');
    assert.equal(denied.status, 302);
    // As ingress-nginx builds it: `rd=$pass_access_scheme://$http_host$escaped_request_uri`.
    assert.equal(denied.headers.location, `https://login.example/start?rd=http://private.example${encodeURIComponent('/reports?q=1')}`);
    assert.deepEqual(main.seen.slice(m0), []);
    const allowed = await get('private.example', '/reports', 'Authorization: Bearer good\r\nX-Auth-Request-User: mallory\r\n');
    assert.equal(allowed.status, 200);
    assert.equal(main.seen.at(-1)!.url, '/reports');
    assert.equal(main.seen.at(-1)!.headers['x-auth-request-user'], 'alice', 'the auth answer\'s user, never the client\'s');
    assert.equal(auth.seen.length - a0, 2);
    assert.equal(auth.seen[a0]!.headers['x-original-url'], 'http://private.example/reports?q=1');
  });

  it('expands $host in auth-url per request', async () => {
    const a0 = auth.seen.length;
    const res = await get('127.0.0.1', '/any', 'Authorization: Bearer good\r\n');
    assert.equal(res.status, 200);
    assert.deepEqual(auth.seen.slice(a0).map((s) => s.url), ['/verify-host']);
    assert.equal((await get('127.0.0.1', '/any')).status, 401);
  });

  it('answers CORS preflights itself and adds the fields to allowed origins only', async () => {
    const m0 = main.seen.length;
    const preflight = await rawRequest(port, 'OPTIONS /api HTTP/1.1\r\nHost: cors.example\r\nOrigin: https://web.example\r\nAccess-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n');
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://web.example');
    assert.match(preflight.headers['access-control-allow-methods'] ?? '', /PUT/);
    assert.deepEqual(main.seen.slice(m0), [], 'the preflight never goes upstream');
    const allowed = await get('cors.example', '/api', 'Origin: https://web.example\r\n');
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://web.example');
    assert.equal(allowed.headers['access-control-allow-credentials'], 'true');
    const other = await get('cors.example', '/api', 'Origin: https://evil.example\r\n');
    assert.equal(other.status, 200);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it('speaks HTTPS to a backend-protocol HTTPS backend without verifying it', async () => {
    const before = tlsSeen;
    const res = await get('tls.example', '/secure');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'tls /secure');
    assert.equal(tlsSeen - before, 1);
  });
});
