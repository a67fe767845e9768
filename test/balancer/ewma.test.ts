import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createBalancer, requestEnded, requestStarted } from '../../src/balancer/balancer.ts';
import type { Balancer } from '../../src/balancer/balancer.ts';
import { ewmaCost, UNMEASURED_BUSY_COST } from '../../src/balancer/ewma.ts';
import { anyEndpoint, endpoints, seededRandom } from './builders.ts';
import type { TestEndpoint } from './builders.ts';

/**
 * A simulated proxy on a fake clock: a request arrives every `gapMs`, goes where the balancer
 * says and ends after its endpoint's current latency.
 */
class Simulation {
  now = 0;
  readonly latencyMs = new Map<string, number>();
  readonly #inFlight: { endpoint: TestEndpoint; start: number; end: number }[] = [];
  balancer: Balancer<TestEndpoint>;

  constructor(list: readonly TestEndpoint[], latencies: readonly number[]) {
    list.forEach((e, i) => this.latencyMs.set(e.id, latencies[i]!));
    this.balancer = createBalancer('ewma', list, { random: seededRandom(7), now: () => this.now });
  }

  /** Runs for `durationMs`; how many requests each endpoint got. */
  run(durationMs: number, gapMs: number): Map<string, number> {
    const counts = new Map<string, number>();
    const stop = this.now + durationMs;
    while (this.now < stop) {
      this.now += gapMs;
      this.#inFlight.sort((a, b) => a.end - b.end);
      while (this.#inFlight.length > 0 && this.#inFlight[0]!.end <= this.now) {
        const done = this.#inFlight.shift()!;
        requestEnded(done.endpoint.stats, done.end - done.start, done.end);
      }
      const endpoint = this.balancer.pick(null, anyEndpoint)!;
      counts.set(endpoint.id, (counts.get(endpoint.id) ?? 0) + 1);
      requestStarted(endpoint.stats);
      this.#inFlight.push({ endpoint, start: this.now, end: this.now + this.latencyMs.get(endpoint.id)! });
    }
    return counts;
  }
}

function share(counts: Map<string, number>, id: string): number {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return (counts.get(id) ?? 0) / total;
}

describe('ewma', () => {
  test('prefers the fast endpoint once latencies are known (10 ms vs 100 ms: ≥ 95% of requests)', () => {
    const [fast, slow] = endpoints(2);
    const sim = new Simulation([fast!, slow!], [10, 100]);
    sim.run(1000, 5);
    const steady = sim.run(20_000, 5);
    assert.ok(share(steady, fast!.id) >= 0.95, `fast share ${share(steady, fast!.id)}`);
    // …yet the slow one still gets an occasional probe, so a recovery would be noticed.
    assert.ok((steady.get(slow!.id) ?? 0) > 0);
  });

  test('recovers when the slow endpoint speeds up: within 20 s it takes most of the traffic', () => {
    const [fast, slow] = endpoints(2);
    const sim = new Simulation([fast!, slow!], [10, 100]);
    sim.run(20_000, 5);
    sim.latencyMs.set(slow!.id, 5);
    sim.run(20_000, 5);
    const after = sim.run(10_000, 5);
    assert.ok(share(after, slow!.id) >= 0.6, `recovered share ${share(after, slow!.id)}`);
  });

  test('peak-sensitive: one slow response makes an endpoint avoided at once', () => {
    const [a, b] = endpoints(2);
    const sim = new Simulation([a!, b!], [10, 10]);
    sim.run(5000, 5);
    requestEnded(a!.stats, 500, sim.now); // a spike on a, reported out of band
    const next = sim.run(200, 5);
    assert.ok(share(next, b!.id) >= 0.95, `share after spike ${share(next, b!.id)}`);
  });

  test('more requests in flight raise the cost: equal latency, the idle endpoint wins', () => {
    const [a, b] = endpoints(2);
    requestStarted(a!.stats);
    requestEnded(a!.stats, 20, 0);
    requestStarted(b!.stats);
    requestEnded(b!.stats, 20, 0);
    a!.stats.active = 3;
    const balancer = createBalancer('ewma', [a!, b!], { random: seededRandom(1), now: () => 0 });
    for (let i = 0; i < 100; i++) assert.equal(balancer.pick(null, anyEndpoint), b);
  });

  test('a new endpoint is tried at once, but one request at a time until it has answered', () => {
    const list = endpoints(3);
    for (const e of list.slice(0, 2)) requestEnded(e.stats, 10, 0);
    const fresh = list[2]!;
    assert.equal(ewmaCost(fresh, 0), 0);
    requestStarted(fresh.stats);
    assert.ok(ewmaCost(fresh, 0) >= UNMEASURED_BUSY_COST);
    const b = createBalancer('ewma', list, { random: seededRandom(2), now: () => 0 });
    for (let i = 0; i < 1000; i++) assert.notEqual(b.pick(null, anyEndpoint), fresh);
    requestEnded(fresh.stats, 5, 1);
    const counts = new Map<TestEndpoint, number>();
    for (let i = 0; i < 1000; i++) {
      const e = b.pick(null, anyEndpoint)!;
      counts.set(e, (counts.get(e) ?? 0) + 1);
    }
    assert.ok((counts.get(fresh) ?? 0) > 500, `fresh got ${counts.get(fresh)} after answering fastest`);
  });

  test('what was learned survives a table swap: a new balancer over the same stats still avoids the slow one', () => {
    const [fast, slow] = endpoints(2);
    const sim = new Simulation([fast!, slow!], [10, 100]);
    sim.run(10_000, 5);
    sim.balancer = createBalancer('ewma', [slow!, fast!], { random: seededRandom(99), now: () => sim.now });
    assert.ok(share(sim.run(2000, 5), fast!.id) >= 0.95);
  });

  test('weights divide the cost: weight 4 at 40 ms ties with weight 1 at 10 ms', () => {
    const [heavy, light] = endpoints(2, [4, 1]);
    requestEnded(heavy!.stats, 40, 0);
    requestEnded(light!.stats, 10, 0);
    assert.equal(ewmaCost(heavy!, 0), ewmaCost(light!, 0));
  });

  test('without traffic the estimate decays toward zero with τ = 10 s', () => {
    const [e] = endpoints(1);
    requestEnded(e!.stats, 100, 0);
    assert.equal(ewmaCost(e!, 0), 100);
    assert.ok(Math.abs(ewmaCost(e!, 10_000) - 100 / Math.E) < 1e-9);
  });
});
