import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { generateSelfSignedCertificate } from '../../src/dataplane/server/tls/self-signed.ts';

const { certPem, keyPem } = generateSelfSignedCertificate({
  commonName: 'signalbox default',
  dnsNames: ['default.signalbox.invalid', '*.example.test'],
  days: 30,
});

test('Node parses the certificate with the requested subject, SAN and validity', () => {
  const cert = new X509Certificate(certPem);
  assert.equal(cert.subject, 'CN=signalbox default');
  assert.equal(cert.issuer, cert.subject);
  assert.equal(cert.subjectAltName, 'DNS:default.signalbox.invalid, DNS:*.example.test');
  assert.equal(cert.ca, false);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']); // Node reports extKeyUsage here
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  assert.ok(from <= Date.now() - 3_500_000 && from > Date.now() - 3_700_000, cert.validFrom);
  assert.ok(Math.abs(to - (Date.now() + 30 * 86_400_000)) < 60_000, cert.validTo);
  assert.match(cert.serialNumber, /^[0-9A-F]{32}$/);
});

test('the key matches and the signature verifies', () => {
  const cert = new X509Certificate(certPem);
  assert.equal(cert.checkPrivateKey(createPrivateKey(keyPem)), true);
  assert.equal(cert.verify(cert.publicKey), true);
  assert.equal(cert.checkHost('a.example.test'), '*.example.test'); // returns the matching SAN
  assert.equal(cert.checkHost('elsewhere.test'), undefined);
});

test('dnsNames defaults to the common name and serials differ', () => {
  const a = new X509Certificate(generateSelfSignedCertificate({ commonName: 'only.cn.test' }).certPem);
  const b = new X509Certificate(generateSelfSignedCertificate({ commonName: 'only.cn.test' }).certPem);
  assert.equal(a.subjectAltName, 'DNS:only.cn.test');
  assert.notEqual(a.serialNumber, b.serialNumber);
});

test('validity past 2049 switches to GeneralizedTime', () => {
  const cert = new X509Certificate(generateSelfSignedCertificate({ commonName: 'long.test', days: 365 * 40 }).certPem);
  assert.ok(new Date(cert.validTo).getUTCFullYear() >= 2060, cert.validTo);
});

test('bad options are rejected', () => {
  assert.throws(() => generateSelfSignedCertificate({ commonName: '' }), TypeError);
  assert.throws(() => generateSelfSignedCertificate({ commonName: 'x'.repeat(65) }), TypeError);
  assert.throws(() => generateSelfSignedCertificate({ commonName: 'a', dnsNames: ['bad name'] }), TypeError);
  assert.throws(() => generateSelfSignedCertificate({ commonName: 'a', days: 0 }), TypeError);
});

test('the openssl CLI accepts it', () => {
  const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: certPem, encoding: 'utf8' });
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /CA:FALSE/);
  assert.match(text, /Digital Signature/);
  assert.match(text, /TLS Web Server Authentication/);
  assert.match(text, /DNS:default\.signalbox\.invalid, DNS:\*\.example\.test/);
});

async function handshake(options: tls.ConnectionOptions): Promise<string | undefined> {
  const server = tls.createServer({ cert: certPem, key: keyPem }, (socket) => socket.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    await once(socket, 'secureConnect');
    const subject = socket.getPeerX509Certificate()?.subject;
    let body = '';
    for await (const chunk of socket) body += String(chunk);
    assert.equal(body, 'ok');
    return subject;
  } finally {
    server.close();
  }
}

test('a TLS server with it completes a handshake for any SNI name when the client does not verify', async () => {
  assert.equal(await handshake({ servername: 'unknown.host.test', rejectUnauthorized: false }), 'CN=signalbox default');
});

test('a client trusting it as CA verifies a handshake for a SAN name', async () => {
  assert.equal(await handshake({ servername: 'www.example.test', ca: certPem, rejectUnauthorized: true }), 'CN=signalbox default');
});

test('a client trusting it rejects a name outside the SAN', async () => {
  await assert.rejects(handshake({ servername: 'other.test', ca: certPem, rejectUnauthorized: true }), {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
  });
});
