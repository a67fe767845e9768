/**
 * `random`: each pick draws an endpoint with probability proportional to its weight, in O(1) with
 * Vose's alias method: the endpoints' weights are cut into n equal columns, each holding at most
 * two endpoints, so one uniform draw picks a column and its fractional part picks within it.
 *
 * An unusable endpoint is redrawn, which keeps the usable endpoints' proportions exact; after
 * {@link MAX_DRAWS} unusable draws in a row (most of the weight is unusable) the pick falls back to
 * the first usable endpoint after a random index.
 */
import type { Balancer, BalancerEndpoint } from './types.ts';

/** Draws before scanning; with half the weight unusable, 1 pick in 256 scans. */
const MAX_DRAWS = 8;

/** Weighted random choice over `endpoints` (non-empty). */
export class RandomBalancer<E extends BalancerEndpoint> implements Balancer<E> {
  readonly #endpoints: readonly E[];
  readonly #random: () => number;
  /** Column i keeps endpoint i when the draw's fraction is below keep[i], else gives alias[i]. */
  readonly #keep: Float64Array;
  readonly #alias: Uint32Array;

  constructor(endpoints: readonly E[], random: () => number) {
    this.#endpoints = endpoints;
    this.#random = random;
    const n = endpoints.length;
    this.#keep = new Float64Array(n);
    this.#alias = new Uint32Array(n);
    const total = endpoints.reduce((sum, e) => sum + e.weight, 0);
    // Vose: scaled weights average 1; pair each short column with a tall endpoint's excess.
    const scaled = endpoints.map((e) => (e.weight * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((w, i) => (w < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const short = small.pop()!;
      const tall = large[large.length - 1]!;
      this.#keep[short] = scaled[short]!;
      this.#alias[short] = tall;
      scaled[tall] = scaled[tall]! + scaled[short]! - 1;
      if (scaled[tall]! < 1) small.push(large.pop()!);
    }
    // What is left is 1 up to rounding error: those columns keep their own endpoint.
    for (const i of [...small, ...large]) {
      this.#keep[i] = 1;
      this.#alias[i] = i;
    }
  }

  pick(_hashKey: string | null, usable: (e: E) => boolean): E | null {
    const endpoints = this.#endpoints;
    const n = endpoints.length;
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const x = this.#random() * n;
      let column = Math.floor(x);
      if (column >= n) column = n - 1;
      const endpoint = endpoints[x - column < this.#keep[column]! ? column : this.#alias[column]!]!;
      if (usable(endpoint)) return endpoint;
    }
    const start = Math.floor(this.#random() * n) % n;
    for (let k = 0; k < n; k++) {
      const endpoint = endpoints[(start + k) % n]!;
      if (usable(endpoint)) return endpoint;
    }
    return null;
  }
}
