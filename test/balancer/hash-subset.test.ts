import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { subsetsOf } from '../../src/balancer/hash-subset.ts';
import { anyEndpoint, balancer, endpoints, except, hashKeys } from './builders.ts';

const keys = hashKeys(2_000);
const sortedIds = (list: ReturnType<typeof endpoints>): string[] => list.map((e) => e.id).sort();

describe('ring-hash onto subsets (hashSubsetSize)', () => {
  test('sets are cut in turn, the last filled up from the first endpoints (chashsubset)', () => {
    assert.deepEqual(subsetsOf(7, 3), [[0, 1, 2], [3, 4, 5], [6, 0, 1]]);
    assert.deepEqual(subsetsOf(6, 3), [[0, 1, 2], [3, 4, 5]]);
    assert.deepEqual(subsetsOf(2, 3), [[0, 1, 0]]);
  });

  test('a key stays within one set of the size and spreads over all of it', () => {
    const list = endpoints(9);
    const ids = sortedIds(list);
    const sets = subsetsOf(9, 3).map((s) => new Set(s.map((i) => ids[i]!)));
    const b = balancer('ring-hash', list, { hashSubsetSize: 3 });
    const usedSets = new Set<number>();
    for (const key of keys.slice(0, 200)) {
      const seen = new Set(Array.from({ length: 60 }, () => b.pick(key, anyEndpoint)!.id));
      const set = sets.findIndex((s) => [...seen].every((id) => s.has(id)));
      assert.notEqual(set, -1, `${key} went outside one set: ${[...seen].join(' ')}`);
      assert.equal(seen.size, 3, `${key} used its whole set`);
      usedSets.add(set);
    }
    assert.equal(usedSets.size, 3, 'keys spread over every set');
  });

  test('an unusable member leaves the rest of its set; a set with none usable moves its keys on', () => {
    const list = endpoints(6);
    const ids = sortedIds(list);
    const b = balancer('ring-hash', list, { hashSubsetSize: 3 });
    const key = keys[0]!;
    const home = new Set(Array.from({ length: 60 }, () => b.pick(key, anyEndpoint)!.id));
    const [first, ...rest] = [...home];
    const without = new Set(Array.from({ length: 60 }, () => b.pick(key, except(first!))!.id));
    assert.deepEqual([...without].sort(), rest.sort());
    const other = new Set(Array.from({ length: 60 }, () => b.pick(key, except(...home))!.id));
    assert.equal(other.size, 3);
    for (const id of other) assert.ok(!home.has(id) && ids.includes(id));
    assert.equal(b.pick(key, () => false), null);
  });

  test('a request without a key is balanced over every endpoint', () => {
    const b = balancer('ring-hash', endpoints(5), { hashSubsetSize: 2 });
    assert.equal(new Set(Array.from({ length: 10 }, () => b.pick(null, anyEndpoint)!.id)).size, 5);
  });
});
