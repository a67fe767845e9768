import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createBalancer } from '../../src/balancer/balancer.ts';
import { endpoint, endpoints } from './builders.ts';

describe('createBalancer', () => {
  test('refuses weights that are not integers >= 1', () => {
    for (const weight of [0, -1, 1.5, Number.NaN, Infinity]) {
      assert.throws(() => createBalancer('round-robin', [endpoint('10.0.0.1:80', weight)]), RangeError, `weight ${weight}`);
    }
  });

  test('refuses a repeated id under the hashing policies, which could not place it consistently', () => {
    const twice = [endpoint('10.0.0.1:80'), endpoint('10.0.0.1:80')];
    assert.throws(() => createBalancer('ring-hash', twice), RangeError);
    assert.throws(() => createBalancer('maglev', twice), RangeError);
  });

  test('refuses a Maglev table size that is not a prime at least the endpoint count', () => {
    for (const size of [65536, 1000, 3, 0]) assert.throws(() => createBalancer('maglev', endpoints(5), { maglevTableSize: size }), RangeError, `size ${size}`);
    assert.doesNotThrow(() => createBalancer('maglev', endpoints(5), { maglevTableSize: 5 }));
  });

  test('refuses bad ring options', () => {
    assert.throws(() => createBalancer('ring-hash', endpoints(2), { ringPointsPerWeight: 0 }), RangeError);
    assert.throws(() => createBalancer('ring-hash', endpoints(2), { ringMaxPoints: 0.5 }), RangeError);
  });

  test('an IPv6 id is just a string to hash', () => {
    const list = [endpoint('[2001:db8::1]:8080'), endpoint('[2001:db8::2]:8080')];
    const b = createBalancer('maglev', list);
    assert.equal(b.pick('user-1', () => true), b.pick('user-1', () => true));
  });
});
