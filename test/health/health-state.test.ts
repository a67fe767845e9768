import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HealthState } from '../../src/health/health-state.ts';

/** Feeds results ('P' pass, 'F' fail) and returns the verdict after each: 'H' healthy, 'U' unhealthy. */
function run(state: HealthState, results: string): string {
  return [...results].map((r) => (state.record(r === 'P'), state.healthy ? 'H' : 'U')).join('');
}

test('a new state is healthy and goes unhealthy only after unhealthyThreshold failures in a row', () => {
  const state = new HealthState(2, 3);
  assert.equal(state.healthy, true);
  assert.equal(run(state, 'FFPFFPFFF'), 'HHHHHHHHU');
});

test('it comes back only after healthyThreshold passes in a row', () => {
  const state = new HealthState(2, 1);
  assert.equal(run(state, 'F'), 'U');
  assert.equal(run(state, 'PFPFPP'), 'UUUUUH');
});

test('record reports exactly the flips', () => {
  const state = new HealthState(1, 2);
  assert.deepEqual([...'FFFPPF'].map((r) => state.record(r === 'P')), [false, true, false, true, false, false]);
});

test('thresholds below 1 act as 1', () => {
  const state = new HealthState(0, 0);
  assert.equal(run(state, 'FPF'), 'UHU');
});
