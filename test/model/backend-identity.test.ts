/**
 * The subject alternative names a BackendTLSPolicy asks of a backend's certificate, judged on the
 * `subjectaltname` string Node gives for the peer's certificate (the data-plane tests prove the hook
 * on real handshakes): DNS names with RFC 6125 wildcards, URIs exactly, the subject's CN never.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { subjectAltNameCheck } from '../../src/model/backend-identity.ts';
import { DEFAULT_BACKEND_TLS, type BackendSubjectAltName } from '../../src/model/policy.ts';

function judge(wanted: BackendSubjectAltName[], subjectaltname: string | undefined, cn = 'upstream.test'): string | undefined {
  const check = subjectAltNameCheck({ ...DEFAULT_BACKEND_TLS, serverName: 'sni.test', subjectAltNames: wanted });
  assert.ok(check !== undefined);
  const err = check('sni.test', { subjectaltname, subject: { CN: cn } } as unknown as PeerCertificate);
  return err === undefined ? undefined : (err as NodeJS.ErrnoException).code;
}

describe('subjectAltNameCheck', () => {
  test('no names asked: TLS checks the server name as always (no hook)', () => {
    assert.equal(subjectAltNameCheck(DEFAULT_BACKEND_TLS), undefined);
    assert.equal(subjectAltNameCheck({ ...DEFAULT_BACKEND_TLS, subjectAltNames: [] }), undefined);
  });
  test('a Hostname matches a DNS name of the certificate, in any case, or a wildcard covering it', () => {
    assert.equal(judge([{ type: 'Hostname', value: 'upstream.test' }], 'DNS:other.test, DNS:Upstream.Test'), undefined);
    assert.equal(judge([{ type: 'Hostname', value: 'a.example.com' }], 'DNS:*.example.com'), undefined);
    assert.equal(judge([{ type: 'Hostname', value: 'a.b.example.com' }], 'DNS:*.example.com'), 'ERR_TLS_CERT_ALTNAME_INVALID');
  });
  test('a wildcard Hostname asks for that wildcard itself', () => {
    assert.equal(judge([{ type: 'Hostname', value: '*.example.com' }], 'DNS:*.example.com'), undefined);
    assert.equal(judge([{ type: 'Hostname', value: '*.example.com' }], 'DNS:a.example.com'), 'ERR_TLS_CERT_ALTNAME_INVALID');
  });
  test('the subject\'s CN is not a subject alternative name', () => {
    assert.equal(judge([{ type: 'Hostname', value: 'upstream.test' }], undefined, 'upstream.test'), 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.equal(judge([{ type: 'Hostname', value: 'upstream.test' }], 'URI:spiffe://cluster/web', 'upstream.test'), 'ERR_TLS_CERT_ALTNAME_INVALID');
  });
  test('a URI matches exactly, not as a DNS name or a prefix', () => {
    assert.equal(judge([{ type: 'URI', value: 'spiffe://cluster/web' }], 'DNS:web.test, URI:spiffe://cluster/web'), undefined);
    assert.equal(judge([{ type: 'URI', value: 'spiffe://cluster/web' }], 'URI:spiffe://cluster/web/extra'), 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.equal(judge([{ type: 'URI', value: 'spiffe://cluster/web' }], 'DNS:spiffe://cluster/web'), 'ERR_TLS_CERT_ALTNAME_INVALID');
  });
  test('one of several names is enough; a quoted value (with a comma) is read whole', () => {
    assert.equal(judge([{ type: 'Hostname', value: 'nope.test' }, { type: 'URI', value: 'urn:a,b' }], 'URI:"urn:a,b", DNS:web.test'), undefined);
    assert.equal(judge([{ type: 'URI', value: 'urn:a' }], 'URI:"urn:a,b"'), 'ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
