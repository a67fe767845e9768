/**
 * A Gateway's client certificate for its backends (`spec.tls.backend.clientCertificateRef`) on
 * real sockets: an HTTPS upstream that requires a client certificate of a test CA, reached through
 * routes of four Gateways with a BackendTLSPolicy on each Service. From the upstream's own log: the
 * Gateway that names a usable certificate presents it and is served; one naming none presents none
 * and the upstream refuses the handshake (502 upstream-tls); references that cannot be used — a
 * Secret that does not exist, another kind, another namespace without a ReferenceGrant — set the
 * Gateway's ResolvedRefs False with the reasons the specification gives, keep it Accepted, and
 * fail its TLS backends' requests with 502 upstream-tls: nothing reaches the upstream without the
 * certificate it was meant to see.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { compile } from '../../src/compile/compile.ts';
import { snapshotFromObjects } from '../../src/compile/snapshot-from-objects.ts';
import { GATEWAY_CLASS, removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki } from '../helpers/test-ca.ts';
import { makeClientPki } from '../helpers/client-pki.ts';
import { deadPort } from '../helpers/upstreams.ts';

const GW = 'gateway.networking.k8s.io/v1';
const HOST = 'abc.example.com';

describe('a Gateway\'s client certificate for its TLS backends (spec.tls.backend)', () => {
  const server = makeTestPki('upstream.test');
  const clients = makeClientPki([HOST]);
  let dir: string;
  let proxy: TestProxy;
  let upstream: HttpsServer;
  /** Each request the upstream served: its path and the subject of the client certificate it came with. */
  const log: { path: string; subject: string }[] = [];
  const ports: Record<string, number> = {};
  const GATEWAYS = ['mtls', 'none', 'missing', 'wrong-kind', 'other-namespace'] as const;
  let objects: object[] = [];

  before(async () => {
    upstream = createHttpsServer({ cert: server.certPem, key: server.keyPem, ca: clients.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      log.push({ path: req.url ?? '', subject: String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '') });
      res.end('secure');
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const upstreamPort = (upstream.address() as AddressInfo).port;
    for (const name of GATEWAYS) ports[name] = await deadPort();
    const backend: Record<string, object | undefined> = {
      mtls: { clientCertificateRef: { group: '', kind: 'Secret', name: 'client-cert' } },
      none: undefined,
      missing: { clientCertificateRef: { name: 'nonexistent-certificate' } },
      'wrong-kind': { clientCertificateRef: { group: '', kind: 'ConfigMap', name: 'client-cert' } },
      'other-namespace': { clientCertificateRef: { name: 'client-cert', namespace: 'vault' } },
    };
    dir = await tempManifestDir();
    objects = [
      GATEWAY_CLASS,
      ...GATEWAYS.flatMap((name) => [
        {
          apiVersion: GW,
          kind: 'Gateway',
          metadata: { name, namespace: 'app' },
          spec: { gatewayClassName: 'signalbox', listeners: [{ name: 'http', port: ports[name], protocol: 'HTTP' }], ...(backend[name] === undefined ? {} : { tls: { backend: backend[name] } }) },
        },
        { apiVersion: GW, kind: 'HTTPRoute', metadata: { name, namespace: 'app' }, spec: { parentRefs: [{ name }], hostnames: [HOST], rules: [{ backendRefs: [{ name: `secure-${name}`, port: 80 }] }] } },
        { apiVersion: GW, kind: 'BackendTLSPolicy', metadata: { name: `secure-${name}`, namespace: 'app' }, spec: { targetRefs: [{ group: '', kind: 'Service', name: `secure-${name}` }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'upstream.test' } } },
        ...serviceWithEndpoints(`secure-${name}`, [{ port: upstreamPort }], 'app'),
      ]),
      // One route on a Gateway that presents the certificate and one that presents none: one pool
      // cannot be both, so its backendRef is refused rather than lend the certificate to the other.
      { apiVersion: GW, kind: 'HTTPRoute', metadata: { name: 'shared', namespace: 'app' }, spec: { parentRefs: [{ name: 'mtls' }, { name: 'none' }], hostnames: ['shared.example.com'], rules: [{ backendRefs: [{ name: 'secure-shared', port: 80 }] }] } },
      { apiVersion: GW, kind: 'BackendTLSPolicy', metadata: { name: 'secure-shared', namespace: 'app' }, spec: { targetRefs: [{ group: '', kind: 'Service', name: 'secure-shared' }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'upstream.test' } } },
      ...serviceWithEndpoints('secure-shared', [{ port: upstreamPort }], 'app'),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'backend-ca', namespace: 'app' }, data: { 'ca.crt': server.caPem } },
      tlsSecret('client-cert', clients.client.certPem, clients.client.keyPem, 'app'),
      // The same pair in another namespace, which grants nothing to Gateways of app.
      tlsSecret('client-cert', clients.client.certPem, clients.client.keyPem, 'vault'),
    ];
    await writeManifests(dir, 'gateway.yaml', objects);
    proxy = await startProxy(dir);
  });

  after(async () => {
    await proxy?.stop();
    upstream?.close();
    await removeDir(dir);
  });

  async function get(gateway: string, path: string, host = HOST): Promise<{ status: number; error: unknown }> {
    const res = await request(`http://127.0.0.1:${ports[gateway]}${path}`, { headers: { host } });
    await res.body.dump();
    return { status: res.statusCode, error: res.headers['x-signalbox-error'] };
  }
  const gatewayCondition = (name: string, type: string): { status: string; reason: string } | undefined => {
    // The statuses the controller would write: the same compile of the same objects.
    const status = compile(snapshotFromObjects(objects).snapshot, { ingressClass: 'signalbox', controllerName: 'signalbox.dev/ingress-controller' }).statuses.find((s) => s.kind === 'Gateway' && s.namespace === 'app' && s.name === name);
    const condition = status?.conditions.find((c) => c.type === type);
    return condition === undefined ? undefined : { status: condition.status, reason: condition.reason };
  };

  it('presents the Gateway\'s certificate: the upstream verifies it and serves', async () => {
    assert.deepEqual(await get('mtls', '/with-certificate'), { status: 200, error: undefined });
    const subject = new (await import('node:crypto')).X509Certificate(clients.client.certPem).subject.match(/CN=(.*)/)?.[1];
    assert.deepEqual(log.filter((r) => r.path === '/with-certificate'), [{ path: '/with-certificate', subject }]);
    assert.deepEqual(gatewayCondition('mtls', 'ResolvedRefs'), { status: 'True', reason: 'ResolvedRefs' });
  });

  it('a Gateway that names none presents none: the upstream refuses the handshake, 502 upstream-tls', async () => {
    assert.deepEqual(await get('none', '/without-certificate'), { status: 502, error: 'upstream-tls' });
    assert.deepEqual(log.filter((r) => r.path === '/without-certificate'), []);
    assert.equal(gatewayCondition('none', 'ResolvedRefs'), undefined, 'no condition about a reference it does not make');
  });

  it('references that cannot be used: ResolvedRefs False with the specification\'s reasons, still Accepted, and nothing reaches the upstream', async () => {
    for (const [name, reason] of [['missing', 'InvalidClientCertificateRef'], ['wrong-kind', 'InvalidClientCertificateRef'], ['other-namespace', 'RefNotPermitted']] as const) {
      assert.deepEqual(gatewayCondition(name, 'ResolvedRefs'), { status: 'False', reason }, name);
      assert.equal(gatewayCondition(name, 'Accepted')?.status, 'True', name);
      assert.deepEqual(await get(name, `/refused-${name}`), { status: 502, error: 'upstream-tls' }, name);
      assert.deepEqual(log.filter((r) => r.path === `/refused-${name}`), [], name);
    }
    const codes = proxy.current()!.diagnostics.filter((d) => d.code === 'BackendTlsClientCertificateInvalid').map((d) => d.name).sort();
    assert.deepEqual([...new Set(codes)], ['missing', 'other-namespace', 'wrong-kind']);
  });

  it('a route on Gateways that present different certificates (one none): its backendRef is refused, nothing reaches the upstream', async () => {
    const route = compile(snapshotFromObjects(objects).snapshot, { ingressClass: 'signalbox', controllerName: 'signalbox.dev/ingress-controller' }).statuses.find((s) => s.kind === 'HTTPRoute' && s.name === 'shared');
    const resolved = route?.parents?.map((p) => p.conditions.find((c) => c.type === 'ResolvedRefs'));
    assert.deepEqual(resolved?.map((c) => [c?.status, c?.reason]), [['False', 'UnsupportedProtocol'], ['False', 'UnsupportedProtocol']]);
    for (const gateway of ['mtls', 'none']) {
      assert.equal((await get(gateway, `/shared-${gateway}`, 'shared.example.com')).status, 500, gateway);
      assert.deepEqual(log.filter((r) => r.path === `/shared-${gateway}`), [], gateway);
    }
  });
});
