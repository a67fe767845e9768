/**
 * `round-robin`: endpoints in table order, one after the other, weights ignored. Unusable
 * endpoints are skipped, so the usable ones still get exactly one pick each per cycle.
 */
import type { Balancer, BalancerEndpoint } from './types.ts';

/** Round robin over `endpoints` (non-empty), starting at index `start`. */
export class RoundRobinBalancer<E extends BalancerEndpoint> implements Balancer<E> {
  readonly #endpoints: readonly E[];
  #next: number;

  /**
   * @param start where the cycle begins, as a fraction in [0, 1) of it. Callers pass a random one:
   *   every worker builds its balancer at the same moment, and a common start would send each
   *   worker's first request to the same endpoint after every table swap.
   */
  constructor(endpoints: readonly E[], start: number) {
    this.#endpoints = endpoints;
    this.#next = Math.floor(start * endpoints.length) % endpoints.length;
  }

  pick(_hashKey: string | null, usable: (e: E) => boolean): E | null {
    const endpoints = this.#endpoints;
    const n = endpoints.length;
    let i = this.#next;
    for (let tried = 0; tried < n; tried++) {
      const endpoint = endpoints[i]!;
      i = i + 1 === n ? 0 : i + 1;
      if (usable(endpoint)) {
        this.#next = i;
        return endpoint;
      }
    }
    return null;
  }
}
