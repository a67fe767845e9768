/**
 * `ring-hash`: consistent hashing on a ring (Karger et al.; ketama). Each endpoint owns
 * `ringPointsPerWeight × weight` points at `hashKey32("<id>_<n>")`; a key goes to the owner of the
 * first point at or after `hashKey32(key)`, wrapping around. Adding or removing an endpoint only
 * moves the keys between its points and their predecessors, about 1/N of them. Lookup is O(1)
 * expected: an index by the hash's top bits gives a point a few steps before the answer, instead
 * of a binary search's ~log2(points) unpredictable branches.
 *
 * An unusable endpoint: the walk goes on clockwise to the next point of a usable endpoint, so only
 * that endpoint's keys move, and they spread over its ring neighbours.
 *
 * Points depend only on the endpoint's id and weight, so the ring is the same whatever order the
 * endpoints come in, and unchanged endpoints keep their points when others come and go — unless
 * the ring would exceed `ringMaxPoints`, where every endpoint's count is scaled down together.
 */
import { hashKey32 } from './hash.ts';
import { TriedSet } from './tried-set.ts';
import type { Balancer, BalancerEndpoint } from './types.ts';

/** Ring points as built: sorted positions and, for each, the index of its endpoint. */
export interface Ring {
  readonly points: Uint32Array;
  readonly owners: Uint32Array;
}

/**
 * The ring of `endpoints`, whose owner indexes refer to `endpoints` as given. Positions that
 * collide are ordered by endpoint id, so input order never matters.
 * @param endpoints sorted by id, ids unique.
 */
export function buildRing(endpoints: readonly BalancerEndpoint[], pointsPerWeight: number, maxPoints: number): Ring {
  const totalWeight = endpoints.reduce((sum, e) => sum + e.weight, 0);
  const scale = Math.min(1, maxPoints / (totalWeight * pointsPerWeight));
  const counts = endpoints.map((e) => Math.max(1, Math.floor(e.weight * pointsPerWeight * scale)));
  const total = counts.reduce((sum, c) => sum + c, 0);
  // Sort (position, endpoint index) pairs as one float: position × 2^21 + index stays exact below 2^53.
  const keys = new Float64Array(total);
  let k = 0;
  endpoints.forEach((endpoint, index) => {
    for (let n = 0; n < counts[index]!; n++) keys[k++] = hashKey32(`${endpoint.id}_${n}`) * 2 ** 21 + index;
  });
  keys.sort();
  const points = new Uint32Array(total);
  const owners = new Uint32Array(total);
  for (let i = 0; i < total; i++) {
    const key = keys[i]!;
    const index = key % 2 ** 21;
    points[i] = (key - index) / 2 ** 21;
    owners[i] = index;
  }
  return { points, owners };
}

/**
 * Where to start looking for a hash: `starts[h >>> shift]` is the first point whose top bits are
 * at least h's, so the answer is at most one bucket further on.
 */
interface RingIndex {
  readonly starts: Uint32Array;
  readonly shift: number;
}

/** An index of one to two points per bucket on average (and at least two buckets). */
function indexRing(points: Uint32Array): RingIndex {
  const bits = Math.max(1, Math.ceil(Math.log2(Math.max(1, points.length))) - 1);
  const shift = 32 - bits;
  const starts = new Uint32Array(2 ** bits);
  let point = 0;
  for (let bucket = 0; bucket < starts.length; bucket++) {
    while (point < points.length && points[point]! >>> shift < bucket) point++;
    starts[bucket] = point;
  }
  return { starts, shift };
}

/** Largest endpoint count the ring's packed sort supports. */
export const RING_MAX_ENDPOINTS = 2 ** 21;

/** Consistent hashing over `endpoints` (non-empty, sorted by id, ids unique). */
export class RingHashBalancer<E extends BalancerEndpoint> implements Balancer<E> {
  readonly #endpoints: readonly E[];
  readonly #points: Uint32Array;
  readonly #owners: Uint32Array;
  readonly #starts: Uint32Array;
  readonly #shift: number;
  readonly #tried: TriedSet;
  readonly #withoutKey: Balancer<E>;

  /** @param withoutKey picks for requests without a hash key. */
  constructor(endpoints: readonly E[], pointsPerWeight: number, maxPoints: number, withoutKey: Balancer<E>) {
    this.#endpoints = endpoints;
    const ring = buildRing(endpoints, pointsPerWeight, maxPoints);
    this.#points = ring.points;
    this.#owners = ring.owners;
    const index = indexRing(ring.points);
    this.#starts = index.starts;
    this.#shift = index.shift;
    this.#tried = new TriedSet(endpoints.length);
    this.#withoutKey = withoutKey;
  }

  pick(hashKey: string | null, usable: (e: E) => boolean): E | null {
    if (hashKey === null) return this.#withoutKey.pick(null, usable);
    const hash = hashKey32(hashKey);
    const points = this.#points;
    let point = this.#starts[hash >>> this.#shift]!;
    while (point < points.length && points[point]! < hash) point++;
    if (point === points.length) point = 0;
    const endpoint = this.#endpoints[this.#owners[point]!]!;
    return usable(endpoint) ? endpoint : this.#walk(point, usable);
  }

  /** Clockwise from `point` (whose endpoint is unusable) to the first point of a usable endpoint. */
  #walk(point: number, usable: (e: E) => boolean): E | null {
    const points = this.#points.length;
    const owners = this.#owners;
    const tried = this.#tried;
    tried.clear();
    tried.add(owners[point]!);
    for (let step = 1; step < points && tried.size < this.#endpoints.length; step++) {
      point = point + 1 === points ? 0 : point + 1;
      const index = owners[point]!;
      if (tried.has(index)) continue;
      const endpoint = this.#endpoints[index]!;
      if (usable(endpoint)) return endpoint;
      tried.add(index);
    }
    return null;
  }
}
