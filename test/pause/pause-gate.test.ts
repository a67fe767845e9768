import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PauseGate, type GateObserver, type HeldRequest } from '../../src/pause/pause-gate.ts';

/** An observer that records what a gate reports. */
class Recorder implements GateObserver {
  heldNow = 0;
  readonly outcomes: string[] = [];
  held(_gate: PauseGate, delta: number): void {
    this.heldNow += delta;
  }
  left(_gate: PauseGate, outcome: string): void {
    this.outcomes.push(outcome);
  }
  rate(): void {}
  idle(): void {}
}

/** A held request that records how its wait ended. */
function waiter(name: string, log: string[], deadlineInMs = 10_000, bytes = 0): HeldRequest {
  return { bytes, deadline: performance.now() + deadlineInMs, release: () => log.push(`${name} released`), expire: () => log.push(`${name} expired`) };
}

const BOUNDS = { maxRequests: 3, maxBodyBytes: 1_000 };
const FAST = { initialPerSecond: 10_000, doublingMs: 1, maxPerSecond: 10_000 };

describe('PauseGate', () => {
  it('releases in arrival order once opened, and is then empty', async () => {
    const log: string[] = [];
    const gate = new PauseGate('no-endpoint', 'shop/app:80', BOUNDS, new Recorder(), FAST);
    for (const name of ['a', 'b', 'c']) assert.ok(gate.admit(waiter(name, log)).held);
    assert.equal(gate.size, 3);
    gate.open();
    while (gate.size > 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(log, ['a released', 'b released', 'c released']);
    assert.equal(gate.releasing, false);
  });

  it('refuses beyond its request and byte bounds, and takes again once a place is free', () => {
    const log: string[] = [];
    const gate = new PauseGate('operator', 'shop/maintenance', BOUNDS, new Recorder(), FAST);
    assert.ok(gate.admit(waiter('big', log, 10_000, 900)).held);
    assert.deepEqual(gate.admit(waiter('too-big', log, 10_000, 200)), { held: false, bound: 'bytes' });
    const second = gate.admit(waiter('b', log));
    assert.ok(gate.admit(waiter('c', log)).held);
    assert.deepEqual(gate.admit(waiter('d', log)), { held: false, bound: 'requests' });
    assert.ok(second.held);
    second.cancel();
    assert.equal(gate.size, 2);
    assert.ok(gate.admit(waiter('d', log)).held, 'a cancelled wait frees its place at once');
    gate.expireAll();
  });

  it('expires each request at its own deadline; a cancelled one is never released', async () => {
    const log: string[] = [];
    const observer = new Recorder();
    const gate = new PauseGate('script', 'shop/tenants', BOUNDS, observer, FAST);
    gate.admit(waiter('short', log, 30));
    const gone = gate.admit(waiter('gone', log, 5_000));
    gate.admit(waiter('long', log, 5_000));
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(log, ['short expired']);
    if (gone.held) gone.cancel();
    gate.open();
    while (gate.size > 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(log, ['short expired', 'long released']);
    assert.deepEqual(observer.outcomes, ['expired', 'abandoned', 'released']);
  });

  it('close stops a release midway; what is left waits for the next open', async () => {
    const log: string[] = [];
    const slow = { initialPerSecond: 20, doublingMs: 10_000, maxPerSecond: 20 };
    const gate = new PauseGate('no-endpoint', 'shop/app:80', { maxRequests: 100, maxBodyBytes: 0 }, new Recorder(), slow);
    for (let i = 0; i < 10; i++) gate.admit(waiter(`r${i}`, log));
    gate.open();
    await new Promise((r) => setTimeout(r, 120));
    gate.close();
    const releasedBeforeClose = log.length;
    assert.ok(releasedBeforeClose >= 2 && releasedBeforeClose <= 5, `released ${releasedBeforeClose} at 20/s in ~120 ms`);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(log.length, releasedBeforeClose, 'nothing more after close');
    gate.expireAll();
    assert.equal(log.filter((l) => l.endsWith('expired')).length, 10 - releasedBeforeClose);
  });
});
