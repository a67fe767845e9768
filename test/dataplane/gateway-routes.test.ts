/**
 * Gateway API routes on real sockets: a Gateway's HTTP listener on the data plane's port, HTTPRoutes
 * attached to it by allowedRoutes, and what each rule does to real requests — seen from the
 * upstreams' own logs: header edits reach the upstream and the client, a redirect never goes
 * upstream, a route its listener does not allow is not served, a backendRef to another namespace
 * without a ReferenceGrant answers 500 and never reaches that Service, a weight of 0 gets nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { GATEWAY_CLASS, ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const GW = 'gateway.networking.k8s.io/v1';

function route(name: string, namespace: string, spec: object): object {
  return { apiVersion: GW, kind: 'HTTPRoute', metadata: { name, namespace, creationTimestamp: '2024-01-01T00:00:00Z' }, spec };
}

describe('Gateway API routes', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  const upstreams: Record<string, TestUpstream> = {};

  before(async () => {
    for (const name of ['web', 'canary', 'private', 'legacy', 'stranger']) upstreams[name] = await startUpstream(name);
    port = await deadPort();
    dir = await tempManifestDir();
    await writeManifests(dir, 'gateway.yaml', [
      GATEWAY_CLASS,
      {
        apiVersion: GW,
        kind: 'Gateway',
        metadata: { name: 'edge', namespace: 'infra' },
        spec: { gatewayClassName: 'signalbox', listeners: [{ name: 'http', port, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }] },
      },
      route('shop', 'infra', {
        parentRefs: [{ name: 'edge' }],
        hostnames: ['shop.example.com'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/app' } }],
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Gateway', value: 'edge' }], remove: ['X-Secret'] } },
              { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'X-Served-By', value: 'signalbox' }] } },
            ],
            backendRefs: [{ name: 'web', port: 80, weight: 1 }, { name: 'canary', port: 80, weight: 0 }],
          },
          { matches: [{ path: { type: 'PathPrefix', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }] },
          { matches: [{ path: { type: 'PathPrefix', value: '/private' } }], backendRefs: [{ name: 'private', namespace: 'vault', port: 80 }] },
          {
            name: 'scripted',
            matches: [{ path: { type: 'PathPrefix', value: '/scripted' } }],
            filters: [{ type: 'ExtensionRef', extensionRef: { group: 'signalbox.dev', kind: 'RouteScript', name: 'tenant' } }],
            backendRefs: [{ name: 'web', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/unscripted' } }],
            filters: [{ type: 'ExtensionRef', extensionRef: { group: 'signalbox.dev', kind: 'RouteScript', name: 'missing' } }],
            backendRefs: [{ name: 'web', port: 80 }],
          },
        ],
      }),
      {
        apiVersion: 'signalbox.dev/v1alpha1',
        kind: 'RouteScript',
        metadata: { name: 'tenant', namespace: 'infra' },
        spec: { targetRefs: [{ kind: 'HTTPRoute', name: 'shop', sectionName: 'scripted' }], code: "export function onRequest(req) { return { setHeaders: { 'x-tenant': req.headers['x-user'] === 'ann' ? 'a' : 'b' } }; }" },
      },
      // From a namespace the listener does not take: never served.
      route('stranger', 'elsewhere', { parentRefs: [{ name: 'edge', namespace: 'infra' }], hostnames: ['stranger.example.com'], rules: [{ backendRefs: [{ name: 'stranger', port: 80 }] }] }),
      ...serviceWithEndpoints('web', [{ port: upstreams.web!.port }], 'infra'),
      ...serviceWithEndpoints('canary', [{ port: upstreams.canary!.port }], 'infra'),
      ...serviceWithEndpoints('private', [{ port: upstreams.private!.port }], 'vault'),
      ...serviceWithEndpoints('stranger', [{ port: upstreams.stranger!.port }], 'elsewhere'),
      // An Ingress on the same port keeps being served.
      ingressClass(),
      ingress('legacy', 'legacy.example.com', [{ path: '/', service: 'legacy' }]),
      ...serviceWithEndpoints('legacy', [{ port: upstreams.legacy!.port }]),
    ]);
    proxy = await startProxy(dir, { dataplane: { httpPort: port } });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all(Object.values(upstreams).map((u) => u.close()));
    await removeDir(dir);
  });

  const get = (host: string, path: string, headers: Record<string, string> = {}) => request(`http://127.0.0.1:${port}${path}`, { headers: { host, ...headers } });

  it('edits the request for the upstream and the response for the client, and sends nothing to a backend of weight 0', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await get('shop.example.com', `/app/item/${i}`, { 'x-secret': 'hunter2' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-served-by'], 'signalbox');
      assert.equal(await res.body.text(), `web GET /app/item/${i}`);
    }
    const seen = upstreams.web!.seen.filter((s) => s.url.startsWith('/app/item/'));
    assert.equal(seen.length, 4);
    for (const s of seen) {
      assert.equal(s.headers['x-gateway'], 'edge');
      assert.equal(s.headers['x-secret'], undefined);
    }
    assert.equal(upstreams.canary!.seen.length, 0);
  });

  it('answers a redirect itself: the scheme\'s own port, the prefix replaced', async () => {
    const before = upstreams.web!.seen.length;
    const res = await get('shop.example.com', '/old/page?q=1');
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers.location, 'https://shop.example.com/new/page?q=1');
    await res.body.dump();
    assert.equal(upstreams.web!.seen.length, before);
  });

  it('answers 500 for a Service of another namespace that no ReferenceGrant opens, and never reaches it', async () => {
    const res = await get('shop.example.com', '/private/keys');
    assert.equal(res.statusCode, 500);
    await res.body.dump();
    assert.equal(upstreams.private!.seen.length, 0);
  });

  it('does not serve a route from a namespace the listener does not allow', async () => {
    const res = await get('stranger.example.com', '/');
    assert.equal(res.statusCode, 404);
    await res.body.dump();
    assert.equal(upstreams.stranger!.seen.length, 0);
  });

  it('runs the RouteScript an ExtensionRef names; one that does not exist answers 500 and never reaches the upstream', async () => {
    const res = await get('shop.example.com', '/scripted/x', { 'x-user': 'ann' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(upstreams.web!.seen.find((s) => s.url === '/scripted/x')?.headers['x-tenant'], 'a');
    const closed = await get('shop.example.com', '/unscripted/x');
    assert.equal(closed.statusCode, 500);
    await closed.body.dump();
    assert.equal(upstreams.web!.seen.some((s) => s.url.startsWith('/unscripted')), false);
  });

  it('keeps serving Ingresses on the same port', async () => {
    const res = await get('legacy.example.com', '/hello');
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'legacy GET /hello');
  });
});
