import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { generateSelfSignedCertificate } from '../../src/dataplane/server/tls/self-signed.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/** Opens a TLS connection with `servername` and ALPN `protocols`; returns the negotiated facts. */
function handshake(port: number, servername: string, protocols: string[]): Promise<{ cert: PeerCertificate; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername, ALPNProtocols: protocols, rejectUnauthorized: false }, () => {
      resolve({ cert: socket.getPeerCertificate(), alpn: socket.alpnProtocol ?? false });
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('TLS termination by SNI, HTTP/2 by ALPN', () => {
  let dir: string;
  let proxy: TestProxy;
  let up: TestUpstream;
  let port: number;
  const shop = generateSelfSignedCertificate({ commonName: 'shop.test', dnsNames: ['shop.test'] });
  const wild = generateSelfSignedCertificate({ commonName: '*.apps.test', dnsNames: ['*.apps.test'] });

  before(async () => {
    up = await startUpstream('tls');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('tls', [{ port: up.port }]),
      tlsSecret('shop-cert', shop.certPem, shop.keyPem),
      tlsSecret('apps-cert', wild.certPem, wild.keyPem),
      ingress('shop', 'shop.test', [{ path: '/', service: 'tls' }], { tls: [{ hosts: ['shop.test'], secretName: 'shop-cert' }] }),
      ingress('apps', '*.apps.test', [{ path: '/', service: 'tls' }], { tls: [{ hosts: ['*.apps.test'], secretName: 'apps-cert' }] }),
    ]);
    proxy = await startProxy(dir);
    port = Number(new URL(proxy.https).port);
  });
  after(async () => {
    await proxy.stop();
    await up.close();
    await removeDir(dir);
  });

  it('serves the certificate of the Secret named for the SNI host', async () => {
    const { cert } = await handshake(port, 'shop.test', ['http/1.1']);
    assert.equal(cert.subject.CN, 'shop.test');
    const byWildcard = await handshake(port, 'billing.apps.test', ['http/1.1']);
    assert.equal(byWildcard.cert.subject.CN, '*.apps.test');
  });

  it('serves the default certificate for a name without a Secret', async () => {
    const { cert } = await handshake(port, 'unknown.test', ['http/1.1']);
    assert.equal(cert.subject.CN, 'signalbox default certificate');
    const deeper = await handshake(port, 'a.b.apps.test', ['http/1.1']);
    assert.equal(deeper.cert.subject.CN, 'signalbox default certificate', 'a wildcard covers one label only');
  });

  it('offers HTTP/2 and HTTP/1.1 by ALPN', async () => {
    assert.equal((await handshake(port, 'shop.test', ['h2', 'http/1.1'])).alpn, 'h2');
    assert.equal((await handshake(port, 'shop.test', ['http/1.1'])).alpn, 'http/1.1');
  });

  it('proxies HTTP/2 requests, trusting the certificate by its CA', async () => {
    const session = h2connect(`https://shop.test:${port}`, { ca: shop.certPem, servername: 'shop.test', host: '127.0.0.1', port } as never);
    try {
      const answer = await new Promise<{ status: number; body: string; upstream: unknown }>((resolve, reject) => {
        const stream = session.request({ ':path': '/h2?x=1', ':method': 'POST', 'content-type': 'text/plain' });
        let body = '';
        let status = 0;
        let upstream: unknown;
        stream.on('response', (headers) => {
          status = Number(headers[':status']);
          upstream = headers['x-upstream'];
        });
        stream.on('data', (c: Buffer) => (body += c));
        stream.on('end', () => resolve({ status, body, upstream }));
        stream.on('error', reject);
        stream.end('payload');
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.upstream, 'tls');
      assert.equal(answer.body, 'tls POST /h2?x=1');
      const seen = up.seen.at(-1)!;
      assert.equal(seen.headers.host, `shop.test:${port}`);
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
    } finally {
      session.close();
    }
  });

  it('proxies HTTP/1.1 over TLS', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'x.apps.test', ca: wild.certPem, ALPNProtocols: ['http/1.1'] }, () => {
        socket.write('GET /one HTTP/1.1\r\nHost: x.apps.test\r\nConnection: close\r\n\r\n');
      });
      let raw = '';
      socket.on('data', (c: Buffer) => (raw += c));
      socket.on('end', () => resolve(raw));
      socket.on('error', reject);
    });
    assert.match(body, /^HTTP\/1\.1 200/);
    assert.match(body, /tls GET \/one/);
  });
});
