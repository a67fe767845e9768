/**
 * `least-request`: of two endpoints drawn at random, the one with fewer requests in flight
 * relative to its weight — `(active + 1) / weight`, so an idle heavy endpoint beats an idle light
 * one. On a tie the first draw wins, which is itself random.
 */
import { cheapestUsable, drawUsable } from './two-choices.ts';
import type { Balancer, BalancerEndpoint } from './types.ts';

/** The cost a full scan compares; draws compare the same quantity by cross-multiplying. */
function load(e: BalancerEndpoint): number {
  return (e.stats.active + 1) / e.weight;
}

/** Least-request with two random choices over `endpoints` (non-empty). */
export class LeastRequestBalancer<E extends BalancerEndpoint> implements Balancer<E> {
  readonly #endpoints: readonly E[];
  readonly #random: () => number;

  constructor(endpoints: readonly E[], random: () => number) {
    this.#endpoints = endpoints;
    this.#random = random;
  }

  pick(_hashKey: string | null, usable: (e: E) => boolean): E | null {
    const endpoints = this.#endpoints;
    const first = drawUsable(endpoints, usable, this.#random, -1);
    if (first < 0) return cheapestUsable(endpoints, usable, this.#random, load);
    const a = endpoints[first]!;
    const second = drawUsable(endpoints, usable, this.#random, first);
    if (second < 0) return a;
    const b = endpoints[second]!;
    // (a.active + 1) / a.weight <= (b.active + 1) / b.weight, in integers.
    return (a.stats.active + 1) * b.weight <= (b.stats.active + 1) * a.weight ? a : b;
  }
}
