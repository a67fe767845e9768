import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHeader, parseHeader } from '../../src/dataplane/proxy-protocol/header.ts';

const v4 = { sourceAddress: '203.0.113.7', sourcePort: 51000, destinationAddress: '10.0.0.1', destinationPort: 443 };
const v6 = { sourceAddress: '2001:db8::7', sourcePort: 51000, destinationAddress: 'fe80::1:2', destinationPort: 80 };

describe('PROXY protocol headers', () => {
  it('writes v1 lines as the specification spells them', () => {
    assert.equal(encodeHeader('v1', v4).toString('latin1'), 'PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n');
    assert.equal(encodeHeader('v1', { ...v4, sourceAddress: '::ffff:203.0.113.7' }).toString('latin1'), 'PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n', 'an IPv4-mapped client is TCP4');
    assert.equal(encodeHeader('v1', { ...v4, destinationAddress: '::1' }).toString('latin1'), 'PROXY UNKNOWN\r\n', 'a mix of families cannot be said');
  });

  it('reads back what it writes, v1 and v2, IPv4 and IPv6, with the bytes after the header left alone', () => {
    for (const version of ['v1', 'v2'] as const) {
      for (const addresses of [v4, v6]) {
        const header = encodeHeader(version, addresses);
        const parsed = parseHeader(Buffer.concat([header, Buffer.from('GET / HTTP/1.1\r\n')]));
        assert.deepEqual(parsed, { kind: 'header', length: header.length, addresses }, `${version} ${addresses.sourceAddress}`);
      }
    }
  });

  it('waits for more bytes while a header may still be coming, and says none as soon as it cannot be one', () => {
    const v2 = encodeHeader('v2', v4);
    for (const cut of [1, 5, 12, 15, v2.length - 1]) assert.equal(parseHeader(v2.subarray(0, cut)).kind, 'more', `v2 cut at ${cut}`);
    assert.equal(parseHeader(Buffer.from('PROXY TCP4 1.2')).kind, 'more');
    assert.equal(parseHeader(Buffer.from('G')).kind, 'none');
    assert.equal(parseHeader(Buffer.from([0x16, 0x03, 0x01])).kind, 'none', 'a TLS ClientHello');
    assert.equal(parseHeader(Buffer.from('\r\n\r\nGET')).kind, 'none');
  });

  it('takes v2 LOCAL and v1 UNKNOWN as headers without addresses, and skips TLVs', () => {
    const local = encodeHeader('v2', { ...v4, destinationAddress: '::1' });
    assert.deepEqual(parseHeader(local), { kind: 'header', length: 16, addresses: null });
    assert.deepEqual(parseHeader(Buffer.from('PROXY UNKNOWN whatever\r\n')), { kind: 'header', length: 24, addresses: null });
    const plain = encodeHeader('v2', v4);
    const tlv = Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63]); // PP2_TYPE_NOOP, three bytes
    const withTlv = Buffer.concat([plain, tlv]);
    withTlv.writeUInt16BE(plain.length - 16 + tlv.length, 14);
    assert.deepEqual(parseHeader(withTlv), { kind: 'header', length: withTlv.length, addresses: v4 });
  });

  it('calls broken and oversized headers malformed', () => {
    const long = Buffer.from(`PROXY TCP4 ${'9'.repeat(100)}`);
    assert.equal(parseHeader(long).kind, 'malformed', 'a v1 line past 107 bytes without its CRLF');
    assert.equal(parseHeader(Buffer.from('PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n')).kind, 'malformed');
    assert.equal(parseHeader(Buffer.from('PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n')).kind, 'malformed');
    const huge = encodeHeader('v2', v4);
    huge.writeUInt16BE(60_000, 14);
    assert.equal(parseHeader(huge).kind, 'malformed');
    const command = encodeHeader('v2', v4);
    command[12] = 0x22;
    assert.equal(parseHeader(command).kind, 'malformed');
  });
});
