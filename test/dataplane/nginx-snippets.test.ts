/**
 * ingress-nginx snippets end to end: Ingresses of class nginx with the snippets users write, the
 * ConfigMap allowing them, served by a real proxy to real upstreams whose own logs say what reached
 * them. What the subset applies — request and response headers, redirects, rewrites — is seen by
 * the upstream and the client; an Ingress with a directive outside it is not served at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';

function nginxIngress(name: string, host: string, service: string, annotations: Record<string, string>): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z', annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
  };
}

describe('ingress-nginx snippets', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let app: TestUpstream;
  let locked: TestUpstream;

  const get = (host: string, path: string, extra = ''): Promise<RawResponse> => rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
  const seen = (u: TestUpstream, from: number): string[] => u.seen.slice(from).map((s) => s.url);

  before(async () => {
    // An app that, like many frameworks, says what it runs on.
    app = await startUpstream('app', (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-powered-by': 'Express', 'x-upstream': 'app' });
        res.end(`app ${req.url}`);
      });
    });
    locked = await startUpstream('locked');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'allow-snippet-annotations': 'true', 'annotations-risk-level': 'Critical', 'proxy-set-headers': 'ingress-nginx/request-headers', 'add-headers': 'response-headers', 'global-allowed-response-headers': 'X-App' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-headers', namespace: 'default' }, data: { 'X-App': 'shop' } },
      // The ConfigMap's header ConfigMaps: for every Ingress; an Ingress's own snippet edits win over them.
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'request-headers', namespace: 'ingress-nginx' }, data: { 'X-Edge': 'signalbox', 'X-Tenant': 'default' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'response-headers', namespace: 'ingress-nginx' }, data: { 'X-Served-By': 'edge', 'X-Frame-Options': 'SAMEORIGIN' } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      ...serviceWithEndpoints('locked', [{ port: locked.port }]),
      nginxIngress('headers', 'shop.example', 'app', {
        'configuration-snippet': [
          'proxy_set_header X-Forwarded-Host www.shop.example;',
          'more_set_input_headers "X-Tenant: blue";',
          'more_clear_input_headers X-Internal-Debug;',
          'more_set_headers "X-Frame-Options: DENY" "X-Content-Type-Options: nosniff";',
          'more_clear_headers X-Powered-By;',
          'add_header Cache-Control "no-store" always;',
        ].join('\n'),
      }),
      nginxIngress('moved', 'old.example', 'app', { 'server-snippet': 'return 301 https://www.example.com$request_uri;' }),
      nginxIngress('blog', 'blog.example', 'app', { 'configuration-snippet': 'rewrite ^/old-blog/(.*)$ /blog/$1 permanent;\nrewrite ^/api/v1/(.*)$ /v1/$1 break;' }),
      nginxIngress('custom', 'custom.example', 'app', { 'custom-headers': 'default/app-headers' }),
      nginxIngress('office', 'office.example', 'app', { 'configuration-snippet': 'allow 10.0.0.0/8;\nallow 192.168.0.0/16;\ndeny all;' }),
      nginxIngress('banned', 'banned.example', 'app', { 'configuration-snippet': 'deny 127.0.0.1;\nallow all;' }),
      nginxIngress('open', 'open.example', 'app', { 'configuration-snippet': 'deny 10.9.9.9;\nallow all;' }),
      nginxIngress('lua', 'locked.example', 'locked', { 'configuration-snippet': 'more_set_headers "X-A: b";\naccess_by_lua_block {\n  ngx.exit(403)\n}' }),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await locked.close();
    await removeDir(dir);
  });

  it('sets and clears request headers the upstream receives', async () => {
    const from = app.seen.length;
    const res = await get('shop.example', '/cart', 'X-Internal-Debug: 1\r\nX-Tenant: red\r\n');
    assert.equal(res.status, 200);
    const got = app.seen[from]!.headers;
    assert.equal(got['x-forwarded-host'], 'www.shop.example', 'proxy_set_header replaces the proxy\'s own X-Forwarded-Host');
    assert.equal(got['x-tenant'], 'blue', 'the snippet wins over the ConfigMap\'s proxy-set-headers');
    assert.equal(got['x-edge'], 'signalbox', 'proxy-set-headers from the ConfigMap');
    assert.equal(got['x-internal-debug'], undefined);
  });

  it('sets, adds and clears response headers the client receives', async () => {
    const res = await get('shop.example', '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-frame-options'], 'DENY', 'the snippet wins over the ConfigMap\'s add-headers');
    assert.equal(res.headers['x-served-by'], 'edge', 'add-headers from the ConfigMap');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['x-powered-by'], undefined);
    assert.equal(res.headers['x-upstream'], 'app', 'the upstream answered');
  });

  it('answers a server snippet\'s return 301 itself, keeping the path and query', async () => {
    const from = app.seen.length;
    const res = await get('old.example', '/products/7?ref=mail');
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, 'https://www.example.com/products/7?ref=mail');
    assert.deepEqual(seen(app, from), []);
  });

  it('redirects only the paths a rewrite … permanent finds, and rewrites the upstream path with break', async () => {
    const from = app.seen.length;
    const moved = await get('blog.example', '/old-blog/2024/hello?x=1');
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, 'http://blog.example/blog/2024/hello?x=1');
    assert.deepEqual(seen(app, from), []);
    assert.equal((await get('blog.example', '/blog/2024/hello')).status, 200);
    assert.equal((await get('blog.example', '/api/v1/posts?page=2')).status, 200);
    assert.deepEqual(seen(app, from), ['/blog/2024/hello', '/v1/posts?page=2']);
  });

  it('sets the custom-headers ConfigMap\'s headers on responses', async () => {
    const res = await get('custom.example', '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-app'], 'shop');
    assert.equal(res.headers['x-served-by'], 'edge', 'with the ConfigMap\'s add-headers');
  });

  it('applies allow and deny: 403 for the addresses they keep out, never reaching the upstream', async () => {
    const from = app.seen.length;
    const status = async (host: string): Promise<number> => (await rawRequest(port, `GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).status;
    assert.equal(await status('office.example'), 403, 'allow 10/8, 192.168/16, deny all: 127.0.0.1 is out');
    assert.equal(await status('banned.example'), 403, 'deny 127.0.0.1 first');
    assert.equal(app.seen.length, from);
    assert.equal(await status('open.example'), 200, 'deny another address, allow all');
    assert.equal(app.seen.length, from + 1);
  });

  it('serves nothing of an Ingress whose snippet holds a directive outside the subset', async () => {
    const from = locked.seen.length;
    const res = await get('locked.example', '/');
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-a'], undefined);
    assert.deepEqual(seen(locked, from), []);
  });
});
