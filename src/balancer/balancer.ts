/**
 * The balancer module's entry point: `createBalancer` builds the policy a cluster asks for, once
 * per routing-table swap; everything a caller needs is re-exported from here.
 */
import type { LbPolicy } from '../model/policy.ts';
import { EmptyBalancer } from './empty.ts';
import { EwmaBalancer } from './ewma.ts';
import { LeastRequestBalancer } from './least-request.ts';
import { MaglevBalancer } from './maglev.ts';
import { defaultMaglevTableSize, isPrime } from './maglev-table.ts';
import { createRandom } from './prng.ts';
import { RandomBalancer } from './random.ts';
import { RING_MAX_ENDPOINTS, RingHashBalancer } from './ring-hash.ts';
import { RoundRobinBalancer } from './round-robin.ts';
import { SubsetHashBalancer } from './hash-subset.ts';
import { lastRequestEnd } from './stats.ts';
import type { Balancer, BalancerEndpoint, BalancerOptions } from './types.ts';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.ts';

export type { Balancer, BalancerEndpoint, BalancerOptions, EndpointStats } from './types.ts';
export { EWMA_DECAY_MS, newStats, requestEnded, requestStarted } from './stats.ts';
export { hashKey32 } from './hash.ts';

const DEFAULT_RING_POINTS_PER_WEIGHT = 100;
const DEFAULT_RING_MAX_POINTS = 2 ** 20;

/**
 * A balancer for `endpoints` under `policy`. Ring and table construction happen here, once; the
 * balancer keeps a reference to `endpoints`, which must not change afterwards. Round-robin
 * policies start at a random place (so workers do not all begin with the same endpoint), and
 * `ring-hash` and `maglev` fall back to `weighted-round-robin`'s order for requests without a key.
 * `ring-hash` with `hashSubsetSize` hashes onto subsets of endpoints (hash-subset.ts).
 * With no endpoints, every pick is null.
 * @throws RangeError for a weight that is not an integer >= 1, a repeated id under a hashing
 *   policy, or an invalid option (the control plane never produces these).
 */
export function createBalancer<E extends BalancerEndpoint>(policy: LbPolicy, endpoints: readonly E[], options: BalancerOptions = {}): Balancer<E> {
  for (const e of endpoints) {
    if (!Number.isSafeInteger(e.weight) || e.weight < 1) throw new RangeError(`endpoint ${e.id}: weight must be an integer >= 1, got ${e.weight}`);
  }
  if (endpoints.length === 0) return new EmptyBalancer();
  const random = options.random ?? createRandom(Math.random() * 2 ** 32);
  // Where the round-robin policies start, as a fraction of their cycle.
  const start = random();
  switch (policy) {
    case 'round-robin':
      return new RoundRobinBalancer(endpoints, start);
    case 'weighted-round-robin':
      return new WeightedRoundRobinBalancer(endpoints, start);
    case 'random':
      return new RandomBalancer(endpoints, random);
    case 'least-request':
      return new LeastRequestBalancer(endpoints, random);
    case 'ewma':
      return new EwmaBalancer(endpoints, random, options.now ?? lastRequestEnd);
    case 'ring-hash': {
      const pointsPerWeight = options.ringPointsPerWeight ?? DEFAULT_RING_POINTS_PER_WEIGHT;
      const maxPoints = options.ringMaxPoints ?? DEFAULT_RING_MAX_POINTS;
      if (!Number.isSafeInteger(pointsPerWeight) || pointsPerWeight < 1) throw new RangeError(`ringPointsPerWeight must be an integer >= 1, got ${pointsPerWeight}`);
      if (!Number.isSafeInteger(maxPoints) || maxPoints < 1) throw new RangeError(`ringMaxPoints must be an integer >= 1, got ${maxPoints}`);
      if (endpoints.length > RING_MAX_ENDPOINTS) throw new RangeError(`ring-hash supports at most ${RING_MAX_ENDPOINTS} endpoints`);
      if (options.hashSubsetSize !== undefined) return new SubsetHashBalancer(sortedById(endpoints), options.hashSubsetSize, pointsPerWeight, maxPoints, random, new WeightedRoundRobinBalancer(endpoints, start));
      return new RingHashBalancer(sortedById(endpoints), pointsPerWeight, maxPoints, new WeightedRoundRobinBalancer(endpoints, start));
    }
    case 'maglev': {
      const size = options.maglevTableSize ?? defaultMaglevTableSize(endpoints.length);
      if (!isPrime(size) || size < endpoints.length) throw new RangeError(`maglevTableSize must be a prime >= the endpoint count (${endpoints.length}), got ${size}`);
      return new MaglevBalancer(sortedById(endpoints), size, new WeightedRoundRobinBalancer(endpoints, start));
    }
  }
}

/** A copy sorted by id, the order hashing policies build in, so input order cannot matter. */
function sortedById<E extends BalancerEndpoint>(endpoints: readonly E[]): E[] {
  const sorted = endpoints.toSorted((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.id === sorted[i - 1]!.id) throw new RangeError(`endpoint id ${sorted[i]!.id} appears twice`);
  }
  return sorted;
}
