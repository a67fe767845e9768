/**
 * `weighted-round-robin`: nginx's smooth weighted round robin (see smooth-schedule.ts), one array
 * read per pick. An unusable endpoint's turns are skipped, so the usable endpoints keep exactly
 * their weights' proportions among themselves, in the same interleaved order.
 */
import { smoothSchedule } from './smooth-schedule.ts';
import { TriedSet } from './tried-set.ts';
import type { Balancer, BalancerEndpoint } from './types.ts';

/** Smooth weighted round robin over `endpoints` (non-empty). */
export class WeightedRoundRobinBalancer<E extends BalancerEndpoint> implements Balancer<E> {
  readonly #endpoints: readonly E[];
  readonly #schedule: Uint32Array;
  readonly #tried: TriedSet;
  #next: number;

  /** @param start where in the schedule to begin, a fraction in [0, 1): random, for the reason RoundRobinBalancer gives. */
  constructor(endpoints: readonly E[], start: number) {
    this.#endpoints = endpoints;
    this.#schedule = smoothSchedule(endpoints.map((e) => e.weight));
    this.#tried = new TriedSet(endpoints.length);
    this.#next = Math.floor(start * this.#schedule.length) % this.#schedule.length;
  }

  pick(_hashKey: string | null, usable: (e: E) => boolean): E | null {
    const schedule = this.#schedule;
    const slot = this.#next;
    this.#next = slot + 1 === schedule.length ? 0 : slot + 1;
    const endpoint = this.#endpoints[schedule[slot]!]!;
    return usable(endpoint) ? endpoint : this.#pickSlow(usable, schedule[slot]!);
  }

  /**
   * Walks on through the schedule. Stops when every endpoint has been found unusable, or after one
   * whole period (every endpoint appears in it), so a pick is never worse than O(schedule length).
   */
  #pickSlow(usable: (e: E) => boolean, unusable: number): E | null {
    const schedule = this.#schedule;
    const endpoints = this.#endpoints;
    const tried = this.#tried;
    tried.clear();
    tried.add(unusable);
    let slot = this.#next;
    for (let step = 1; step < schedule.length && tried.size < endpoints.length; step++) {
      const index = schedule[slot]!;
      slot = slot + 1 === schedule.length ? 0 : slot + 1;
      if (tried.has(index)) continue;
      const endpoint = endpoints[index]!;
      if (usable(endpoint)) {
        this.#next = slot;
        return endpoint;
      }
      tried.add(index);
    }
    return null;
  }
}
