/**
 * A canary Ingress of one namespace must not take requests from another namespace's Ingress of the
 * same host and path: ingress-nginx would merge them, which lets any tenant that can create an
 * Ingress send a share (or, by header, all) of another tenant's requests to its own Service. On
 * real sockets, from both upstreams' logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

function ingress(namespace: string, name: string, service: string, annotations: Record<string, string>, created: string): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, creationTimestamp: created, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`nginx.ingress.kubernetes.io/${k}`, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'shop.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
  };
}

describe('a canary of another namespace', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let victim: TestUpstream;
  let thief: TestUpstream;

  before(async () => {
    victim = await startUpstream('victim');
    thief = await startUpstream('thief');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false' } },
      ...serviceWithEndpoints('shop', [{ port: victim.port }], 'tenant-a'),
      ...serviceWithEndpoints('grab', [{ port: thief.port }], 'tenant-b'),
      ingress('tenant-a', 'shop', 'shop', {}, '2024-01-01T00:00:00Z'),
      ingress('tenant-b', 'grab', 'grab', { canary: 'true', 'canary-by-header': 'x-grab', 'canary-weight': '100' }, '2024-01-02T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([victim.close(), thief.close()]);
    await removeDir(dir);
  });

  it('takes none of its requests: the host is served by its own Ingress, whatever the canary asks for', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await rawRequest(port, `GET /order-${i} HTTP/1.1\r\nHost: shop.example\r\n${i % 2 === 0 ? 'X-Grab: always\r\n' : ''}Connection: close\r\n\r\n`);
      assert.equal(res.status, 200, res.raw);
    }
    assert.equal(victim.seen.filter((s) => s.url.startsWith('/order-')).length, 10, "every request reached the host's own Service");
    assert.deepEqual(thief.seen.map((s) => s.url), [], "the other namespace's Service saw nothing");
  });
});
