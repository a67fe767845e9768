import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RAMP, ReleaseRamp } from '../../src/pause/release-ramp.ts';

/** How many releases the ramp allows by each of `times` (ms after the start), taking them as it goes. */
function releasedBy(ramp: ReleaseRamp, start: number, times: readonly number[]): number[] {
  let total = 0;
  return times.map((t) => {
    const n = ramp.available(start + t);
    ramp.took(n);
    return (total += n);
  });
}

describe('ReleaseRamp', () => {
  it('lets the first request go at once, then a few, then ever more per interval', () => {
    const ramp = new ReleaseRamp(DEFAULT_RAMP, 1_000);
    const [atStart, at250, at500, at750, at1000] = releasedBy(ramp, 1_000, [0, 250, 500, 750, 1_000]);
    assert.equal(atStart, 1);
    // 20/s doubling every 250 ms: ~7 in the first 250 ms, ~14 more, ~29 more, ~58 more.
    assert.ok(at250! >= 7 && at250! <= 9, `by 250 ms: ${at250}`);
    const steps = [at250! - atStart!, at500! - at250!, at750! - at500!, at1000! - at750!];
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i]! >= steps[i - 1]! * 1.8, `each interval lets about twice as many go: ${steps.join(', ')}`);
  });

  it('drains a backlog of 1000 in about 1.8 s and 100 in under a second', () => {
    const timeToDrain = (backlog: number): number => {
      const ramp = new ReleaseRamp(DEFAULT_RAMP, 0);
      let left = backlog;
      for (let t = 0; t < 60_000; t += 10) {
        const n = Math.min(left, ramp.available(t));
        ramp.took(n);
        left -= n;
        if (left === 0) return t;
      }
      return Infinity;
    };
    const thousand = timeToDrain(1_000);
    assert.ok(thousand > 1_500 && thousand < 2_100, `1000 in ${thousand} ms`);
    assert.ok(timeToDrain(100) < 1_000);
  });

  it('grows no faster than its maximum rate', () => {
    const ramp = new ReleaseRamp({ initialPerSecond: 100, doublingMs: 100, maxPerSecond: 1_000 }, 0);
    assert.equal(ramp.rateAt(10_000), 1_000);
    releasedBy(ramp, 0, [5_000]);
    const inOneSecond = ramp.available(6_000);
    assert.ok(inOneSecond >= 999 && inOneSecond <= 1_001, `${inOneSecond} in the second after the cap`);
  });

  it('refuses settings that would never release', () => {
    assert.throws(() => new ReleaseRamp({ initialPerSecond: 0, doublingMs: 250, maxPerSecond: 10 }, 0), RangeError);
    assert.throws(() => new ReleaseRamp({ initialPerSecond: 10, doublingMs: 0, maxPerSecond: 10 }, 0), RangeError);
    assert.throws(() => new ReleaseRamp({ initialPerSecond: 10, doublingMs: 250, maxPerSecond: 5 }, 0), RangeError);
  });
});
