import { createBalancer, type Balancer, type EndpointStats } from '../balancer/balancer.ts';
import type { HistogramCell } from '../metrics/hot-metrics.ts';
import type { DataplaneMetrics } from '../metrics/metrics.ts';
import type { ClusterPolicy } from '../model/policy.ts';
import type { Cluster } from '../model/table.ts';
import { Affinity } from './affinity.ts';
import type { EndpointPool } from './upstream-pools.ts';
import { keyReader, type KeyReader, type KeySource } from './request-keys.ts';
import { poolKey, type UpstreamPools } from './upstream-pools.ts';

/** One endpoint of a cluster, as the proxy uses it. */
export interface Upstream {
  readonly address: string;
  readonly port: number;
  /** `address:port` (IPv6 in brackets): the balancer's id, and what access logs show. */
  readonly id: string;
  readonly weight: number;
  readonly pool: EndpointPool;
  /** Live counters (in flight, latency) that survive table swaps. */
  readonly stats: EndpointStats;
}

/** What choosing an endpoint reads from a request. */
export interface ChoiceRequest {
  readonly headers: KeySource['headers'];
  readonly url?: string | undefined;
}

/** Every endpoint is usable until health checking says otherwise. */
const ALWAYS: (e: Upstream) => boolean = () => true;

/**
 * A cluster made ready for the hot path: its endpoints with their pools and counters, the balancer of
 * the Service's policy, and what picking needs (the hash-key reader, cookie affinity, timeouts).
 * `ready` endpoints take new traffic; `serving` terminating ones only when none is ready (draining
 * pods still answer, which beats a 503).
 */
export class PreparedCluster {
  readonly name: string;
  readonly policy: ClusterPolicy;
  readonly ready: readonly Upstream[];
  readonly fallback: readonly Upstream[];
  readonly headerDuration: HistogramCell;
  /** Reads the hash key from a request; null unless the policy hashes on something. */
  readonly keyReader: KeyReader | null;
  readonly affinity: Affinity<Upstream> | null;
  /** Response-header and idle timeouts for this cluster's requests, in ms (0 = off). */
  readonly responseHeadersMs: number;
  readonly idleMs: number;
  readonly #readyBalancer: Balancer<Upstream>;
  readonly #fallbackBalancer: Balancer<Upstream>;

  constructor(cluster: Cluster, pools: UpstreamPools, metrics: DataplaneMetrics, keys: Set<string>, defaults: { responseHeadersMs: number; idleMs: number; connectMs: number }) {
    this.name = cluster.name;
    this.policy = cluster.policy;
    const { timeouts } = cluster.policy;
    const connectMs = timeouts.connectMs ?? defaults.connectMs;
    this.responseHeadersMs = timeouts.responseHeadersMs ?? defaults.responseHeadersMs;
    this.idleMs = timeouts.idleMs ?? defaults.idleMs;
    const ready: Upstream[] = [];
    const fallback: Upstream[] = [];
    for (const ep of cluster.endpoints) {
      if (!ep.ready && !(ep.serving && ep.terminating)) continue;
      const key = poolKey(cluster.name, ep.address, ep.port, connectMs);
      keys.add(key);
      const upstream: Upstream = {
        address: ep.address,
        port: ep.port,
        id: ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`,
        weight: ep.weight,
        pool: pools.get(key, cluster.name, ep.address, ep.port, connectMs),
        stats: pools.stats(key),
      };
      (ep.ready ? ready : fallback).push(upstream);
    }
    this.ready = ready;
    this.fallback = fallback;
    this.headerDuration = metrics.upstreamHeaderDuration.cell(cluster.name);
    const hashing = cluster.policy.lbPolicy === 'ring-hash' || cluster.policy.lbPolicy === 'maglev';
    this.keyReader = hashing && cluster.policy.hashOn !== null ? keyReader(cluster.policy.hashOn) : null;
    this.affinity = cluster.policy.affinity === null ? null : new Affinity(cluster.policy.affinity, cluster.name, [...ready, ...fallback]);
    this.#readyBalancer = balancerFor(cluster.policy, ready);
    this.#fallbackBalancer = balancerFor(cluster.policy, fallback);
  }

  /** The endpoint for a request with hash key `hashKey` (null when not hashing), or null if none. */
  pick(hashKey: string | null): Upstream | null {
    return this.#readyBalancer.pick(hashKey, ALWAYS) ?? this.#fallbackBalancer.pick(hashKey, ALWAYS);
  }

  /**
   * The endpoint for a request: the one its affinity cookie pins, else the balancer's choice for the
   * request's hash key (read only when the policy hashes; `clientIp` is asked only for `client-ip`).
   */
  choose<R extends ChoiceRequest>(req: R, clientIpOf: (req: R) => string): Upstream | null {
    if (this.affinity !== null) {
      const pinned = this.affinity.pinned(req.headers.cookie, ALWAYS);
      if (pinned !== null) return pinned;
    }
    if (this.keyReader === null) return this.pick(null);
    const source: KeySource = {
      headers: req.headers,
      url: req.url ?? '/',
      get clientIp() {
        return clientIpOf(req);
      },
    };
    return this.pick(this.keyReader(source));
  }
}

/**
 * The balancer for `endpoints` under `policy`. Compile guarantees what createBalancer checks (ids
 * unique, weights 1-1000); should that ever fail, round robin keeps the cluster serving.
 */
function balancerFor(policy: ClusterPolicy, endpoints: readonly Upstream[]): Balancer<Upstream> {
  try {
    return createBalancer(policy.lbPolicy, endpoints);
  } catch {
    return createBalancer('round-robin', endpoints);
  }
}
