/**
 * ingress-nginx's `affinity-canary-behavior` on real sockets, with the main Ingress's cookie
 * affinity: a client pinned to the main backend or (sticky, the default) to the canary stays there
 * whatever the canary rules say; with `legacy` the canary sets no cookie of its own, and only a
 * client pinned to the main backend is kept. Each upstream's log says what reached it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nginxIngress, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';



describe('affinity-canary-behavior', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let main: TestUpstream;
  let canary: TestUpstream;

  const get = (host: string, path: string, headers = ''): Promise<RawResponse> =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`);
  /** The `name=value` of the response's affinity cookie, or undefined. */
  const cookieOf = (res: RawResponse): string | undefined => {
    const line = res.raw.split('\r\n').find((l) => /^set-cookie: route=/i.test(l));
    return line?.slice(line.indexOf(':') + 1).trim().split(';')[0];
  };
  const reached = (u: TestUpstream, prefix: string): string[] => u.seen.filter((s) => s.url.startsWith(prefix)).map((s) => s.url);

  before(async () => {
    main = await startUpstream('main');
    canary = await startUpstream('canary');
    dir = await tempManifestDir();
    const affinity = { affinity: 'cookie', 'session-cookie-name': 'route' };
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false' } },
      ...serviceWithEndpoints('main', [{ port: main.port }]),
      ...serviceWithEndpoints('canary', [{ port: canary.port }]),
      nginxIngress('sticky', 'sticky.example', 'main', affinity, '2024-01-01T00:00:00Z'),
      nginxIngress('sticky-canary', 'sticky.example', 'canary', { canary: 'true', 'canary-by-header': 'x-canary', 'canary-weight': '50' }, '2024-01-02T00:00:00Z'),
      nginxIngress('legacy', 'legacy.example', 'main', affinity, '2024-01-03T00:00:00Z'),
      nginxIngress('legacy-canary', 'legacy.example', 'canary', { canary: 'true', 'canary-by-header': 'x-canary', 'canary-weight': '100', 'affinity-canary-behavior': 'legacy' }, '2024-01-04T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([main.close(), canary.close()]);
    await removeDir(dir);
  });

  it('sticky: a client the canary served keeps going there, one the main served stays with the main', async () => {
    const first = await get('sticky.example', '/s-canary-0', 'X-Canary: always\r\n');
    const toCanary = cookieOf(first);
    assert.ok(toCanary !== undefined, 'the canary pins its client with the main Ingress\'s cookie');
    for (let i = 1; i <= 6; i++) await get('sticky.example', `/s-canary-${i}`, `Cookie: ${toCanary}\r\n${i % 2 === 0 ? 'X-Canary: never\r\n' : ''}`);
    assert.equal(reached(canary, '/s-canary-').length, 7);
    assert.deepEqual(reached(main, '/s-canary-'), []);

    const served = await get('sticky.example', '/s-main-0', 'X-Canary: never\r\n');
    const toMain = cookieOf(served);
    assert.ok(toMain !== undefined && toMain !== toCanary);
    for (let i = 1; i <= 6; i++) await get('sticky.example', `/s-main-${i}`, `Cookie: ${toMain}\r\n${i % 2 === 0 ? 'X-Canary: always\r\n' : ''}`);
    assert.equal(reached(main, '/s-main-').length, 7);
    assert.deepEqual(reached(canary, '/s-main-'), []);
  });

  it('legacy: the canary sets no cookie; a client pinned to the main stays there', async () => {
    const byWeight = await get('legacy.example', '/l-canary');
    assert.equal(cookieOf(byWeight), undefined);
    assert.deepEqual(reached(canary, '/l-canary'), ['/l-canary']);
    const served = await get('legacy.example', '/l-main-0', 'X-Canary: never\r\n');
    const toMain = cookieOf(served);
    assert.ok(toMain !== undefined);
    // Weight 100 would send every other request to the canary.
    for (let i = 1; i <= 4; i++) await get('legacy.example', `/l-main-${i}`, `Cookie: ${toMain}\r\n`);
    assert.equal(reached(main, '/l-main-').length, 5);
    assert.deepEqual(reached(canary, '/l-main-'), []);
  });
});
