/**
 * The API source and the optional Gateway API, against a small fake API server on a real socket:
 * without the group nothing of it is listed (nor Namespaces) and the source syncs as before; once
 * discovery finds the group, its kinds and Namespaces are watched without a restart (a kind
 * the RBAC does not grant counts as empty rather than holding everything up), and the Secrets a
 * Gateway's listeners name are cached, the others not.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { KubeApi } from '../../src/k8s/kube-api.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { KubeSource } from '../../src/k8s/kube-source.ts';
import { createLogger } from '../../src/log.ts';

/** What the fake server answers: list items by collection path; the Gateway API group on or off. */
const state = {
  gatewayApi: false,
  items: new Map<string, Record<string, unknown>[]>(),
  /** Collection paths listed (or watched) so far. */
  requested: new Set<string>(),
};

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/apis/gateway.networking.k8s.io/v1') {
    if (!state.gatewayApi) return json(404, { kind: 'Status', reason: 'NotFound', message: 'the server could not find the requested resource', code: 404 });
    return json(200, { kind: 'APIResourceList', groupVersion: 'gateway.networking.k8s.io/v1', resources: [{ name: 'gateways', kind: 'Gateway' }, { name: 'gateways/status', kind: 'Gateway' }, { name: 'gatewayclasses', kind: 'GatewayClass' }, { name: 'httproutes', kind: 'HTTPRoute' }] });
  }
  const gatewayPath = url.pathname.startsWith('/apis/gateway.networking.k8s.io/');
  if (gatewayPath && !state.gatewayApi) return json(404, { kind: 'Status', reason: 'NotFound', message: 'not found', code: 404 });
  state.requested.add(url.pathname);
  // A ClusterRole that grants Gateways but not HTTPRoutes (yet).
  if (url.pathname === '/apis/gateway.networking.k8s.io/v1/httproutes') return json(403, { kind: 'Status', reason: 'Forbidden', message: 'httproutes.gateway.networking.k8s.io is forbidden', code: 403 });
  if (url.searchParams.get('watch') === 'true') {
    // A watch with nothing to say: open until the client goes.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    return;
  }
  const selector = url.searchParams.get('fieldSelector');
  const items = (state.items.get(url.pathname) ?? []).filter((o) => selector === null || `type=${String(o.type)}` === selector);
  json(200, { metadata: { resourceVersion: '7' }, items });
}

describe('the Gateway API in the API source', () => {
  let fake: FakeKubeApi;
  let api: KubeApi;

  before(async () => {
    fake = await startFakeKubeApi(answer);
    api = fake.api;
    state.items.set('/api/v1/secrets', [
      { metadata: { namespace: 'shop', name: 'web-cert', resourceVersion: '3' }, type: 'kubernetes.io/tls' },
      { metadata: { namespace: 'shop', name: 'unnamed', resourceVersion: '4' }, type: 'kubernetes.io/tls' },
    ]);
    state.items.set('/api/v1/namespaces', [{ metadata: { name: 'shop', resourceVersion: '2', labels: { team: 'shop' } } }]);
    state.items.set('/apis/gateway.networking.k8s.io/v1/gateways', [
      { metadata: { namespace: 'shop', name: 'web', resourceVersion: '5' }, spec: { gatewayClassName: 'signalbox', listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'web-cert' }] } }] } },
    ]);
  });

  after(async () => {
    await fake.close();
  });

  test('off while the group is not served, watched once it is, without a restart', async () => {
    const served: ReadonlySet<string>[] = [];
    let onServed: (kinds: ReadonlySet<string>) => void = () => {};
    const errors = new Set<string>();
    const source = new KubeSource(api, null, createLogger({ level: 'silent' }), { error: (kind) => errors.add(kind), listed: () => {} }, undefined, [], [], {
      discoveryMs: 20,
      onServed: (kinds) => {
        served.push(kinds);
        onServed(kinds);
      },
    });
    try {
      await source.load();
      assert.deepEqual(served.map((k) => [...k]), [[]], 'told once that nothing is served');
      assert.deepEqual([...source.gatewayApiKinds()], []);
      assert.ok(![...state.requested].some((p) => p.startsWith('/apis/gateway.networking.k8s.io/v1/') || p === '/api/v1/namespaces'), 'neither the Gateway API nor Namespaces are listed');
      assert.deepEqual(source.list('Secret'), [], 'no Secret is named yet');

      const changed = new Promise<void>((resolve) => source.watch(() => {
        if (source.list('Gateway').length === 1 && source.list('Secret').length === 1) resolve();
      }));
      const found = new Promise<ReadonlySet<string>>((resolve) => (onServed = resolve));
      state.gatewayApi = true;
      assert.deepEqual([...(await found)].sort(), ['Gateway', 'GatewayClass', 'HTTPRoute'], 'only the kinds discovery lists');
      await changed;
      assert.equal((source.get('Gateway', 'shop', 'web') as { kind?: string } | undefined)?.kind, 'Gateway', 'stamped with its kind');
      assert.equal(source.list('Namespace').length, 1);
      assert.deepEqual(source.list('Secret').map((s) => (s as { metadata: { name: string } }).metadata.name), ['web-cert'], 'the listener\'s certificate is cached, the other Secret not');
      assert.ok(!state.requested.has('/apis/gateway.networking.k8s.io/v1/grpcroutes'), 'a kind discovery does not list is not watched');
      // A kind the RBAC does not grant is reported and counts as empty: the rest is served.
      assert.deepEqual(source.list('HTTPRoute'), []);
      assert.ok(errors.has('HTTPRoute'));
      assert.ok(source.synced);
      assert.equal(source.counts().Gateway, 1);
    } finally {
      await source.close();
    }
  });
});
