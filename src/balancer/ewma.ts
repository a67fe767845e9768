/**
 * `ewma`: of two endpoints drawn at random, the one with the lower expected wait — peak-EWMA
 * latency (see stats.ts) × (requests in flight + 1) / weight, as in Finagle and linkerd.
 *
 * An endpoint without a latency sample yet costs 0 while idle, so a new endpoint is tried at once,
 * and a prohibitive {@link UNMEASURED_BUSY_COST} while it has requests in flight, so it gets one
 * probe at a time (per worker) until the first response says what it is worth.
 */
import { ewmaAt } from './stats.ts';
import { cheapestUsable, drawUsable } from './two-choices.ts';
import type { Balancer, BalancerEndpoint } from './types.ts';

/** The cost of an unmeasured endpoint with requests in flight: above any real latency (1000 s). */
export const UNMEASURED_BUSY_COST = 1e6;

/** An endpoint's cost at `now`. */
export function ewmaCost(e: BalancerEndpoint, now: number): number {
  const stats = e.stats;
  const latency = ewmaAt(stats, now);
  if (latency < 0) return stats.active === 0 ? 0 : UNMEASURED_BUSY_COST + stats.active;
  return (latency * (stats.active + 1)) / e.weight;
}

/** Peak-EWMA with two random choices over `endpoints` (non-empty). */
export class EwmaBalancer<E extends BalancerEndpoint> implements Balancer<E> {
  readonly #endpoints: readonly E[];
  readonly #random: () => number;
  readonly #now: () => number;

  constructor(endpoints: readonly E[], random: () => number, now: () => number) {
    this.#endpoints = endpoints;
    this.#random = random;
    this.#now = now;
  }

  pick(_hashKey: string | null, usable: (e: E) => boolean): E | null {
    const endpoints = this.#endpoints;
    const first = drawUsable(endpoints, usable, this.#random, -1);
    if (first < 0) return this.#cheapest(usable);
    const now = this.#now();
    const a = endpoints[first]!;
    const second = drawUsable(endpoints, usable, this.#random, first);
    if (second < 0) return a;
    const b = endpoints[second]!;
    return ewmaCost(a, now) <= ewmaCost(b, now) ? a : b;
  }

  /** The rare full scan, kept out of pick: its closure would make every pick allocate a context. */
  #cheapest(usable: (e: E) => boolean): E | null {
    const now = this.#now();
    return cheapestUsable(this.#endpoints, usable, this.#random, (e) => ewmaCost(e, now));
  }
}
