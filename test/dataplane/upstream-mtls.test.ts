import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki } from '../helpers/test-ca.ts';

const HOST = 'mtls.example.com';
const UPSTREAM_NAME = 'upstream.test';

function caSecret(name: string, caPem: string): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, stringData: { 'ca.crt': caPem } };
}

describe('client certificates to backends (mTLS)', () => {
  let dir: string;
  let proxy: TestProxy;
  const pki = makeTestPki(UPSTREAM_NAME, ['proxy-a', 'proxy-b']);
  /** An upstream that requires a client certificate signed by the test CA and answers with its CN. */
  const upstream: HttpsServer = createHttpsServer({ cert: pki.certPem, key: pki.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.end(`client ${peer.subject?.CN ?? 'none'}`);
  });
  let manifests: (client: 'proxy-a' | 'proxy-b') => object[];

  before(async () => {
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const port = (upstream.address() as AddressInfo).port;
    const tls = (extra: Record<string, string>): Record<string, string> => ({ 'signalbox.dev/backend-protocol': 'https', 'signalbox.dev/backend-tls-server-name': UPSTREAM_NAME, 'signalbox.dev/backend-tls-ca': 'test-ca', ...extra });
    manifests = (client) => [
      ingressClass(),
      caSecret('test-ca', pki.caPem),
      tlsSecret('proxy-client', pki.clients[client]!.certPem, pki.clients[client]!.keyPem),
      ...serviceWithEndpoints('with-cert', [{ port }], 'default', tls({ 'signalbox.dev/backend-tls-client-certificate': 'proxy-client' })),
      ...serviceWithEndpoints('without-cert', [{ port }], 'default', tls({})),
      ...serviceWithEndpoints('missing-cert', [{ port }], 'default', tls({ 'signalbox.dev/backend-tls-client-certificate': 'nowhere' })),
      ingress('mtls', HOST, ['with-cert', 'without-cert', 'missing-cert'].map((s) => ({ path: `/${s}`, service: s }))),
    ];
    dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', manifests('proxy-a'));
    proxy = await startProxy(dir);
  });

  after(async () => {
    await proxy?.stop();
    upstream.close();
    await removeDir(dir);
  });

  async function get(path: string): Promise<{ status: number; error: unknown; body: string }> {
    const res = await request(`${proxy.http}${path}`, { headers: { host: HOST } });
    return { status: res.statusCode, error: res.headers['x-signalbox-error'], body: await res.body.text() };
  }

  it('presents the Secret\'s certificate: the upstream that requires one answers and sees its subject', async () => {
    assert.deepEqual(await get('/with-cert'), { status: 200, error: undefined, body: 'client proxy-a' });
  });

  it('without the annotation the upstream refuses the handshake: 502 upstream-tls', async () => {
    const res = await get('/without-cert');
    assert.equal(res.status, 502);
    assert.equal(res.error, 'upstream-tls');
  });

  it('a missing client certificate Secret fails the Service\'s requests with 502 upstream-tls, and is a diagnostic', async () => {
    const res = await get('/missing-cert');
    assert.equal(res.status, 502);
    assert.equal(res.error, 'upstream-tls');
    const diagnostics = proxy.current()!.diagnostics;
    assert.ok(diagnostics.some((d) => d.code === 'BackendTlsClientCertificateInvalid' && d.name === 'missing-cert'));
  });

  it('/debug/table shows the client certificate as its chain, never its key', async () => {
    const text = await (await request(`${proxy.debug}/debug/table`)).body.text();
    assert.ok(!text.includes('PRIVATE KEY'), 'no private key in /debug/table');
    const { table } = JSON.parse(text) as { table: { clusters: Record<string, { policy: { tls: { clientCertificate: { secret: string; keyPem: string; chain: { subject: string }[] } } } }> } };
    const client = table.clusters['default/with-cert:80']!.policy.tls.clientCertificate;
    assert.equal(client.secret, 'default/proxy-client');
    assert.equal(client.keyPem, '(redacted)');
    assert.match(client.chain[0]!.subject, /CN=proxy-a/);
  });

  it('a rotated Secret is presented on new connections', async () => {
    assert.equal((await get('/with-cert')).body, 'client proxy-a');
    const swapped = proxy.nextTable();
    await writeManifests(dir, 'all.yaml', manifests('proxy-b'));
    await swapped;
    assert.deepEqual(await get('/with-cert'), { status: 200, error: undefined, body: 'client proxy-b' });
  });
});
