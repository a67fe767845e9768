/**
 * Per-route cluster overrides on real sockets: a Service without a single annotation, reached over
 * HTTPS (verified against a CA from a Secret, with a client certificate for an upstream that
 * requires one) because the route's backend overrides say so — what ingress-nginx's
 * `backend-protocol: HTTPS` and `proxy-ssl-*` annotations ask of the back half. The Ingress front
 * end cannot write overrides, so the routes are route candidates run through the real back half
 * (placeRoutes, buildResources) on the same objects the proxy serves, and swapped into its table.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ingressPrecedence } from '../../src/compile/ingress/precedence.ts';
import { buildResources, placeRoutes } from '../../src/compile/shared/back-half.ts';
import type { FrontEndOutput, RankedOwner, RouteCandidate } from '../../src/compile/shared/candidates.ts';
import { DiagnosticSink } from '../../src/compile/shared/diagnostics.ts';
import { snapshotFromObjects } from '../../src/compile/snapshot-from-objects.ts';
import type { ClusterOverrides } from '../../src/model/policy.ts';
import type { Cluster, RoutingTable, VirtualHost } from '../../src/model/table.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metricsText } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki } from '../helpers/test-ca.ts';

const HOST = 'overrides.example.com';
const UPSTREAM_NAME = 'upstream.test';

async function listen(server: HttpsServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function secret(name: string, type: string, data: Record<string, string>): object {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type, data: encoded };
}

const OWNER: RankedOwner = {
  id: { kind: 'Ingress', namespace: 'default', name: 'overrides', key: 'default/overrides', provenance: 'Ingress/default/overrides', generation: undefined },
  rank: 0,
  created: null,
};

/** A Prefix route of {@link HOST} to port 80 of `service`, with `overrides` on its one backend. */
function candidate(path: string, service: string, overrides: ClusterOverrides | undefined, i: number): RouteCandidate {
  const provenance = `Ingress/default/overrides/rule/0/path/${i}`;
  return {
    owner: OWNER,
    host: { host: HOST, match: 'exact' },
    listeners: ['http', 'https'],
    conflictKey: `Prefix ${path}`,
    ruleProvenance: 'Ingress/default/overrides/rule/0',
    route: {
      match: { path: { type: 'Prefix', value: path } },
      backends: [{ service: { namespace: 'default', service, port: 80, ...(overrides === undefined ? {} : { overrides }) }, weight: 1, provenance: `${provenance}/backend` }],
      filters: [],
      provenance,
    },
  };
}

describe('cluster overrides on a route', () => {
  let dir: string;
  let proxy: TestProxy;
  const pki = makeTestPki(UPSTREAM_NAME, ['signalbox']);
  const otherPki = makeTestPki('other.test');
  const https = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => res.end(`https ${req.httpVersion}`));
  // An upstream that requires a client certificate of its CA (ingress-nginx's proxy-ssl-secret).
  const mtls = createHttpsServer({ cert: pki.certPem, key: pki.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
    res.end(`mtls ${peer.subject?.CN ?? '-'}`);
  });
  let served: { virtualHosts: VirtualHost[]; clusters: Record<string, Cluster> };

  before(async () => {
    const [httpsPort, mtlsPort] = [await listen(https), await listen(mtls)];
    const client = pki.clients['signalbox']!;
    const objects = [
      ingressClass(),
      secret('upstream-ca', 'Opaque', { 'ca.crt': pki.caPem }),
      secret('other-ca', 'Opaque', { 'ca.crt': otherPki.caPem }),
      secret('proxy-client', 'kubernetes.io/tls', { 'tls.crt': client.certPem, 'tls.key': client.keyPem }),
      // No annotation at all: what these Services are spoken to with comes from the routes.
      ...serviceWithEndpoints('secure', [{ port: httpsPort }]),
      ...serviceWithEndpoints('mutual', [{ port: mtlsPort }]),
      ingress('overrides', HOST, [{ path: '/plain', service: 'secure' }]),
    ];
    dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', objects);

    const verified: ClusterOverrides = { protocol: 'https', tls: { ca: { kind: 'Secret', name: 'upstream-ca', key: 'ca.crt' }, serverName: UPSTREAM_NAME } };
    const frontEnd: FrontEndOutput = {
      listeners: [],
      routes: [
        candidate('/plain', 'secure', undefined, 0),
        candidate('/tls', 'secure', verified, 1),
        candidate('/tls-again', 'secure', { tls: verified.tls!, protocol: 'https' }, 2),
        candidate('/wrong-ca', 'secure', { ...verified, tls: { ...verified.tls, ca: { kind: 'Secret', name: 'other-ca', key: 'ca.crt' } } }, 3),
        candidate('/mtls', 'mutual', { ...verified, tls: { ...verified.tls, clientCertificate: 'proxy-client' } }, 4),
        candidate('/mtls-without-certificate', 'mutual', verified, 5),
      ],
      defaultRoutes: [],
      tls: [],
      precedence: ingressPrecedence,
    };
    const { snapshot } = snapshotFromObjects(objects);
    const sink = new DiagnosticSink();
    const placement = placeRoutes(frontEnd, snapshot, sink);
    const { clusters } = buildResources(frontEnd, placement, [], snapshot, sink);
    assert.deepEqual(sink.items, []);
    served = { virtualHosts: placement.hosts.virtualHosts, clusters };
    proxy = await startProxy(dir, { editTable: (table: RoutingTable) => ({ ...table, virtualHosts: served.virtualHosts, clusters: served.clusters }) });
  });

  after(async () => {
    await proxy?.stop();
    for (const s of [https, mtls]) s.close();
    await removeDir(dir);
  });

  async function get(path: string): Promise<{ status: number; error: unknown; body: string }> {
    const res = await request(`${proxy.http}${path}`, { headers: { host: HOST } });
    return { status: res.statusCode, error: res.headers['x-signalbox-error'], body: await res.body.text() };
  }

  it('reaches an HTTPS upstream, verified against the CA the override names, though the Service says nothing of TLS', async () => {
    assert.deepEqual(await get('/tls'), { status: 200, error: undefined, body: 'https 1.1' });
  });

  it('speaks plain HTTP/1.1 to the same Service port where the route has no overrides', async () => {
    const plain = await get('/plain');
    assert.notEqual(plain.status, 200);
    assert.equal(plain.error, 'upstream-reset');
  });

  it('gives routes with the same overrides one cluster, named by their digest, and counts requests under it', async () => {
    const names = Object.keys(served.clusters).filter((n) => n.startsWith('default/secure:80'));
    assert.equal(names.length, 3, names.join(' '));
    const tlsCluster = served.virtualHosts[0]!.routes.find((r) => r.match.path.value === '/tls')!.backends[0]!.cluster!;
    const againCluster = served.virtualHosts[0]!.routes.find((r) => r.match.path.value === '/tls-again')!.backends[0]!.cluster!;
    assert.match(tlsCluster, /^default\/secure:80~[0-9a-f]{10}$/);
    assert.equal(againCluster, tlsCluster);
    assert.equal((await get('/tls-again')).status, 200);
    assert.match(await metricsText(proxy), new RegExp(`signalbox_http_requests_total\\{[^}]*cluster="${tlsCluster.replace(/[/.~]/g, '\\$&')}"[^}]*code="200"`));
  });

  it('refuses an upstream certificate the overriding CA did not sign with 502 upstream-tls', async () => {
    assert.deepEqual(await get('/wrong-ca'), { status: 502, error: 'upstream-tls', body: '502 upstream TLS certificate not trusted or handshake failed\n' });
  });

  it('presents the client certificate the override names to an upstream that requires one', async () => {
    assert.deepEqual(await get('/mtls'), { status: 200, error: undefined, body: 'mtls signalbox' });
    assert.equal((await get('/mtls-without-certificate')).status, 502);
  });

  it('shows /debug/table the overrides of each cluster beside the policy they made, the client key redacted', async () => {
    const text = await (await request(`${proxy.debug}/debug/table`)).body.text();
    assert.ok(!text.includes('PRIVATE KEY'), 'no PEM private key');
    const { table } = JSON.parse(text) as { table: { clusters: Record<string, { overrides?: ClusterOverrides; policy: { protocol: string; tls: { clientCertificate: { secret: string; keyPem: string } | null } | null } }> } };
    const name = served.virtualHosts[0]!.routes.find((r) => r.match.path.value === '/mtls')!.backends[0]!.cluster!;
    const shown = table.clusters[name]!;
    assert.equal(shown.overrides?.tls?.clientCertificate, 'proxy-client');
    assert.equal(shown.policy.protocol, 'https');
    assert.deepEqual([shown.policy.tls?.clientCertificate?.secret, shown.policy.tls?.clientCertificate?.keyPem], ['default/proxy-client', '(redacted)']);
    assert.equal(table.clusters['default/secure:80']?.overrides, undefined);
  });
});
