/**
 * The balancer's vocabulary: endpoints as the balancer sees them, their live counters, and the one
 * method the proxy calls per request. Everything here lives in one worker thread; nothing is shared
 * between workers (see README.md).
 */

/**
 * Live counters for one endpoint, kept by the proxy and read by least-request and EWMA. The proxy
 * hands the same object to every routing table that still has the endpoint, so a table swap never
 * resets what was learned. Update it only through `requestStarted` / `requestEnded`.
 */
export interface EndpointStats {
  /** Requests in flight on this endpoint from this worker. */
  active: number;
  /** Peak-EWMA latency in milliseconds as of `ewmaStamp`; negative while there is no sample yet. */
  ewmaMs: number;
  /** When `ewmaMs` was last updated, on the clock the balancer's `now` option reads. */
  ewmaStamp: number;
}

/** An endpoint as a balancer sees it. The proxy's own endpoint objects can carry more fields. */
export interface BalancerEndpoint {
  /** `address:port` (`[v6]:port`): stable across table swaps, unique in a cluster; what hashing uses. */
  readonly id: string;
  /** Relative share of traffic: an integer >= 1. */
  readonly weight: number;
  readonly stats: EndpointStats;
}

/** Chooses endpoints for requests. Built once per routing-table swap by `createBalancer`. */
export interface Balancer<E extends BalancerEndpoint> {
  /**
   * An endpoint for which `usable(e)` is true, or null when there is none. Does not allocate
   * (EWMA's rare full scan, when random draws keep meeting unusable endpoints, excepted).
   * @param hashKey the request's hash key for `ring-hash` and `maglev` (ignored by the others);
   *   null makes them fall back to smooth weighted round robin.
   * @param usable health and outlier state, asked about as few endpoints as possible — usually one
   *   (two for least-request and EWMA). Pass a function made once, not a fresh closure per request.
   */
  pick(hashKey: string | null, usable: (e: E) => boolean): E | null;
}

/** Construction options; tests inject `random` and `now` to be deterministic. */
export interface BalancerOptions {
  /** Uniform in [0, 1). Default: a fast generator seeded from `Math.random` (see prng.ts). Used by random, least-request, EWMA, and for where round robin starts. */
  readonly random?: () => number;
  /**
   * Milliseconds on the clock `requestEnded` is given; read by EWMA only, once per pick. Default:
   * the latest time any `requestEnded` in this worker was given, which costs nothing to read.
   */
  readonly now?: () => number;
  /** Ring-hash: points on the ring per unit of weight. Default 100. */
  readonly ringPointsPerWeight?: number;
  /** Ring-hash: the ring never exceeds this many points; above it every endpoint's count is scaled down. Default 2^20. */
  readonly ringMaxPoints?: number;
  /** Ring-hash: hash onto sets of this many endpoints, then pick one of the set at random (hash-subset.ts). Default: onto single endpoints. */
  readonly hashSubsetSize?: number;
  /** Maglev: the lookup table size, a prime >= the endpoint count. Default 65537 (or the smallest prime >= 100 x endpoints, if larger). */
  readonly maglevTableSize?: number;
}
