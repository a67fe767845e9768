/**
 * Client certificates to HTTP/2 backends: an endpoint over TLS with ALPN h2 that requires a client
 * certificate (node:http2, requestCert + rejectUnauthorized) answers a Service that presents one,
 * and refuses one that does not. In TLS 1.3 that refusal is an alert after the handshake, which
 * must reach the client as 502 `upstream-tls` (what it is), not `upstream-reset` — for every
 * request, not only the first on a connection (the session the alert broke is not used again).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki } from '../helpers/test-ca.ts';

const HOST = 'mtls-h2.example.com';
const UPSTREAM_NAME = 'h2.upstream.test';

describe('client certificates to HTTP/2 backends (mTLS)', () => {
  let dir: string;
  let proxy: TestProxy;
  const pki = makeTestPki(UPSTREAM_NAME, ['proxy']);
  /** What reached the upstream: HTTP version, path and the client certificate's CN. */
  const seen: string[] = [];
  const upstream: Http2SecureServer = createSecureServer({ cert: pki.certPem, key: pki.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    seen.push(`${req.httpVersion} ${req.url} ${peer.subject?.CN ?? 'none'}`);
    res.end('ok');
  });

  before(async () => {
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const port = (upstream.address() as AddressInfo).port;
    const tls = (extra: Record<string, string>): Record<string, string> => ({
      'signalbox.dev/backend-protocol': 'h2',
      'signalbox.dev/backend-tls-server-name': UPSTREAM_NAME,
      'signalbox.dev/backend-tls-ca': 'test-ca',
      ...extra,
    });
    dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', [
      ingressClass(),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'test-ca', namespace: 'default' }, stringData: { 'ca.crt': pki.caPem } },
      tlsSecret('proxy-client', pki.clients.proxy!.certPem, pki.clients.proxy!.keyPem),
      ...serviceWithEndpoints('with-cert', [{ port }], 'default', tls({ 'signalbox.dev/backend-tls-client-certificate': 'proxy-client' })),
      ...serviceWithEndpoints('without-cert', [{ port }], 'default', tls({})),
      ingress('mtls', HOST, ['with-cert', 'without-cert'].map((s) => ({ path: `/${s}`, service: s }))),
    ]);
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

  it('presents the Secret\'s certificate over HTTP/2: the upstream sees its subject', async () => {
    assert.deepEqual(await get('/with-cert'), { status: 200, error: undefined, body: 'ok' });
    assert.equal(seen.at(-1), '2.0 /with-cert proxy');
  });

  it('without a certificate the upstream\'s TLS 1.3 alert is a 502 upstream-tls, and nothing reached it', async () => {
    const before = seen.length;
    for (let i = 0; i < 3; i++) {
      const res = await get('/without-cert');
      assert.deepEqual({ status: res.status, error: res.error }, { status: 502, error: 'upstream-tls' }, `request ${i + 1}`);
    }
    assert.equal(seen.length, before, 'no request reached the upstream');
  });
});
