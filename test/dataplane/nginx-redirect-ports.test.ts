/**
 * ingress-nginx's `use-port-in-redirects` and `relative-redirects` on real sockets: the Location
 * of the redirect to HTTPS and of a `permanent-redirect` to a path, as nginx writes them. The
 * upstream's log shows no redirected request reached it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';

function ingress(name: string, host: string, annotations: Record<string, string>, created: string): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: created, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  };
}

describe('use-port-in-redirects and relative-redirects', () => {
  let dir: string;
  let proxy: TestProxy;
  let web: TestUpstream;
  let httpPort: number;
  let httpsPort: number;

  const get = (host: string, path: string): Promise<RawResponse> => rawRequest(httpPort, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

  before(async () => {
    web = await startUpstream('web');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'force-ssl-redirect': 'true' } },
      ...serviceWithEndpoints('web', [{ port: web.port }]),
      ingress('secure', 'secure.example', {}, '2024-01-01T00:00:00Z'),
      ingress('secure-port', 'port.example', { 'use-port-in-redirects': 'true' }, '2024-01-02T00:00:00Z'),
      ingress('moved', 'moved.example', { 'force-ssl-redirect': 'false', 'permanent-redirect': '/new-location' }, '2024-01-03T00:00:00Z'),
      ingress('moved-port', 'moved-port.example', { 'force-ssl-redirect': 'false', 'permanent-redirect': '/new-location', 'use-port-in-redirects': 'true' }, '2024-01-04T00:00:00Z'),
      ingress('moved-relative', 'relative.example', { 'force-ssl-redirect': 'false', 'permanent-redirect': '/new-location?x=1', 'relative-redirects': 'true' }, '2024-01-05T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    httpPort = Number(new URL(proxy.http).port);
    httpsPort = Number(new URL(proxy.https).port);
  });
  after(async () => {
    await proxy.stop();
    await web.close();
    await removeDir(dir);
  });

  it('redirects to HTTPS without a port by default, with the HTTPS port under use-port-in-redirects', async () => {
    const plain = await get('secure.example:8080', '/cart?id=7');
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, 'https://secure.example/cart?id=7');
    const withPort = await get('port.example', '/cart?id=7');
    assert.equal(withPort.status, 308);
    assert.equal(withPort.headers.location, `https://port.example:${httpsPort}/cart?id=7`);
    assert.deepEqual(web.seen, []);
  });

  it('completes a permanent-redirect to a path: no port, the request\'s port, or relative', async () => {
    const absolute = await get(`moved.example:${httpPort}`, '/old?q=1');
    assert.equal(absolute.status, 301);
    assert.equal(absolute.headers.location, 'http://moved.example/new-location', 'nginx\'s port_in_redirect off: the client\'s port is not kept');
    const withPort = await get('moved-port.example', '/old');
    assert.equal(withPort.headers.location, `http://moved-port.example:${httpPort}/new-location`);
    const relative = await get('relative.example', '/old');
    assert.equal(relative.status, 301);
    assert.equal(relative.headers.location, '/new-location?x=1');
    assert.deepEqual(web.seen, []);
  });
});
