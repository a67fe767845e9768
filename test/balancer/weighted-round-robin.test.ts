import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_SCHEDULE, smoothSchedule } from '../../src/balancer/smooth-schedule.ts';
import { balancer, countPicks, endpoints, except, pickSequence, seededRandom } from './builders.ts';

/** nginx's algorithm as written (ngx_http_upstream_get_peer): O(n) per pick, the reference. */
function nginxOrder(weights: readonly number[], picks: number): number[] {
  const current = weights.map(() => 0);
  const total = weights.reduce((a, b) => a + b, 0);
  const order: number[] = [];
  for (let p = 0; p < picks; p++) {
    let best = -1;
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!;
      if (best === -1 || current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    order.push(best);
  }
  return order;
}

/** The longest run of one endpoint in `sequence`, read cyclically (the schedule repeats). */
function longestRun(sequence: readonly string[], id: string): number {
  let longest = 0;
  let run = 0;
  for (const x of [...sequence, ...sequence]) {
    run = x === id ? run + 1 : 0;
    longest = Math.max(longest, Math.min(run, sequence.length));
  }
  return longest;
}

describe('weighted-round-robin', () => {
  test('weights 5,1,1 interleave as nginx does: a a b a c a a', () => {
    const list = endpoints(3, [5, 1, 1]);
    const [a, b, c] = list.map((e) => e.id) as [string, string, string];
    const sequence = pickSequence(balancer('weighted-round-robin', list, { random: () => 0 }), 14);
    assert.deepEqual(sequence, [a, a, b, a, c, a, a, a, a, b, a, c, a, a]);
  });

  test('never more heavy picks in a row than nginx gives (5,1,1: at most 4, across the period boundary)', () => {
    const list = endpoints(3, [5, 1, 1]);
    const heavy = list[0]!.id;
    const sequence = pickSequence(balancer('weighted-round-robin', list, { random: seededRandom(9) }), 700);
    assert.equal(longestRun(sequence, heavy), longestRun(nginxOrder([5, 1, 1], 7).map((i) => list[i]!.id), heavy));
    assert.equal(longestRun(sequence, heavy), 4);
  });

  test('the same order as nginx for many weight sets', () => {
    const random = seededRandom(3);
    for (let round = 0; round < 200; round++) {
      const weights = Array.from({ length: 1 + Math.floor(random() * 9) }, () => 1 + Math.floor(random() * 20));
      const period = weights.reduce((a, b) => a + b, 0);
      const schedule = smoothSchedule(weights);
      // The schedule is one period of nginx's order for the weights divided by their gcd, which
      // leaves nginx's order unchanged; repeated, it is nginx's order.
      const repeated = Array.from({ length: 2 * period }, (_, i) => schedule[i % schedule.length]);
      assert.deepEqual(repeated, nginxOrder(weights, 2 * period), `weights ${weights.join(',')}`);
    }
  });

  test('exact proportions over whole periods', () => {
    const list = endpoints(4, [1, 2, 3, 4]);
    const counts = countPicks(balancer('weighted-round-robin', list), 10_000);
    assert.deepEqual(list.map((e) => counts.get(e.id)), [1000, 2000, 3000, 4000]);
  });

  test('skipping an unusable endpoint keeps the others in exact proportion', () => {
    const list = endpoints(4, [1, 2, 3, 4]);
    const counts = countPicks(balancer('weighted-round-robin', list), 9000, except(list[3]!.id));
    assert.deepEqual(list.map((e) => counts.get(e.id) ?? 0), [1500, 3000, 4500, 0]);
  });

  test('huge weight sums are scaled into a bounded schedule, shares off by less than 0.01%', () => {
    const weights = [1_000_003, 2_000_000, 7];
    const schedule = smoothSchedule(weights);
    assert.ok(schedule.length <= MAX_SCHEDULE);
    const total = weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) {
      const share = schedule.filter((x) => x === i).length / schedule.length;
      assert.ok(Math.abs(share - weights[i]! / total) < 1e-4, `endpoint ${i}: ${share}`);
    }
  });
});
