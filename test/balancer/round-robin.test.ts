import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { balancer, countPicks, endpoints, except, pickSequence, seededRandom } from './builders.ts';

describe('round-robin', () => {
  test('cycles through the endpoints in table order, ignoring weights', () => {
    const list = endpoints(4, [5, 1, 1, 3]);
    const ids = list.map((e) => e.id);
    const sequence = pickSequence(balancer('round-robin', list, { random: () => 0 }), 12);
    assert.deepEqual(sequence, [...ids, ...ids, ...ids]);
  });

  test('every endpoint gets exactly the same number of picks', () => {
    const counts = countPicks(balancer('round-robin', endpoints(7)), 7000);
    assert.deepEqual([...counts.values()], Array(7).fill(1000));
  });

  test('skips an unusable endpoint; the others still get exactly one pick each per cycle', () => {
    const list = endpoints(5);
    const down = list[2]!.id;
    const counts = countPicks(balancer('round-robin', list), 4000, except(down));
    assert.equal(counts.get(down), undefined);
    assert.deepEqual([...counts.values()], [1000, 1000, 1000, 1000]);
  });

  test('workers do not all start on the same endpoint after a table swap', () => {
    const list = endpoints(10);
    const firsts = new Set(Array.from({ length: 20 }, (_, seed) => balancer('round-robin', list, { random: seededRandom(seed) }).pick(null, () => true)?.id));
    assert.ok(firsts.size >= 5, `first picks: ${[...firsts].join(', ')}`);
  });
});
