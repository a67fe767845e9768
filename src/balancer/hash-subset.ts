/**
 * `ring-hash` onto subsets (ingress-nginx's `upstream-hash-by-subset`, its `chashsubset` balancer):
 * the endpoints, sorted by id, are cut in turn into sets of `size`, the last one filled up with
 * the first endpoints again so that every set has `size` members; a key's hash picks a set on a
 * consistent-hash ring of the sets (each of weight 1), then one member of the set at random. A key
 * thus stays on the same few endpoints while its load spreads over them. Endpoint weights are not
 * read, as in ingress-nginx.
 *
 * An unusable member: the set's next members in turn; a set with none usable: the ring walks on to
 * the next set clockwise, as ring-hash walks past an unusable endpoint.
 */
import { RingHashBalancer } from './ring-hash.ts';
import { newStats } from './stats.ts';
import type { Balancer, BalancerEndpoint } from './types.ts';

/** A set on the ring: `set1`, `set2`… as ingress-nginx names them. */
interface SubsetNode extends BalancerEndpoint {
  readonly members: number;
}

/** The sets of `count` endpoints of `size`: indexes into the endpoints, padded from the start. */
export function subsetsOf(count: number, size: number): number[][] {
  const sets: number[][] = [];
  const setCount = Math.ceil(count / size);
  for (let s = 0, k = 0; s < setCount; s++) {
    const set: number[] = [];
    for (let m = 0; m < size; m++, k++) set.push(k % count);
    sets.push(set);
  }
  return sets;
}

/** Consistent hashing onto subsets of `endpoints` (non-empty, sorted by id, ids unique). */
export class SubsetHashBalancer<E extends BalancerEndpoint> implements Balancer<E> {
  readonly #endpoints: readonly E[];
  readonly #sets: readonly (readonly number[])[];
  readonly #ring: RingHashBalancer<SubsetNode>;
  readonly #random: () => number;
  readonly #withoutKey: Balancer<E>;
  // The current pick's test and choice, so that the ring's test is one function made once.
  #usable: ((e: E) => boolean) | null = null;
  #chosen: E | null = null;
  readonly #setUsable = (node: SubsetNode): boolean => {
    this.#chosen = this.#member(this.#sets[node.members]!, this.#usable!);
    return this.#chosen !== null;
  };

  /** @param withoutKey picks for requests without a hash key. */
  constructor(endpoints: readonly E[], size: number, pointsPerWeight: number, maxPoints: number, random: () => number, withoutKey: Balancer<E>) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`hashSubsetSize must be an integer >= 1, got ${size}`);
    this.#endpoints = endpoints;
    this.#sets = subsetsOf(endpoints.length, size);
    const nodes = this.#sets.map((_, i): SubsetNode => ({ id: `set${i + 1}`, weight: 1, stats: newStats(), members: i }));
    this.#ring = new RingHashBalancer(nodes.sort((a, b) => (a.id < b.id ? -1 : 1)), pointsPerWeight, maxPoints, { pick: () => null });
    this.#random = random;
    this.#withoutKey = withoutKey;
  }

  pick(hashKey: string | null, usable: (e: E) => boolean): E | null {
    if (hashKey === null) return this.#withoutKey.pick(null, usable);
    this.#usable = usable;
    this.#chosen = null;
    const found = this.#ring.pick(hashKey, this.#setUsable);
    const chosen = found === null ? null : this.#chosen;
    this.#usable = null;
    this.#chosen = null;
    return chosen;
  }

  /** A usable member of `set`: one at random, else the next usable one after it. */
  #member(set: readonly number[], usable: (e: E) => boolean): E | null {
    const start = Math.min(set.length - 1, Math.floor(this.#random() * set.length));
    for (let i = 0; i < set.length; i++) {
      const endpoint = this.#endpoints[set[(start + i) % set.length]!]!;
      if (usable(endpoint)) return endpoint;
    }
    return null;
  }
}
