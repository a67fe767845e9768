/**
 * ingress-nginx's `upstream-hash-by-subset` on real sockets: the requests of one key reach the
 * endpoints of one subset of `upstream-hash-by-subset-size`, each of them (one at random per
 * request), and no other; the upstreams' own logs say which saw them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';

describe('upstream-hash-by-subset', () => {
  let dir: string;
  let proxy: TestProxy;
  let pool: TestUpstream[];

  before(async () => {
    pool = await Promise.all(Array.from({ length: 6 }, (_, i) => startUpstream(`u${i}`)));
    dir = await tempManifestDir();
    const annotations = { 'upstream-hash-by': '$arg_user', 'upstream-hash-by-subset': 'true', 'upstream-hash-by-subset-size': '3' };
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false' } },
      ...serviceWithEndpoints('pool', pool.map((u) => ({ port: u.port }))),
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'app', namespace: 'default', annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
        spec: { ingressClassName: 'nginx', rules: [{ host: 'app.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'pool', port: { number: 80 } } } }] } }] },
      },
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
  });
  after(async () => {
    await proxy.stop();
    await Promise.all(pool.map((u) => u.close()));
    await removeDir(dir);
  });

  it('spreads one key over exactly the three endpoints of its subset', async () => {
    const port = Number(new URL(proxy.http).port);
    for (const user of ['alice', 'bob']) {
      for (let i = 0; i < 40; i++) {
        const res = await rawRequest(port, `GET /?user=${user}&n=${i} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n`);
        assert.equal(res.status, 200);
      }
      const reached = pool.filter((u) => u.seen.some((s) => s.url.startsWith(`/?user=${user}&`))).map((u) => u.name);
      // 40 uniform draws over three miss one of them with probability about 3 × (2/3)^40 < 1e-6.
      assert.equal(reached.length, 3, `${user}: ${reached.join(' ')}`);
      // The subsets are cut from the endpoints in id (`address:port`) order: the first three, the last three.
      const byId = pool.toSorted((a, b) => (`127.0.0.1:${a.port}` < `127.0.0.1:${b.port}` ? -1 : 1)).map((u) => u.name);
      assert.ok([byId.slice(0, 3), byId.slice(3)].some((set) => set.every((name) => reached.includes(name))), `${user}: ${reached.join(' ')} is not a subset`);
    }
  });
});
