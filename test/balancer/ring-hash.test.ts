import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRing } from '../../src/balancer/ring-hash.ts';
import { hashKey32 } from '../../src/balancer/balancer.ts';
import { anyEndpoint, balancer, endpoints, except, hashKeys, pickSequence, seededRandom } from './builders.ts';
import { assign, moves, tally, worstDeviation } from './key-moves.ts';

const keys = hashKeys(100_000);

/** Exact share of the hash space each endpoint owns: the length of the arcs ending at its points. */
function ringShares(list: ReturnType<typeof endpoints>, pointsPerWeight: number): number[] {
  const sorted = list.toSorted((a, b) => (a.id < b.id ? -1 : 1));
  const { points, owners } = buildRing(sorted, pointsPerWeight, 2 ** 24);
  const shares = list.map(() => 0);
  for (let i = 0; i < points.length; i++) {
    const previous = i === 0 ? points[points.length - 1]! - 2 ** 32 : points[i - 1]!;
    shares[list.indexOf(sorted[owners[i]!]!)]! += (points[i]! - previous) / 2 ** 32;
  }
  return shares;
}

describe('ring-hash', () => {
  test('a key goes to the owner of the first point at or after its hash, wrapping around', () => {
    for (const [n, pointsPerWeight] of [[1, 1], [2, 1], [3, 2], [7, 100], [40, 100]] as const) {
      const list = endpoints(n);
      const { points, owners } = buildRing(list, pointsPerWeight, 2 ** 20);
      const b = balancer('ring-hash', list, { ringPointsPerWeight: pointsPerWeight });
      for (const key of [...keys.slice(0, 3000), '', 'x']) {
        const hash = hashKey32(key);
        const first = points.findIndex((p) => p >= hash);
        assert.equal(b.pick(key, anyEndpoint), list[owners[first === -1 ? 0 : first]!], `${n}/${pointsPerWeight}: ${key}`);
      }
    }
  });

  test('the same key goes to the same endpoint, whatever order the endpoints come in', () => {
    const list = endpoints(20);
    const reversed = list.toReversed();
    assert.deepEqual(assign('ring-hash', reversed, keys), assign('ring-hash', list, keys));
  });

  for (const n of [5, 20]) {
    test(`adding or removing one of ${n} endpoints moves only that endpoint's keys, at most 1.3/N of them`, () => {
      const list = endpoints(n + 1);
      const before = assign('ring-hash', list.slice(0, n), keys);
      // Add: the new endpoint takes about 1/(N+1) of the keys, and nothing else moves.
      const added = moves(before, assign('ring-hash', list, keys), list[n]!.id);
      assert.equal(added.elsewhere, 0);
      assert.ok(added.moved <= (keys.length / (n + 1)) * 1.3, `added: ${added.moved} moved`);
      // Remove each endpoint in turn: exactly its keys move. The 1.3 is the ring's spread with 100
      // points per endpoint (its share is 1/N ± 30%, see below).
      for (const gone of list.slice(0, n)) {
        const removed = moves(before, assign('ring-hash', list.slice(0, n).filter((e) => e !== gone), keys), gone.id);
        assert.equal(removed.elsewhere, 0);
        assert.equal(removed.moved, tally(before).get(gone.id));
        assert.ok(removed.moved <= (keys.length / n) * 1.3, `removed ${gone.id}: ${removed.moved} moved`);
      }
    });
  }

  test('spread with 100 points per endpoint: each owns 1/N ± 30% of the hash space (measured: ±14% at N=5, ±24% at N=20)', () => {
    // A share is a sum of 100 random arcs: σ ≈ 10% of 1/N, so ±30% is 3σ. Honest, not tight.
    for (const n of [5, 20]) {
      for (const share of ringShares(endpoints(n), 100)) assert.ok(Math.abs(share * n - 1) <= 0.3, `N=${n}: ${share * n}`);
    }
  });

  test('more points per weight tighten the spread: 1000 give ±10% at N=20 (measured ±4.5%)', () => {
    for (const share of ringShares(endpoints(20), 1000)) assert.ok(Math.abs(share * 20 - 1) <= 0.1, `${share * 20}`);
    const list = endpoints(20);
    const expected = new Map(list.map((e) => [e.id, 1 / 20]));
    const spread = worstDeviation(assign('ring-hash', list, keys, undefined, { ringPointsPerWeight: 1000 }), expected);
    assert.ok(spread <= 0.1, `keys: ±${(spread * 100).toFixed(1)}%`);
  });

  test('keys follow the hash space: 100k keys over 5 endpoints land within ±30% of 1/N', () => {
    const list = endpoints(5);
    const spread = worstDeviation(assign('ring-hash', list, keys), new Map(list.map((e) => [e.id, 1 / 5])));
    assert.ok(spread <= 0.3, `±${(spread * 100).toFixed(1)}%`);
  });

  test('weights shift the spread proportionally: weights 1,2,3,4 own 10/20/30/40% ± 30% of that', () => {
    const list = endpoints(4, [1, 2, 3, 4]);
    const shares = ringShares(list, 100);
    list.forEach((e, i) => assert.ok(Math.abs(shares[i]! / (e.weight / 10) - 1) <= 0.3, `weight ${e.weight}: ${shares[i]}`));
    const spread = worstDeviation(assign('ring-hash', list, keys), new Map(list.map((e) => [e.id, e.weight / 10])));
    assert.ok(spread <= 0.3, `keys: ±${(spread * 100).toFixed(1)}%`);
  });

  test('an unusable endpoint: only its keys move, to its ring neighbours, and they come back', () => {
    const list = endpoints(5);
    const down = list[1]!.id;
    const before = assign('ring-hash', list, keys);
    const during = assign('ring-hash', list, keys, except(down));
    const { moved, elsewhere } = moves(before, during, down);
    assert.equal(elsewhere, 0);
    assert.equal(moved, tally(before).get(down));
    // With 100 points the neighbours are all the other endpoints: no single one takes them all.
    const takers = tally(during.filter((_, i) => before[i] === down));
    assert.equal(takers.size, 4);
    for (const [id, count] of takers) assert.ok(count < moved / 2, `${id} took ${count} of ${moved}`);
    assert.deepEqual(assign('ring-hash', list, keys), before);
  });

  test('a ring larger than ringMaxPoints is scaled down, every endpoint keeping at least one point', () => {
    const list = endpoints(10, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1000]);
    const { points, owners } = buildRing(list, 100, 5000);
    assert.ok(points.length <= 5000 + list.length);
    assert.equal(new Set(owners).size, 10);
  });

  test('a null hash key falls back to smooth weighted round robin', () => {
    const list = endpoints(3, [2, 1, 1]);
    const [a, b, c] = list.map((e) => e.id) as [string, string, string];
    assert.deepEqual(pickSequence(balancer('ring-hash', list, { random: () => 0 }), 8), [a, b, c, a, a, b, c, a]);
    assert.deepEqual(pickSequence(balancer('ring-hash', list, { random: seededRandom(5) }), 100), pickSequence(balancer('weighted-round-robin', list, { random: seededRandom(5) }), 100));
  });
});
