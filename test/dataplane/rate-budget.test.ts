import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateBudget } from '../../src/dataplane/server/rate-budget.ts';

describe('RateBudget (the HTTP/2 guard\'s per-connection token bucket)', () => {
  it('spends its capacity at once, then refuses until time refills it', () => {
    const budget = new RateBudget(3, 1, 0);
    assert.deepEqual([budget.take(0), budget.take(0), budget.take(0), budget.take(0)], [true, true, true, false]);
    assert.equal(budget.take(500), false, 'half a token after half a second');
    assert.equal(budget.take(1_000), true, 'one token after a second');
    assert.equal(budget.take(1_000), false);
  });

  it('never holds more than its capacity, however long it was idle', () => {
    const budget = new RateBudget(2, 10, 0);
    const taken = [0, 0, 0].map(() => budget.take(60_000));
    assert.deepEqual(taken, [true, true, false]);
  });

  it('lets a steady rate under the refill go on for ever, and ends a faster one', () => {
    const steady = new RateBudget(20, 2, 0);
    for (let i = 0; i < 1_000; i++) assert.ok(steady.take(i * 600), `take ${i} at ${i * 600} ms`);
    const loop = new RateBudget(20, 2, 0);
    let allowed = 0;
    while (loop.take(allowed * 10)) allowed++;
    assert.ok(allowed >= 20 && allowed < 25, `a loop at 100/s got ${allowed} before the budget ran out`);
  });
});
