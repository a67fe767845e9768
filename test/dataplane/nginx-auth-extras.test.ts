/**
 * ingress-nginx's `auth-proxy-set-headers` and `auth-cache-key` / `auth-cache-duration`, end to end
 * from the annotations on real sockets: the auth service's own log says what it was asked, and how
 * often.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { nginxIngress, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/** How long the test's cache keeps an answer. */
const TTL_MS = 400;

/** An nginx-class Ingress routing `host`'s `/` to Service `app`. */
const appIngress = (name: string, host: string, annotations: Record<string, string>, created: string): object => nginxIngress(name, host, 'app', annotations, created);

describe('auth-proxy-set-headers and the auth cache', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let app: TestUpstream;
  let auth: TestUpstream;

  const get = (host: string, path: string, headers = ''): Promise<RawResponse> =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`);
  /** How many subrequests asked about `path` so far. */
  const asked = (path: string): number => auth.seen.filter((s) => s.headers['x-original-uri'] === path).length;

  before(async () => {
    app = await startUpstream('app');
    // oauth2-proxy-like: `Bearer <user>` is that user, `Bearer nostore` too but not to be kept, anything else 401.
    auth = await startUpstream('auth', (req, res) => {
      const token = /^Bearer (\w+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token === undefined) return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      res.writeHead(200, { 'x-auth-request-user': token, ...(token === 'nostore' ? { 'cache-control': 'no-store' } : {}) });
      res.end();
    });
    dir = await tempManifestDir();
    const authUrl = `http://127.0.0.1:${auth.port}/verify`;
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'auth-headers', namespace: 'default' }, data: { 'X-Api-Key': 's3cret', 'X-Tenant': 'shop' } },
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      appIngress('keyed', 'keyed.example', { 'auth-url': authUrl, 'auth-proxy-set-headers': 'default/auth-headers', 'auth-response-headers': 'X-Auth-Request-User' }, '2024-01-01T00:00:00Z'),
      appIngress('cached', 'cached.example', {
        'auth-url': authUrl,
        'auth-response-headers': 'X-Auth-Request-User',
        'auth-cache-key': '$http_authorization',
        'auth-cache-duration': `200 401 ${TTL_MS}ms`,
      }, '2024-01-02T00:00:00Z'),
      // Without its ConfigMap the Ingress is not served at all, rather than asked without the fields.
      appIngress('unkeyed', 'unkeyed.example', { 'auth-url': authUrl, 'auth-proxy-set-headers': 'missing' }, '2024-01-03T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([app.close(), auth.close()]);
    await removeDir(dir);
  });

  it('sets the ConfigMap’s entries on the subrequest, in place of the client’s own', async () => {
    const res = await get('keyed.example', '/k', 'Authorization: Bearer alice\r\nX-Api-Key: forged\r\n');
    assert.equal(res.status, 200);
    const subrequest = auth.seen.at(-1)!;
    assert.equal(subrequest.headers['x-original-uri'], '/k');
    assert.equal(subrequest.headers['x-api-key'], 's3cret');
    assert.equal(subrequest.headers['x-tenant'], 'shop');
    assert.equal(app.seen.at(-1)!.headers['x-auth-request-user'], 'alice');
  });

  it('an Ingress whose auth-proxy-set-headers ConfigMap is missing is not served', async () => {
    const before = auth.seen.length;
    const res = await get('unkeyed.example', '/u', 'Authorization: Bearer alice\r\n');
    assert.notEqual(res.status, 200);
    assert.equal(auth.seen.length, before);
    assert.ok(!app.seen.some((s) => s.url === '/u'));
  });

  it('asks once per key within the duration, answers from the cache meanwhile, and asks again after it', async () => {
    const first = await get('cached.example', '/c', 'Authorization: Bearer bob\r\n');
    assert.equal(first.status, 200);
    assert.equal(asked('/c'), 1);
    const second = await get('cached.example', '/c', 'Authorization: Bearer bob\r\nX-Auth-Request-User: mallory\r\n');
    assert.equal(second.status, 200);
    assert.equal(asked('/c'), 1, 'the second request was decided from the cache');
    assert.equal(app.seen.at(-1)!.headers['x-auth-request-user'], 'bob', 'with the kept answer’s fields, not the client’s');
    // Another key is another answer.
    assert.equal((await get('cached.example', '/c', 'Authorization: Bearer carol\r\n')).status, 200);
    assert.equal(app.seen.at(-1)!.headers['x-auth-request-user'], 'carol');
    assert.equal(asked('/c'), 2);
    await sleep(TTL_MS + 100);
    assert.equal((await get('cached.example', '/c', 'Authorization: Bearer bob\r\n')).status, 200);
    assert.equal(asked('/c'), 3, 'asked again once the duration is over');
  });

  it('keeps 401 answers too, never caches a request whose key is empty, and honours Cache-Control: no-store', async () => {
    // The key is `$http_authorization`: a request without the field has no key and is always asked.
    assert.equal((await get('cached.example', '/anon')).status, 401);
    assert.equal((await get('cached.example', '/anon')).status, 401);
    assert.equal(asked('/anon'), 2);
    assert.equal((await get('cached.example', '/bad', 'Authorization: Basic eA==\r\n')).status, 401);
    assert.equal((await get('cached.example', '/bad', 'Authorization: Basic eA==\r\n')).status, 401);
    assert.equal(asked('/bad'), 1, 'the 401 was kept under its key');
    assert.equal((await get('cached.example', '/ns', 'Authorization: Bearer nostore\r\n')).status, 200);
    assert.equal((await get('cached.example', '/ns', 'Authorization: Bearer nostore\r\n')).status, 200);
    assert.equal(asked('/ns'), 2);
  });
});
