import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { balancer, countPicks, endpoints, except } from './builders.ts';

/**
 * Asserts each endpoint's pick count is within 4 standard deviations of its binomial
 * expectation (about 1 in 16,000 per endpoint for a fair draw; the seeded run is deterministic).
 */
function assertShares(counts: Map<string, number>, expected: ReadonlyMap<string, number>, picks: number): void {
  for (const [id, share] of expected) {
    const mean = picks * share;
    const sigma = Math.sqrt(picks * share * (1 - share));
    const actual = counts.get(id) ?? 0;
    assert.ok(Math.abs(actual - mean) <= 4 * sigma, `${id}: ${actual} picks, expected ${mean.toFixed(0)} ± ${(4 * sigma).toFixed(0)}`);
  }
}

describe('random', () => {
  test('unweighted: uniform, each endpoint within 4σ (±2.5% of its share at 100k picks over 5)', () => {
    const list = endpoints(5);
    const counts = countPicks(balancer('random', list), 100_000);
    assertShares(counts, new Map(list.map((e) => [e.id, 1 / 5])), 100_000);
  });

  test('weighted 1,2,3,4: shares 10/20/30/40%, each within 4σ', () => {
    const list = endpoints(4, [1, 2, 3, 4]);
    const counts = countPicks(balancer('random', list), 100_000);
    assertShares(counts, new Map(list.map((e, i) => [e.id, (i + 1) / 10])), 100_000);
  });

  test('a heavily skewed weight (1 vs 99) is honoured', () => {
    const list = endpoints(2, [1, 99]);
    const counts = countPicks(balancer('random', list), 100_000);
    assertShares(counts, new Map([[list[0]!.id, 0.01], [list[1]!.id, 0.99]]), 100_000);
  });

  test('unusable endpoints are redrawn: the rest keep their relative weights', () => {
    const list = endpoints(4, [1, 2, 3, 4]);
    const counts = countPicks(balancer('random', list), 100_000, except(list[3]!.id));
    assert.equal(counts.get(list[3]!.id), undefined);
    assertShares(counts, new Map(list.slice(0, 3).map((e, i) => [e.id, (i + 1) / 6])), 100_000);
  });

  test('with only one usable endpoint out of many, it is still found', () => {
    const list = endpoints(50);
    const counts = countPicks(balancer('random', list), 1000, (e) => e.id === list[17]!.id);
    assert.deepEqual([...counts], [[list[17]!.id, 1000]]);
  });
});
