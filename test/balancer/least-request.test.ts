import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requestEnded, requestStarted } from '../../src/balancer/balancer.ts';
import { balancer, countPicks, endpoints, except } from './builders.ts';

describe('least-request', () => {
  test('an endpoint with 10 requests in flight loses to an idle one (≥ 90% of picks go to the idle one)', () => {
    const [busy, idle] = endpoints(2);
    busy!.stats.active = 10;
    const counts = countPicks(balancer('least-request', [busy!, idle!]), 10_000);
    assert.ok((counts.get(idle!.id) ?? 0) >= 9000, `idle got ${counts.get(idle!.id)}`);
  });

  test('among 10 endpoints, one far busier than the rest is never picked (it always loses its pair)', () => {
    const list = endpoints(10);
    list.forEach((e, i) => (e.stats.active = i === 0 ? 20 : 1));
    const counts = countPicks(balancer('least-request', list), 10_000);
    assert.equal(counts.get(list[0]!.id), undefined);
  });

  test('ties are broken at random: equally loaded endpoints share evenly', () => {
    const list = endpoints(4);
    const counts = countPicks(balancer('least-request', list), 40_000);
    for (const e of list) assert.ok(Math.abs((counts.get(e.id) ?? 0) - 10_000) < 400, `${e.id}: ${counts.get(e.id)}`);
  });

  test('weights divide the load: weight 3 with 1 in flight beats weight 1 idle; with 2 in flight it ties', () => {
    const [heavy, light] = endpoints(2, [3, 1]);
    heavy!.stats.active = 1; // (1 + 1) / 3 < (0 + 1) / 1
    assert.deepEqual([...countPicks(balancer('least-request', [heavy!, light!]), 1000)], [[heavy!.id, 1000]]);
    heavy!.stats.active = 2; // (2 + 1) / 3 = (0 + 1) / 1
    const counts = countPicks(balancer('least-request', [heavy!, light!]), 10_000);
    assert.ok(Math.abs((counts.get(heavy!.id) ?? 0) - 5000) < 300, `heavy: ${counts.get(heavy!.id)}`);
  });

  test('under concurrent load, requests in flight spread in proportion to weight', () => {
    const list = endpoints(3, [1, 2, 4]);
    const b = balancer('least-request', list);
    // 700 requests started and none finished: the in-flight counts settle near 100/200/400.
    for (let i = 0; i < 700; i++) requestStarted(b.pick(null, () => true)!.stats);
    list.forEach((e, i) => assert.ok(Math.abs(e.stats.active - 100 * e.weight) <= 0.1 * 100 * e.weight, `${i}: ${e.stats.active} in flight`));
    for (const e of list) while (e.stats.active > 0) requestEnded(e.stats, -1, 0);
  });

  test('never picks an unusable endpoint, even the idle one', () => {
    const list = endpoints(3);
    list[0]!.stats.active = 5;
    list[1]!.stats.active = 5;
    const counts = countPicks(balancer('least-request', list), 1000, except(list[2]!.id));
    assert.equal(counts.get(list[2]!.id), undefined);
    assert.equal(counts.get('null'), undefined);
  });
});
