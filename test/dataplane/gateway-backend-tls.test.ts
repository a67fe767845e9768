/**
 * BackendTLSPolicy on real sockets: an HTTPRoute's backends reached over TLS to a real HTTPS
 * upstream whose certificate (signed by a test CA) carries `DNS:upstream.test` and
 * `URI:spiffe://cluster/web`. With `subjectAltNames` the certificate must carry one of them and
 * `hostname` is only the SNI: a matching name is served, none matching is 502 upstream-tls and the
 * upstream never sees the request; the chain is still verified (another CA's certificate with the
 * right names is refused). Health probes judge the certificate the same way.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { probe, type ProbeTarget } from '../../src/health/probe.ts';
import type { BackendSubjectAltName } from '../../src/model/policy.ts';
import { GATEWAY_CLASS, httpGateway, httpRoute, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki, type TestPki } from '../helpers/test-ca.ts';
import { deadPort } from '../helpers/upstreams.ts';

const GW = 'gateway.networking.k8s.io/v1';
const HOST = 'shop.example.com';

/** An HTTPS upstream logging each request's path and the SNI it was reached with. */
async function httpsUpstream(pki: TestPki): Promise<{ server: HttpsServer; port: number; log: { path: string; sni: string | false | null }[] }> {
  const log: { path: string; sni: string | false | null }[] = [];
  const server = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    log.push({ path: req.url ?? '', sni: (req.socket as TLSSocket).servername });
    res.end('secure');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, log };
}

function policy(name: string, validation: object): object {
  return { apiVersion: GW, kind: 'BackendTLSPolicy', metadata: { name, namespace: 'app' }, spec: { targetRefs: [{ group: '', kind: 'Service', name }], validation } };
}

describe('BackendTLSPolicy subjectAltNames', () => {
  let dir: string;
  let proxy: TestProxy;
  const pki = makeTestPki('upstream.test', [], ['URI:spiffe://cluster/web']);
  const stranger = makeTestPki('upstream.test', [], ['URI:spiffe://cluster/web']);
  let upstream: Awaited<ReturnType<typeof httpsUpstream>>;
  let impostor: Awaited<ReturnType<typeof httpsUpstream>>;
  const ca = (validation: object): object => ({ caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'sni.test', ...validation });
  const cases: Record<string, object> = {
    'dns-match': ca({ subjectAltNames: [{ type: 'Hostname', hostname: 'upstream.test' }] }),
    // The certificate is for the hostname here, but the hostname is no longer the name checked.
    'dns-mismatch': ca({ hostname: 'upstream.test', subjectAltNames: [{ type: 'Hostname', hostname: 'other.test' }] }),
    'uri-match': ca({ subjectAltNames: [{ type: 'URI', uri: 'spiffe://cluster/web' }] }),
    'uri-mismatch': ca({ hostname: 'upstream.test', subjectAltNames: [{ type: 'URI', uri: 'spiffe://cluster/other' }] }),
    'one-of-two': ca({ subjectAltNames: [{ type: 'Hostname', hostname: 'other.test' }, { type: 'URI', uri: 'spiffe://cluster/web' }] }),
    'no-sans': ca({}),
  };

  before(async () => {
    upstream = await httpsUpstream(pki);
    impostor = await httpsUpstream(stranger);
    const port = await deadPort();
    dir = await tempManifestDir();
    await writeManifests(dir, 'gateway.yaml', [
      GATEWAY_CLASS,
      httpGateway('edge', 'app', port),
      httpRoute('shop', 'app', 'edge', [HOST], [...Object.keys(cases), 'impostor'].map((name) => ({ matches: [{ path: { type: 'PathPrefix', value: `/${name}` } }], backendRefs: [{ name, port: 80 }] }))),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'backend-ca', namespace: 'app' }, data: { 'ca.crt': pki.caPem } },
      ...Object.entries(cases).flatMap(([name, validation]) => [policy(name, validation), ...serviceWithEndpoints(name, [{ port: upstream.port }], 'app')]),
      policy('impostor', cases['dns-match']!),
      ...serviceWithEndpoints('impostor', [{ port: impostor.port }], 'app'),
    ]);
    proxy = await startProxy(dir, { dataplane: { httpPort: port } });
  });

  after(async () => {
    await proxy?.stop();
    upstream?.server.close();
    impostor?.server.close();
    await removeDir(dir);
  });

  async function get(path: string): Promise<{ status: number; error: unknown }> {
    const res = await request(`${proxy.http}${path}`, { headers: { host: HOST } });
    await res.body.dump();
    return { status: res.statusCode, error: res.headers['x-signalbox-error'] };
  }

  it('serves when the certificate carries the Hostname SAN, with hostname sent only as SNI', async () => {
    assert.deepEqual(await get('/dns-match'), { status: 200, error: undefined });
    assert.deepEqual(upstream.log.filter((r) => r.path === '/dns-match'), [{ path: '/dns-match', sni: 'sni.test' }]);
  });

  it('serves when the certificate carries the URI SAN, or one of several', async () => {
    assert.deepEqual(await get('/uri-match'), { status: 200, error: undefined });
    assert.deepEqual(await get('/one-of-two'), { status: 200, error: undefined });
    assert.equal(upstream.log.filter((r) => r.path === '/uri-match' || r.path === '/one-of-two').length, 2);
  });

  it('refuses with 502 upstream-tls when no SAN matches, even if the certificate is for the hostname; the upstream never sees the request', async () => {
    assert.deepEqual(await get('/dns-mismatch'), { status: 502, error: 'upstream-tls' });
    assert.deepEqual(await get('/uri-mismatch'), { status: 502, error: 'upstream-tls' });
    assert.deepEqual(upstream.log.filter((r) => r.path.includes('mismatch')), []);
  });

  it('without subjectAltNames the hostname is the name checked: a certificate not for it is refused', async () => {
    assert.deepEqual(await get('/no-sans'), { status: 502, error: 'upstream-tls' });
    assert.deepEqual(upstream.log.filter((r) => r.path === '/no-sans'), []);
  });

  it('still verifies the chain: the right names on a certificate another CA signed are refused', async () => {
    assert.deepEqual(await get('/impostor'), { status: 502, error: 'upstream-tls' });
    assert.deepEqual(impostor.log, []);
  });

  it('a health probe judges the certificate as traffic does', async () => {
    const target = (names: readonly BackendSubjectAltName[]): ProbeTarget => ({
      address: '127.0.0.1',
      port: upstream.port,
      check: { path: '/probe', timeoutMs: 2_000, expectedStatuses: [[200, 399]] },
      transport: { protocol: 'https', tls: { serverName: 'sni.test', caPem: pki.caPem, verify: true, clientCertificate: null, subjectAltNames: names } },
    });
    assert.equal((await probe(target([{ type: 'URI', value: 'spiffe://cluster/web' }]))).pass, true);
    assert.deepEqual(await probe(target([{ type: 'Hostname', value: 'other.test' }])), { pass: false, status: null, reason: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});
