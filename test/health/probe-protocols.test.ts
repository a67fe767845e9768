/**
 * Probes speak the cluster's protocol: HTTPS with the Service's certificate checks, HTTP/2 over
 * TLS and cleartext HTTP/2 — so a probe passes exactly when traffic to the endpoint would work.
 */
import assert from 'node:assert/strict';
import { createSecureServer, createServer as createH2cServer, type Http2Server, type Http2SecureServer } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { probe, type ProbeTransport } from '../../src/health/probe.ts';
import { makeTestPki, type TestPki } from '../helpers/test-ca.ts';
import { healthCheck } from './builders.ts';

const NAME = 'api.internal.test';
const check = healthCheck({ timeoutMs: 2_000 });

describe('probes in the cluster’s protocol', () => {
  let pki: TestPki;
  let other: TestPki;
  let https: HttpsServer;
  let h2: Http2SecureServer;
  let h2c: Http2Server;
  const seen: string[] = [];
  const port = (s: { address(): unknown }): number => (s.address() as AddressInfo).port;

  before(async () => {
    pki = makeTestPki(NAME, ['prober']);
    other = makeTestPki(NAME);
    https = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
      seen.push(`https ${req.httpVersion} ${req.url}`);
      res.end('ok');
    });
    h2 = createSecureServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
      seen.push(`h2 ${req.httpVersion} ${req.url}`);
      res.writeHead(204).end();
    });
    h2c = createH2cServer((req, res) => {
      seen.push(`h2c ${req.httpVersion} ${req.url}`);
      res.writeHead(req.url === '/healthz' ? 200 : 503).end();
    });
    for (const s of [https, h2, h2c]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of [https, h2, h2c]) await new Promise((resolve) => s.close(resolve));
  });

  const tls = (caPem: string | null, serverName: string | null = NAME, verify = true): ProbeTransport['tls'] => ({ serverName, caPem, verify, clientCertificate: null });

  it('HTTPS: passes with the right CA and name, fails with another CA or name, passes with verification off', async () => {
    const target = (t: ProbeTransport['tls']) => ({ address: '127.0.0.1', port: port(https), check, transport: { protocol: 'https', tls: t } as const });
    assert.deepEqual(await probe(target(tls(pki.caPem))), { pass: true, status: 200, reason: 'status 200' });
    assert.equal(seen.at(-1), 'https 1.1 /healthz');
    const wrongCa = await probe(target(tls(other.caPem)));
    assert.equal(wrongCa.pass, false);
    assert.match(wrongCa.reason, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
    const wrongName = await probe(target(tls(pki.caPem, 'other.test')));
    assert.equal(wrongName.pass, false);
    assert.match(wrongName.reason, /ALTNAME|CERT/);
    assert.equal((await probe(target(tls(null, null, false)))).pass, true);
  });

  it('HTTPS and HTTP/2 to endpoints that require a client certificate: the cluster\'s is presented, none fails', async () => {
    const mtls = createHttpsServer({ cert: pki.certPem, key: pki.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (_req, res) => res.end('ok'));
    const mtlsH2 = createSecureServer({ cert: pki.certPem, key: pki.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (_req, res) => res.end('ok'));
    for (const s of [mtls, mtlsH2]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    try {
      const client = pki.clients.prober!;
      const withCert = { ...tls(pki.caPem)!, clientCertificate: { secret: 'default/prober', certPem: client.certPem, keyPem: client.keyPem, problem: null } };
      const unusable = { ...tls(pki.caPem)!, clientCertificate: { secret: 'default/nowhere', certPem: null, keyPem: null, problem: 'Secret default/nowhere not found' } };
      for (const [protocol, server] of [['https', mtls], ['h2', mtlsH2]] as const) {
        const target = (t: ProbeTransport['tls']) => ({ address: '127.0.0.1', port: port(server), check, transport: { protocol, tls: t } });
        assert.equal((await probe(target(withCert))).pass, true, `${protocol} with the client certificate`);
        assert.equal((await probe(target(tls(pki.caPem)))).pass, false, `${protocol} without a client certificate`);
        assert.deepEqual(await probe(target(unusable)), { pass: false, status: null, reason: 'ERR_TLS_CLIENT_CERTIFICATE_UNUSABLE' });
      }
    } finally {
      for (const s of [mtls, mtlsH2]) await new Promise((resolve) => s.close(resolve));
    }
  });

  it('HTTPS and HTTP/2 to endpoints of TLS 1.2 with one cipher: the cluster\'s versions and ciphers decide, as for traffic', async () => {
    const only = 'ECDHE-ECDSA-AES128-GCM-SHA256';
    const legacy = createHttpsServer({ cert: pki.certPem, key: pki.keyPem, maxVersion: 'TLSv1.2', ciphers: only }, (_req, res) => res.end('ok'));
    const legacyH2 = createSecureServer({ cert: pki.certPem, key: pki.keyPem, maxVersion: 'TLSv1.2', ciphers: only }, (_req, res) => res.end('ok'));
    const negotiated: string[] = [];
    for (const s of [legacy, legacyH2]) {
      s.on('secureConnection', (socket: import('node:tls').TLSSocket) => negotiated.push(`${socket.getProtocol()} ${socket.getCipher().name}`));
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    }
    try {
      for (const [protocol, server] of [['https', legacy], ['h2', legacyH2]] as const) {
        const target = (extra: object) => ({ address: '127.0.0.1', port: port(server), check, transport: { protocol, tls: { ...tls(pki.caPem)!, ...extra } } });
        const before = negotiated.length;
        assert.equal((await probe(target({ minVersion: 'TLSv1.3' }))).pass, false, `${protocol}: TLS 1.3 only`);
        assert.equal((await probe(target({ ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }))).pass, false, `${protocol}: another cipher`);
        assert.equal((await probe(target({ ciphers: only }))).pass, true, `${protocol}: its cipher`);
        assert.deepEqual(negotiated.slice(before), [`TLSv1.2 ${only}`]);
      }
    } finally {
      for (const s of [legacy, legacyH2]) await new Promise((resolve) => s.close(resolve));
    }
  });

  it('a plain HTTP probe of an HTTPS endpoint fails, as plain traffic would', async () => {
    assert.equal((await probe({ address: '127.0.0.1', port: port(https), check })).pass, false);
  });

  it('HTTP/2 over TLS (ALPN h2) and cleartext HTTP/2 with prior knowledge', async () => {
    const overTls = await probe({ address: '127.0.0.1', port: port(h2), check, transport: { protocol: 'h2', tls: tls(pki.caPem) } });
    assert.deepEqual(overTls, { pass: true, status: 204, reason: 'status 204' });
    assert.equal(seen.at(-1), 'h2 2.0 /healthz');
    const clear = await probe({ address: '127.0.0.1', port: port(h2c), check, transport: { protocol: 'h2c', tls: null } });
    assert.deepEqual(clear, { pass: true, status: 200, reason: 'status 200' });
    assert.equal(seen.at(-1), 'h2c 2.0 /healthz');
    const failing = await probe({ address: '127.0.0.1', port: port(h2c), check: healthCheck({ path: '/down', timeoutMs: 2_000 }), transport: { protocol: 'h2c', tls: null } });
    assert.deepEqual(failing, { pass: false, status: 503, reason: 'status 503' });
    const wrongCa = await probe({ address: '127.0.0.1', port: port(h2), check, transport: { protocol: 'h2', tls: tls(other.caPem) } });
    assert.equal(wrongCa.pass, false);
  });
});
