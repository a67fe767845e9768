import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/** GET through the proxy with a Host header; returns status, the answering upstream and the body. */
async function get(proxy: TestProxy, host: string, path: string): Promise<{ status: number; upstream: string | undefined; body: string; headers: Record<string, unknown> }> {
  const res = await request(`${proxy.http}${path}`, { headers: { host } });
  const body = await res.body.text();
  return { status: res.statusCode, upstream: res.headers['x-upstream'] as string | undefined, body, headers: res.headers };
}

describe('host and path routing through the proxy', () => {
  let dir: string;
  let proxy: TestProxy;
  const upstreams: TestUpstream[] = [];

  before(async () => {
    for (const name of ['shop', 'api', 'admin', 'wild', 'any', 'fallback']) upstreams.push(await startUpstream(name));
    const [shop, api, admin, wild, any, fallback] = upstreams as [TestUpstream, TestUpstream, TestUpstream, TestUpstream, TestUpstream, TestUpstream];
    dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('shop', [{ port: shop.port }]),
      ...serviceWithEndpoints('api', [{ port: api.port }]),
      ...serviceWithEndpoints('admin', [{ port: admin.port }]),
      ...serviceWithEndpoints('wild', [{ port: wild.port }]),
      ...serviceWithEndpoints('any', [{ port: any.port }]),
      ...serviceWithEndpoints('fallback', [{ port: fallback.port }]),
      ingress('shop', 'shop.example.com', [
        { path: '/', service: 'shop' },
        { path: '/api', service: 'api' },
        { path: '/admin', service: 'admin', pathType: 'Exact' },
      ], { defaultBackend: 'fallback' }),
      ingress('wild', '*.example.com', [{ path: '/', service: 'wild' }]),
      ingress('any', null, [{ path: '/anyhost', service: 'any' }]),
    ]);
    proxy = await startProxy(dir, { workers: 2 });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all(upstreams.map((u) => u.close()));
    await removeDir(dir);
  });

  const cases: [host: string, path: string, expected: string | number][] = [
    ['shop.example.com', '/', 'shop'],
    ['shop.example.com', '/cart', 'shop'],
    ['SHOP.Example.COM:8080', '/cart', 'shop'],
    ['shop.example.com', '/api', 'api'],
    ['shop.example.com', '/api/', 'api'],
    ['shop.example.com', '/api/orders?id=1', 'api'],
    ['shop.example.com', '/apiv2', 'shop'],
    ['shop.example.com', '/admin', 'admin'],
    ['shop.example.com', '/admin/users', 'shop'],
    ['a.example.com', '/x', 'wild'],
    ['a.b.example.com', '/x', 'fallback'],
    ['example.com', '/x', 'fallback'],
    ['other.test', '/anyhost/1', 'any'],
    ['other.test', '/nothing', 'fallback'],
  ];
  for (const [host, path, expected] of cases) {
    it(`${host}${path} → ${expected}`, async () => {
      const res = await get(proxy, host, path);
      assert.equal(res.status, 200);
      assert.equal(res.upstream, expected);
    });
  }

  it('forwards the original path and query string unchanged', async () => {
    const res = await get(proxy, 'shop.example.com', '/api/orders?id=1&x=%20y');
    assert.equal(res.body, 'api GET /api/orders?id=1&x=%20y');
  });

  it('resolves dot segments before matching, so /x/../admin cannot dodge an Exact route', async () => {
    const res = await get(proxy, 'shop.example.com', '/cart/../admin');
    assert.equal(res.upstream, 'admin');
    assert.equal(res.body, 'admin GET /admin');
  });

  it('answers a request in absolute form by the URI authority', async () => {
    const port = Number(new URL(proxy.http).port);
    const res = await rawRequest(port, 'GET http://shop.example.com/api/x HTTP/1.1\r\nHost: ignored.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-upstream'], 'api');
    assert.match(res.body, /api GET \/api\/x/);
    assert.equal(upstreams[1]!.seen.at(-1)!.headers.host, 'shop.example.com', 'the authority replaces Host upstream');
  });
});

describe('no route', () => {
  it('answers 404 with a body and headers naming signalbox when nothing matches', async () => {
    const up = await startUpstream('only');
    const dir = await tempManifestDir();
    try {
      await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('only', [{ port: up.port }]), ingress('only', 'only.test', [{ path: '/', service: 'only' }])]);
      const proxy = await startProxy(dir);
      try {
        const res = await get(proxy, 'elsewhere.test', '/');
        assert.equal(res.status, 404);
        assert.equal(res.headers['server'], 'signalbox');
        assert.equal(res.headers['x-signalbox-error'], 'no-route');
        assert.match(res.body, /no route/);
        assert.equal(up.seen.length, 0);
      } finally {
        await proxy.stop();
      }
    } finally {
      await up.close();
      await removeDir(dir);
    }
  });
});
