/**
 * ingress-nginx's `use-gzip` in the controller ConfigMap, from the manifests to the client: every
 * Ingress of the class compresses with ingress-nginx's defaults (gzip-level 1, gzip-min-length 256,
 * its gzip-types with text/html); brotli stays off until `enable-brotli` says otherwise.
 */
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { nginxIngress, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const JSON_BODY = Buffer.from(JSON.stringify({ items: Array.from({ length: 100 }, (_, i) => ({ id: i, name: `item ${i}` })) }));

function get(port: number, host: string, path: string, accept: string): Promise<{ headers: IncomingHttpHeaders; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host, 'accept-encoding': accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, raw: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('use-gzip (ingress-nginx ConfigMap)', () => {
  let dir: string;
  let proxy: TestProxy;
  let api: TestUpstream;
  let port: number;

  before(async () => {
    api = await startUpstream('api', (req, res) => {
      req.resume();
      const body = req.url === '/small.css' ? Buffer.from('body{margin:0}') : JSON_BODY;
      res.writeHead(200, { 'content-type': req.url === '/small.css' ? 'text/css' : 'application/json', 'content-length': body.length });
      res.end(body);
    });
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false', 'use-gzip': 'true' } },
      ...serviceWithEndpoints('api', [{ port: api.port }]),
      nginxIngress('api', 'api.example', 'api', {}, '2024-01-01T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await api.close();
    await removeDir(dir);
  });

  it('gzips a JSON answer for a browser, and the upstream gets the request as usual', async () => {
    const got = await get(port, 'api.example', '/items', 'gzip, deflate, br');
    assert.equal(got.headers['content-encoding'], 'gzip');
    assert.equal(got.headers.vary, 'Accept-Encoding');
    assert.ok(gunzipSync(got.raw).equals(JSON_BODY));
    const seen = api.seen.at(-1)!;
    assert.equal(seen.url, '/items');
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f]{32}$/, 'the profile\'s other filters still run');
  });

  it('sends a body under gzip-min-length as it is, and nothing brotli-only', async () => {
    const small = await get(port, 'api.example', '/small.css', 'gzip');
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(small.raw.toString(), 'body{margin:0}');
    const br = await get(port, 'api.example', '/items', 'br');
    assert.equal(br.headers['content-encoding'], undefined);
    assert.ok(br.raw.equals(JSON_BODY));
  });
});
