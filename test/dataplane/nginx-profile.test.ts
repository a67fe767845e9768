/**
 * The ingress-nginx profile end to end: Ingresses of class nginx, written as ingress-nginx users
 * write them, served by a real proxy to real upstreams, each upstream's own log saying what reached
 * it. Semantics from ingress-nginx's documentation and e2e tests (rewrite, redirects, ssl-redirect,
 * HSTS, app-root, upstream-vhost, x-forwarded-prefix, path matching, annotation risk).
 */
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { makeTestPki } from '../helpers/test-ca.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';

function nginxIngress(name: string, host: string, paths: { path: string; service: string; pathType?: string }[], annotations: Record<string, string> = {}, tls = false): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z', annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
    spec: {
      ingressClassName: 'nginx',
      ...(tls ? { tls: [{ hosts: [host], secretName: 'site-tls' }] } : {}),
      rules: [{ host, http: { paths: paths.map((p) => ({ path: p.path, pathType: p.pathType ?? 'Prefix', backend: { service: { name: p.service, port: { number: 80 } } } })) } }],
    },
  };
}

describe('the ingress-nginx profile', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let httpsPort: number;
  let api: TestUpstream;
  let site: TestUpstream;
  const pki = makeTestPki('secure.example');

  const get = (host: string, path: string): Promise<RawResponse> => rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  const seen = (u: TestUpstream, from: number): string[] => u.seen.slice(from).map((s) => s.url);

  before(async () => {
    api = await startUpstream('api');
    site = await startUpstream('site');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('api', [{ port: api.port }]),
      ...serviceWithEndpoints('site', [{ port: site.port }]),
      tlsSecret('site-tls', pki.certPem, pki.keyPem),
      // The classic capture-group rewrite, on a host that another Ingress also serves.
      nginxIngress('rewrite', 'rw.example', [{ path: '/api(/|$)(.*)', service: 'api', pathType: 'ImplementationSpecific' }], {
        'rewrite-target': '/$2',
        'x-forwarded-prefix': '/api',
        'upstream-vhost': 'api.internal',
      }),
      nginxIngress('rw-site', 'rw.example', [{ path: '/', service: 'site' }, { path: '/static', service: 'site' }]),
      nginxIngress('plain', 'plain.example', [{ path: '/docs', service: 'api', pathType: 'ImplementationSpecific' }, { path: '/', service: 'site' }]),
      nginxIngress('secure', 'secure.example', [{ path: '/', service: 'site' }], {}, true),
      // cert-manager's HTTP-01 solver for that host, as it writes its Ingress.
      nginxIngress('acme-solver', 'secure.example', [{ path: '/.well-known/acme-challenge/tok3n', service: 'api', pathType: 'ImplementationSpecific' }]),
      nginxIngress('legacy', 'legacy.example', [{ path: '/app', service: 'site' }], { 'app-root': '/app' }),
      nginxIngress('moved', 'moved.example', [{ path: '/', service: 'site' }], { 'permanent-redirect': 'https://new.example/welcome' }),
      nginxIngress('snippet', 'snippet.example', [{ path: '/', service: 'site' }], { 'configuration-snippet': 'more_set_headers "X-A: b";' }),
      nginxIngress('office', 'office.example', [{ path: '/', service: 'site' }], { 'whitelist-source-range': '10.0.0.0/8, 192.168.0.0/16' }),
      nginxIngress('uploads', 'uploads.example', [{ path: '/', service: 'site' }], { 'proxy-body-size': '8k' }),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
    httpsPort = Number(new URL(proxy.https).port);
  });
  after(async () => {
    await proxy.stop();
    await api.close();
    await site.close();
    await removeDir(dir);
  });

  it('rewrites a capture-group path and sends X-Forwarded-Prefix and the upstream-vhost Host', async () => {
    const from = api.seen.length;
    const res = await get('rw.example', '/api/users/7?page=2');
    assert.equal(res.status, 200);
    assert.deepEqual(seen(api, from), ['/users/7?page=2']);
    assert.equal(api.seen[from]!.headers['x-forwarded-prefix'], '/api');
    assert.equal(api.seen[from]!.headers.host, 'api.internal');
    // `(/|$)`: /api alone is the root of the app.
    await get('rw.example', '/api');
    assert.equal(api.seen.at(-1)!.url, '/');
  });

  it('serves /.well-known/acme-challenge over plain HTTP on a host with TLS (no-tls-redirect-locations)', async () => {
    const from = api.seen.length;
    const res = await get('secure.example', '/.well-known/acme-challenge/tok3n');
    assert.equal(res.status, 200);
    assert.deepEqual(seen(api, from), ['/.well-known/acme-challenge/tok3n']);
    assert.equal((await get('secure.example', '/.well-known/other')).status, 308, 'the rest of the host still redirects');
  });

  it('matches a regex host case-insensitively and from the start only, longest path first', async () => {
    const fromApi = api.seen.length;
    const fromSite = site.seen.length;
    assert.equal((await get('rw.example', '/API/Orders')).status, 200);
    assert.deepEqual(seen(api, fromApi), ['/Orders']);
    // /apix is not /api followed by / or the end: the other Ingress's / takes it, unrewritten.
    await get('rw.example', '/apix');
    await get('rw.example', '/STATIC/app.css');
    assert.deepEqual(seen(site, fromSite), ['/apix', '/STATIC/app.css']);
  });

  it('serves ImplementationSpecific as nginx\'s string prefix where no path is a regex', async () => {
    const from = api.seen.length;
    await get('plain.example', '/docsearch');
    await get('plain.example', '/Docs');
    assert.deepEqual(seen(api, from), ['/docsearch'], 'case-sensitive prefix: /Docs goes to /');
  });

  it('redirects plain HTTP to HTTPS (308) on a host with TLS, and sends HSTS over HTTPS', async () => {
    const from = site.seen.length;
    const res = await get('secure.example', '/cart/?id=3');
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, 'https://secure.example/cart/?id=3');
    assert.deepEqual(seen(site, from), [], 'the redirect is the proxy\'s answer');
    const secure = await new Promise<{ status: number; hsts: string | undefined }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: httpsPort, path: '/cart', servername: 'secure.example', headers: { host: 'secure.example' }, ca: pki.caPem }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, hsts: res.headers['strict-transport-security'] as string | undefined });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(secure.status, 200);
    assert.equal(secure.hsts, 'max-age=31536000; includeSubDomains');
    assert.deepEqual(seen(site, from), ['/cart']);
    // A host without TLS is not redirected.
    assert.equal((await get('plain.example', '/')).status, 200);
  });

  it('answers app-root and permanent-redirect itself', async () => {
    const from = site.seen.length;
    const root = await get('legacy.example', '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, 'http://legacy.example/app');
    const moved = await get('moved.example', '/anything?x=1');
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, 'https://new.example/welcome');
    assert.deepEqual(seen(site, from), []);
    assert.equal((await get('legacy.example', '/app/page')).status, 200);
    assert.deepEqual(seen(site, from), ['/app/page']);
  });

  it('gives each request an X-Request-ID on its way upstream, keeping the client\'s own', async () => {
    const from = site.seen.length;
    await get('plain.example', '/one');
    await rawRequest(port, 'GET /two HTTP/1.1\r\nHost: plain.example\r\nX-Request-ID: trace-42\r\nConnection: close\r\n\r\n');
    await get('plain.example', '/three');
    const ids = site.seen.slice(from).map((s) => s.headers['x-request-id']);
    assert.match(String(ids[0]), /^[0-9a-f]{32}$/);
    assert.equal(ids[1], 'trace-42');
    assert.match(String(ids[2]), /^[0-9a-f]{32}$/);
    assert.notEqual(ids[0], ids[2]);
  });

  it('refuses request bodies over proxy-body-size (1m by default) with 413, before the upstream sees them', async () => {
    const from = site.seen.length;
    const post = (host: string, bytes: number): Promise<RawResponse> =>
      rawRequest(port, `POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n${'x'.repeat(Math.min(bytes, 1024))}`);
    assert.equal((await post('plain.example', 2 * 1024 * 1024)).status, 413);
    assert.equal((await post('uploads.example', 9 * 1024)).status, 413);
    assert.deepEqual(seen(site, from), []);
    assert.equal((await post('uploads.example', 1024)).status, 200);
    assert.deepEqual(seen(site, from), ['/upload']);
  });

  it('answers 403 to a client outside whitelist-source-range', async () => {
    const from = site.seen.length;
    assert.equal((await get('office.example', '/')).status, 403);
    assert.deepEqual(seen(site, from), []);
  });

  it('serves nothing of an Ingress whose snippet the default risk level refuses', async () => {
    const from = site.seen.length;
    const res = await get('snippet.example', '/');
    assert.equal(res.status, 404);
    assert.deepEqual(seen(site, from), []);
  });
});
