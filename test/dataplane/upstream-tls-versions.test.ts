/**
 * TLS versions and ciphers towards backends on real sockets: an upstream that speaks only TLS 1.2
 * with one cipher, reached through ingress-nginx's `proxy-ssl-protocols` and `proxy-ssl-ciphers`
 * and through a Service's `signalbox.dev/backend-tls-min-version`. The upstream's own log of its
 * handshakes (protocol and cipher of each `secureConnection`) says what was negotiated.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki } from '../helpers/test-ca.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';
/** The one cipher the upstream speaks (its key is ECDSA P-256), and one it does not. */
const ONLY_CIPHER = 'ECDHE-ECDSA-AES128-GCM-SHA256';
const OTHER_CIPHER = 'ECDHE-ECDSA-AES256-GCM-SHA384';
const TLS_ERRORS = /^signalbox_proxy_errors_total\{reason="upstream-tls"\} (\d+)/m;

function nginxIngress(name: string, service: string, annotations: Record<string, string>): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', annotations: Object.fromEntries(Object.entries({ 'backend-protocol': 'HTTPS', ...annotations }).map(([k, v]) => [NGINX + k, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host: `${name}.example`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
  };
}

describe('TLS versions and ciphers to backends', () => {
  let dir: string;
  let proxy: TestProxy;
  const pki = makeTestPki('legacy.internal');
  /** Every handshake the upstream completed, and every one it refused. */
  const handshakes: { protocol: string | null; cipher: string }[] = [];
  let refused = 0;
  const upstream = createHttpsServer({ cert: pki.certPem, key: pki.keyPem, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: ONLY_CIPHER }, (req, res) => res.end(`legacy ${req.headers.host}`));
  upstream.on('secureConnection', (socket: TLSSocket) => handshakes.push({ protocol: socket.getProtocol(), cipher: socket.getCipher().name }));
  upstream.on('tlsClientError', () => refused++);
  /** The same over HTTP/2 (ALPN h2), which the HTTP/2 and gRPC pools reach. */
  let manifests: (serviceCiphers: string) => object[];
  const h2Handshakes: { protocol: string | null; cipher: string }[] = [];
  const h2Upstream = createSecureServer({ cert: pki.certPem, key: pki.keyPem, maxVersion: 'TLSv1.2', ciphers: ONLY_CIPHER }, (req, res) => res.end(`h2 ${req.httpVersion}`));
  h2Upstream.on('secureConnection', (socket: TLSSocket) => h2Handshakes.push({ protocol: socket.getProtocol(), cipher: socket.getCipher().name }));

  before(async () => {
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const port = (upstream.address() as AddressInfo).port;
    h2Upstream.listen(0, '127.0.0.1');
    await once(h2Upstream, 'listening');
    const h2Port = (h2Upstream.address() as AddressInfo).port;
    manifests = (serviceCiphers) => [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('legacy', [{ port }]),
      ...serviceWithEndpoints('modern-only', [{ port }], 'default', { 'signalbox.dev/backend-protocol': 'https', 'signalbox.dev/backend-tls-verify': 'false', 'signalbox.dev/backend-tls-min-version': 'TLSv1.3' }),
      nginxIngress('tls13', 'legacy', { 'proxy-ssl-protocols': 'TLSv1.3' }),
      nginxIngress('tls12-13', 'legacy', { 'proxy-ssl-protocols': 'TLSv1.2 TLSv1.3' }),
      nginxIngress('wrong-cipher', 'legacy', { 'proxy-ssl-ciphers': OTHER_CIPHER }),
      nginxIngress('right-cipher', 'legacy', { 'proxy-ssl-ciphers': `${OTHER_CIPHER}:${ONLY_CIPHER}` }),
      nginxIngress('service-min', 'modern-only', {}),
      ...serviceWithEndpoints('legacy-h2', [{ port: h2Port }]),
      nginxIngress('h2-tls13', 'legacy-h2', { 'backend-protocol': 'GRPCS', 'proxy-ssl-protocols': 'TLSv1.3' }),
      nginxIngress('h2-cipher', 'legacy-h2', { 'backend-protocol': 'GRPCS', 'proxy-ssl-ciphers': ONLY_CIPHER }),
      ...serviceWithEndpoints('by-service', [{ port }], 'default', { 'signalbox.dev/backend-protocol': 'https', 'signalbox.dev/backend-tls-verify': 'false', 'signalbox.dev/backend-tls-ciphers': serviceCiphers }),
      nginxIngress('by-service', 'by-service', {}),
    ];
    dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', manifests(ONLY_CIPHER));
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
  });

  after(async () => {
    await proxy?.stop();
    upstream.close();
    h2Upstream.close();
    await removeDir(dir);
  });

  async function get(name: string): Promise<{ status: number; error: unknown; body: string }> {
    const res = await request(`${proxy.http}/`, { headers: { host: `${name}.example` } });
    return { status: res.statusCode, error: res.headers['x-signalbox-error'], body: await res.body.text() };
  }

  /** The request's outcome, with the handshakes the upstream completed and refused meanwhile. */
  async function attempt(name: string): Promise<{ res: Awaited<ReturnType<typeof get>>; done: typeof handshakes; refused: number; tlsErrors: number }> {
    const [h0, r0, e0] = [handshakes.length, refused, await metric(proxy, TLS_ERRORS)];
    const res = await get(name);
    return { res, done: handshakes.slice(h0), refused: refused - r0, tlsErrors: (await metric(proxy, TLS_ERRORS)) - e0 };
  }

  it('proxy-ssl-protocols TLSv1.3 to an upstream of TLS 1.2 only: 502 upstream-tls, no handshake completed', async () => {
    const { res, done, refused, tlsErrors } = await attempt('tls13');
    assert.equal(res.status, 502);
    assert.equal(res.error, 'upstream-tls');
    assert.deepEqual(done, []);
    assert.ok(refused >= 1, 'the upstream saw a handshake it refused');
    assert.ok(tlsErrors >= 1, 'counted as upstream-tls');
  });

  it('proxy-ssl-protocols "TLSv1.2 TLSv1.3": TLS 1.2 is negotiated and the request is served', async () => {
    const { res, done } = await attempt('tls12-13');
    assert.deepEqual(res, { status: 200, error: undefined, body: 'legacy tls12-13.example' });
    assert.deepEqual(done, [{ protocol: 'TLSv1.2', cipher: ONLY_CIPHER }]);
  });

  it('proxy-ssl-ciphers without the upstream\'s one cipher: 502 upstream-tls', async () => {
    const { res, done, tlsErrors } = await attempt('wrong-cipher');
    assert.equal(res.status, 502);
    assert.equal(res.error, 'upstream-tls');
    assert.deepEqual(done, []);
    assert.ok(tlsErrors >= 1);
  });

  it('proxy-ssl-ciphers with it: that cipher is negotiated', async () => {
    const { res, done } = await attempt('right-cipher');
    assert.equal(res.status, 200);
    assert.deepEqual(done, [{ protocol: 'TLSv1.2', cipher: ONLY_CIPHER }]);
  });

  it('HTTP/2 over TLS (the HTTP/2 and gRPC pools): TLS 1.3 only fails, the upstream\'s cipher is negotiated', async () => {
    const h0 = h2Handshakes.length;
    const failed = await get('h2-tls13');
    assert.equal(failed.status, 502);
    assert.equal(failed.error, 'upstream-tls');
    assert.deepEqual(h2Handshakes.slice(h0), []);
    assert.deepEqual(await get('h2-cipher'), { status: 200, error: undefined, body: 'h2 2.0' });
    assert.deepEqual(h2Handshakes.slice(h0), [{ protocol: 'TLSv1.2', cipher: ONLY_CIPHER }]);
  });

  it('a Service\'s signalbox.dev/backend-tls-min-version TLSv1.3 holds for every Ingress of it', async () => {
    const { res, done } = await attempt('service-min');
    assert.equal(res.status, 502);
    assert.equal(res.error, 'upstream-tls');
    assert.deepEqual(done, []);
  });

  it('a Service whose cipher list changes gets fresh connections: the kept one is not reused', async () => {
    const h0 = handshakes.length;
    assert.equal((await get('by-service')).status, 200);
    assert.equal((await get('by-service')).status, 200);
    assert.equal(handshakes.length - h0, 1, 'one kept-alive connection served both');
    const swapped = proxy.nextTable();
    await writeManifests(dir, 'all.yaml', manifests(OTHER_CIPHER));
    await swapped;
    const res = await get('by-service');
    assert.equal(res.status, 502);
    assert.equal(res.error, 'upstream-tls');
    assert.equal(handshakes.length - h0, 1);
  });
});
