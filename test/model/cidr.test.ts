/**
 * The CIDR reading that the table checker and the ClientAddress filter share: canonical text,
 * addresses in both families, IPv4-mapped IPv6 as IPv4, and the prepared set's membership test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressSet } from '../../src/dataplane/lifecycle/filters/address-set.ts';
import { checkRoute, type RouteRefs } from '../../src/model/check-routes.ts';
import { normalizeCidr, parseAddress, parseIPv6 } from '../../src/model/cidr.ts';
import type { Filter, Route } from '../../src/model/table.ts';

describe('CIDR blocks', () => {
  test('normalizeCidr writes the canonical form, and refuses what is no address or block', () => {
    const cases: [string, string | null][] = [
      ['10.0.0.1', '10.0.0.1/32'],
      ['10.1.2.3/8', '10.0.0.0/8'],
      ['0.0.0.0/0', '0.0.0.0/0'],
      ['::1', '::1/128'],
      ['2001:DB8:0:0:1::/64', '2001:db8::/64'],
      ['1:0:0:1:0:0:0:1', '1:0:0:1::1/128'],
      ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
      ['::ffff:192.0.2.1', '192.0.2.1/32'],
      ['::/0', '::/0'],
      ['10.0.0.0/33', null],
      ['2001:db8::/129', null],
      ['01.2.3.4', null],
      ['1.2.3.4/08', null],
      ['1.2.3', null],
      ['fe80::1%eth0', null],
      ['1::2::3', null],
      ['shop.example', null],
      ['', null],
    ];
    for (const [text, canonical] of cases) assert.equal(normalizeCidr(text), canonical, text);
  });

  test('parseIPv6 reads every way of writing an address, and nothing else', () => {
    const hex = (text: string): string | null => parseIPv6(text)?.toString(16) ?? null;
    assert.equal(hex('::'), '0');
    assert.equal(hex('1::'), (1n << 112n).toString(16));
    assert.equal(hex('1:2:3:4:5:6:7:8'), '10002000300040005000600070008');
    assert.equal(hex('::2:3:4:5:6:7:8'), '2000300040005000600070008');
    assert.equal(hex('1:2:3:4:5:6:1.2.3.4'), '10002000300040005000601020304');
    assert.equal(hex('fe80::1%eth0'), 'fe800000000000000000000000000001');
    for (const bad of [':1', '1:', ':', '1:::2', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', '::1.2.3', 'g::1', '1.2.3.4']) assert.equal(parseIPv6(bad), null, bad);
  });

  test('an IPv4-mapped address is the IPv4 address it maps', () => {
    assert.deepEqual(parseAddress('::ffff:127.0.0.1'), { family: 4, value: 0x7f000001n });
    assert.deepEqual(parseAddress('::ffff:7f00:1'), { family: 4, value: 0x7f000001n });
    assert.deepEqual(parseAddress('::1'), { family: 6, value: 1n });
  });

  test('an AddressSet answers for both families, across merged and adjacent blocks', () => {
    const set = new AddressSet(['10.0.0.0/9', '10.128.0.0/9', '192.0.2.7/32', '2001:db8::/32', '10.1.0.0/16']);
    for (const inside of ['10.0.0.0', '10.255.255.255', '::ffff:10.200.0.1', '192.0.2.7', '2001:db8:ffff::1']) assert.equal(set.has(inside), true, inside);
    for (const outside of ['11.0.0.0', '9.255.255.255', '192.0.2.8', '2001:db9::', '::1', 'not-an-ip', '']) assert.equal(set.has(outside), false, outside);
    assert.equal(new AddressSet([]).empty, true);
    // IPv6 bounds that differ only in their middle or last bits.
    const v6 = new AddressSet(['2001:db8:0:1::/64', 'fd00::1:0/112', '::1/128']);
    for (const inside of ['2001:db8:0:1::', '2001:db8:0:1:ffff:ffff:ffff:ffff', 'fd00::1:0', 'fd00::1:ffff', '::1']) assert.equal(v6.has(inside), true, inside);
    for (const outside of ['2001:db8:0:0:ffff:ffff:ffff:ffff', '2001:db8:0:2::', 'fd00::2:0', 'fd00::0:ffff', '::2', '::', '::ffff:0.0.0.1']) assert.equal(v6.has(outside), false, outside);
  });
});

describe('checkRoute on the ClientAddress and BodyLimit filters', () => {
  const refs: RouteRefs = { cluster: () => {}, script: () => {} };
  const problems = (filter: Filter): string[] => {
    const route: Route = { match: { path: { type: 'Prefix', value: '/' } }, backends: [], filters: [filter], provenance: 'Ingress/shop/web/rule/0/path/0' };
    const out: string[] = [];
    checkRoute('route', route, refs, (at, _p, message) => out.push(`${at}: ${message}`));
    return out;
  };

  test('accepts canonical blocks and a positive safe integer', () => {
    assert.deepEqual(problems({ type: 'ClientAddress', allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.1.2.3/32'] }), []);
    assert.deepEqual(problems({ type: 'ClientAddress', allow: [], deny: ['::1/128'] }), []);
    assert.deepEqual(problems({ type: 'BodyLimit', maxBytes: 1 }), []);
    assert.deepEqual(problems({ type: 'BodyLimit', maxBytes: Number.MAX_SAFE_INTEGER }), []);
  });

  test('refuses a block that is no CIDR, or not in canonical form, saying how to write it', () => {
    assert.deepEqual(problems({ type: 'ClientAddress', allow: ['10.0.0.0/8', '10.0.0.300'] }), ['route.filters[0].allow[1]: "10.0.0.300" is not an IPv4 or IPv6 address or CIDR block']);
    assert.deepEqual(problems({ type: 'ClientAddress', deny: ['10.1.2.3/8', '::1'] }), [
      'route.filters[0].deny[0]: "10.1.2.3/8" is not in canonical form: write 10.0.0.0/8',
      'route.filters[0].deny[1]: "::1" is not in canonical form: write ::1/128',
    ]);
    assert.deepEqual(problems({ type: 'ClientAddress' }), ['route.filters[0]: a ClientAddress filter with neither allow nor deny']);
  });

  test('refuses a body limit that is not a positive safe integer', () => {
    for (const maxBytes of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
      const [message] = problems({ type: 'BodyLimit', maxBytes });
      assert.match(message ?? '', /maxBytes .* is not a positive whole number of bytes/, String(maxBytes));
    }
  });
});
