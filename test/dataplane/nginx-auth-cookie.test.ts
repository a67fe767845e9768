/**
 * ingress-nginx's `auth-always-set-cookie` on real sockets: the auth service's Set-Cookie reaches
 * the client with an allowed request's response when that status is one nginx's `add_header`
 * takes (200 here), and with any other (a 500 from the upstream) only under the annotation, as
 * nginx's `add_header … always`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nginxIngress, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';


/** An nginx-class Ingress routing `host`'s `/` to Service `app`. */
const ingress = (name: string, host: string, annotations: Record<string, string>, created: string): object => nginxIngress(name, host, 'app', annotations, created);

describe('auth-always-set-cookie', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let app: TestUpstream;
  let auth: TestUpstream;

  const get = (host: string, path: string): Promise<RawResponse> => rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

  before(async () => {
    // /broken answers 500, anything else 200.
    app = await startUpstream('app', (req, res) => void res.writeHead(req.url === '/broken' ? 500 : 200, { 'set-cookie': 'app=1' }).end('app'));
    auth = await startUpstream('auth', (_req, res) => void res.writeHead(200, { 'set-cookie': 'session=renewed; Path=/' }).end());
    dir = await tempManifestDir();
    const authUrl = `http://127.0.0.1:${auth.port}/verify`;
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false' } },
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      ingress('plain', 'plain.example', { 'auth-url': authUrl }, '2024-01-01T00:00:00Z'),
      ingress('always', 'always.example', { 'auth-url': authUrl, 'auth-always-set-cookie': 'true' }, '2024-01-02T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([app.close(), auth.close()]);
    await removeDir(dir);
  });

  const cookies = (res: RawResponse): string[] => res.raw.split('\r\n').filter((l) => /^set-cookie:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim()).sort();

  it('adds the auth cookie to a 200 either way, to a 500 only with the annotation', async () => {
    for (const host of ['plain.example', 'always.example']) {
      const ok = await get(host, '/fine');
      assert.equal(ok.status, 200);
      assert.deepEqual(cookies(ok), ['app=1', 'session=renewed; Path=/'], host);
    }
    const plain = await get('plain.example', '/broken');
    assert.equal(plain.status, 500);
    assert.deepEqual(cookies(plain), ['app=1']);
    const always = await get('always.example', '/broken');
    assert.equal(always.status, 500);
    assert.deepEqual(cookies(always), ['app=1', 'session=renewed; Path=/']);
    assert.deepEqual(app.seen.map((s) => s.url), ['/fine', '/fine', '/broken', '/broken']);
    assert.equal(auth.seen.length, 4);
  });
});
