/**
 * The retry budget on its own, on the test runner's clock: what a burst after quiet traffic may
 * retry, and what a failure that goes on can add to the load.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { RETRY_BUDGET_WINDOW_MS, RetryBudget, type RetryAllowance } from '../../src/dataplane/upstream/retry-budget.ts';

const DEFAULTS: RetryAllowance = { minRetriesPerSecond: 10, budgetPercent: 20 };

/** `n` requests spread evenly over `ms` of the mocked clock. */
function traffic(budget: RetryBudget, n: number, ms: number): void {
  for (let i = 0; i < n; i++) {
    budget.deposit();
    mock.timers.tick(ms / n);
  }
}

/** Retries granted out of `n` asked for at this instant. */
function burst(budget: RetryBudget, n: number, allowance: RetryAllowance = DEFAULTS): number {
  let granted = 0;
  for (let i = 0; i < n; i++) if (budget.tryWithdraw(allowance)) granted++;
  return granted;
}

describe('retry budget', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());
  const clock = (): number => Date.now();

  it('a burst after quiet traffic is absorbed up to the window’s allowance, and no further', () => {
    const budget = new RetryBudget(clock);
    // 100 requests a second for 9 s, all still in the window: 10 × 10 + 20 % of 900 = 280 retries.
    traffic(budget, 900, 9_000);
    assert.equal(budget.allowed(DEFAULTS), 280);
    // An endpoint dies holding 40 requests: every one of them is retried at once — far more than
    // 20 % of what is in flight at that instant, well within what the window earned.
    assert.equal(burst(budget, 40), 40);
    // A burst beyond the window's allowance gets exactly the rest.
    assert.equal(burst(budget, 1000), 240);
    assert.equal(burst(budget, 1), 0);
  });

  it('a quiet cluster can retry its floor, and a zero floor leaves only the percentage', () => {
    const budget = new RetryBudget(clock);
    assert.equal(burst(budget, 50, { minRetriesPerSecond: 1, budgetPercent: 20 }), 10);
    const none = new RetryBudget(clock);
    traffic(none, 49, 1000);
    assert.equal(burst(none, 50, { minRetriesPerSecond: 0, budgetPercent: 10 }), 4);
  });

  it('a sustained failure rate cannot multiply load beyond the budget', () => {
    const budget = new RetryBudget(clock);
    const allowance: RetryAllowance = { minRetriesPerSecond: 1, budgetPercent: 20 };
    // One minute at 50 requests a second, every one of them failing and asking for a retry.
    const perSecond: { requests: number; retries: number }[] = [];
    for (let s = 0; s < 60; s++) {
      let retries = 0;
      for (let i = 0; i < 50; i++) {
        budget.deposit();
        if (budget.tryWithdraw(allowance)) retries++;
        mock.timers.tick(20);
      }
      perSecond.push({ requests: 50, retries });
    }
    // In any 10-second stretch, retries stay within the floor (1/s × 10) plus 20 % of the requests.
    for (let s = 0; s + 10 <= 60; s++) {
      const stretch = perSecond.slice(s, s + 10);
      const requests = stretch.reduce((sum, x) => sum + x.requests, 0);
      const retries = stretch.reduce((sum, x) => sum + x.retries, 0);
      assert.ok(retries <= 10 + requests * 0.2, `seconds ${s}-${s + 10}: ${retries} retries for ${requests} requests`);
    }
    // Over the minute the load upstream (first tries plus retries) stays near 1.2× the requests.
    const requests = perSecond.reduce((sum, x) => sum + x.requests, 0);
    const retries = perSecond.reduce((sum, x) => sum + x.retries, 0);
    assert.ok(retries <= requests * 0.2 + 10 * 6, `${retries} retries for ${requests} requests`);
    // And the budget does not starve: once the window is full, retries keep flowing at that share.
    assert.ok(perSecond.slice(20).every((x) => x.retries > 0), 'retries go on at the budgeted share');
  });

  it('retries and requests age out of the window', () => {
    const budget = new RetryBudget(clock);
    traffic(budget, 100, 1000);
    assert.equal(burst(budget, 1000, { minRetriesPerSecond: 0, budgetPercent: 50 }), 50);
    assert.equal(burst(budget, 1, { minRetriesPerSecond: 0, budgetPercent: 50 }), 0);
    mock.timers.tick(RETRY_BUDGET_WINDOW_MS);
    assert.deepEqual(budget.counts(), { requests: 0, retries: 0 });
    // Back to the floor only, the old traffic no longer earns anything.
    assert.equal(burst(budget, 1000, { minRetriesPerSecond: 2, budgetPercent: 50 }), 20);
  });

  it('a new percentage applies at once to the traffic already seen', () => {
    const budget = new RetryBudget(clock);
    traffic(budget, 200, 2000);
    assert.equal(budget.allowed({ minRetriesPerSecond: 0, budgetPercent: 10 }), 20);
    assert.equal(budget.allowed({ minRetriesPerSecond: 0, budgetPercent: 50 }), 100);
  });
});
