/**
 * The ordering helpers that make compile output deterministic; here the address order of
 * endpoints: by value, IPv4 before IPv6, independent of spelling and of the process's locale.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressSortKey, compareAddresses } from '../../src/compile/shared/order.ts';

describe('address order', () => {
  test('IPv4 compares by number, not by text', () => {
    assert.deepEqual(
      ['10.0.0.10', '10.0.1.1', '10.0.0.2', '9.255.255.255', '10.0.0.100', '255.0.0.0', '0.0.0.0'].sort(compareAddresses),
      ['0.0.0.0', '9.255.255.255', '10.0.0.2', '10.0.0.10', '10.0.0.100', '10.0.1.1', '255.0.0.0'],
    );
  });

  test('IPv6 after IPv4, by its expanded 128-bit value', () => {
    assert.deepEqual(
      ['fd00::1', '2001:db8::10', '10.0.0.1', '::1', '2001:db8::9', '::ffff:10.0.0.1', '2001:db8::a', '::'].sort(compareAddresses),
      ['10.0.0.1', '::', '::1', '::ffff:10.0.0.1', '2001:db8::9', '2001:db8::a', '2001:db8::10', 'fd00::1'],
    );
  });

  test('the expanded form ignores spelling: case, zero compression, embedded IPv4, zones', () => {
    const same = ['2001:db8::1', '2001:DB8::1', '2001:db8:0:0:0:0:0:1', '2001:0db8::0001', '2001:db8::0.0.0.1', '2001:db8::1%eth0'];
    for (const address of same) assert.equal(addressSortKey(address), '620010db8000000000000000000000001', address);
    assert.equal(addressSortKey('1:2:3:4:5:6:7::'), '600010002000300040005000600070000');
    assert.equal(addressSortKey('10.0.0.10'), '40a00000a');
    // Spellings of one value still get a total order: by text.
    assert.deepEqual([...same].sort(compareAddresses), [...same].sort());
  });

  test('strings that are not addresses sort last, by text', () => {
    for (const bad of ['', 'x', '010.0.0.1', '1.2.3', '256.0.0.1', '1::2::3', '1:2:3:4:5:6:7:8:9', '1.2.3.4::', '1:2:3:4:5:6:7:8::']) {
      assert.equal(addressSortKey(bad), '~', JSON.stringify(bad));
    }
    assert.deepEqual(['b', 'fd00::1', 'a', '10.0.0.1'].sort(compareAddresses), ['10.0.0.1', 'fd00::1', 'a', 'b']);
  });

  test('a total order: antisymmetric, and 0 only for the same string', () => {
    const all = ['10.0.0.1', '10.0.0.01', '::1', '0::1', '::0.0.0.1', 'x', ''];
    for (const a of all) {
      for (const b of all) {
        assert.equal(Math.sign(compareAddresses(a, b)) + Math.sign(compareAddresses(b, a)), 0, `${a} vs ${b}`);
        assert.equal(compareAddresses(a, b) === 0, a === b, `${a} vs ${b}`);
      }
    }
  });
});
