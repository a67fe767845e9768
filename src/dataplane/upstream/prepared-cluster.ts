import { createBalancer, type Balancer, type EndpointStats } from '../../balancer/balancer.ts';
import type { HistogramCell } from '../../metrics/hot-metrics.ts';
import type { DataplaneMetrics } from '../../metrics/metrics.ts';
import type { ClusterPolicy } from '../../model/policy.ts';
import type { Cluster } from '../../model/table.ts';
import { Affinity } from './affinity.ts';
import type { ClusterCounters, EndpointHealth } from './endpoint-health.ts';
import { keyReader, type KeyReader, type KeySource } from './request-keys.ts';
import { endpointKey, poolKey, transportKey, type EndpointPool, type PoolTransport, type UpstreamState } from './upstream-state.ts';

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
  /** Active-check and outlier state; `health.usable` gates new requests. */
  readonly health: EndpointHealth;
}

/** What choosing an endpoint reads from a request. */
export interface ChoiceRequest {
  readonly headers: KeySource['headers'];
  readonly url?: string | undefined;
}

const USABLE = (e: Upstream): boolean => e.health.usable;
const ANY = (): boolean => true;

/** Settings that apply when the Service's policy does not say otherwise. */
export interface ClusterDefaults {
  readonly responseHeadersMs: number;
  readonly idleMs: number;
  readonly connectMs: number;
}

/**
 * A cluster made ready for the hot path: its endpoints with their pools, counters and health, the
 * balancer of the Service's policy, and what picking needs (the hash-key reader, cookie affinity,
 * timeouts, limits). `ready` endpoints take new traffic; `serving` terminating ones only when no
 * ready one is usable (draining pods still answer, which beats a 503). When health checks and
 * outlier detection leave nothing usable at all, the cluster routes to every endpoint anyway
 * ("panic", counted): a wrong health check must not turn into a full outage.
 */
export class PreparedCluster {
  readonly name: string;
  readonly policy: ClusterPolicy;
  readonly ready: readonly Upstream[];
  readonly fallback: readonly Upstream[];
  /** Whether any endpoint may take traffic (ready, or serving while terminating): else {@link pick} finds none. */
  readonly hasEndpoints: boolean;
  /** Whether the backend resolved to a port of an existing Service (a missing one is never paused for). */
  readonly resolved: boolean;
  readonly headerDuration: HistogramCell;
  readonly counters: ClusterCounters;
  /** Whether the policy is a consistent hash (ring hash, Maglev), which takes a hash key. */
  readonly hashing: boolean;
  /** Reads the hash key from a request; null unless the policy hashes on something. */
  readonly keyReader: KeyReader | null;
  readonly affinity: Affinity<Upstream> | null;
  /** Response-header and idle timeouts for this cluster's requests, in ms (0 = off). */
  readonly responseHeadersMs: number;
  readonly idleMs: number;
  /** The connect timeout of this cluster's connections, in ms. */
  readonly connectMs: number;
  /** Whether any circuit-breaker limit is set (so the common case checks one boolean). */
  readonly limited: boolean;
  readonly #metrics: DataplaneMetrics;
  readonly #readyBalancer: Balancer<Upstream>;
  readonly #fallbackBalancer: Balancer<Upstream>;

  constructor(cluster: Cluster, state: UpstreamState, metrics: DataplaneMetrics, keys: TableKeys, defaults: ClusterDefaults) {
    this.name = cluster.name;
    this.policy = cluster.policy;
    this.#metrics = metrics;
    const { timeouts, circuitBreaker } = cluster.policy;
    const connectMs = timeouts.connectMs ?? defaults.connectMs;
    this.connectMs = connectMs;
    this.responseHeadersMs = timeouts.responseHeadersMs ?? defaults.responseHeadersMs;
    this.idleMs = timeouts.idleMs ?? defaults.idleMs;
    this.limited = circuitBreaker.maxRequests > 0 || (circuitBreaker.maxPendingRequests > 0 && circuitBreaker.maxConnections > 0);
    const eligible = cluster.endpoints.filter((ep) => ep.ready || (ep.serving && ep.terminating));
    // A cluster-wide connection limit is shared out between the endpoints' pools.
    const perEndpoint = circuitBreaker.maxConnections > 0 ? Math.max(1, Math.ceil(circuitBreaker.maxConnections / Math.max(1, eligible.length))) : 0;
    const ready: Upstream[] = [];
    const fallback: Upstream[] = [];
    const transport: PoolTransport = { protocol: cluster.policy.protocol, tls: cluster.policy.tls };
    const transportPart = transportKey(transport);
    for (const ep of eligible) {
      const key = endpointKey(cluster.name, ep.address, ep.port);
      const pool = poolKey(key, connectMs, perEndpoint, transportPart);
      keys.endpoints.add(key);
      keys.pools.add(pool);
      const upstream: Upstream = {
        address: ep.address,
        port: ep.port,
        id: ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`,
        weight: ep.weight,
        pool: state.pool(pool, cluster.name, ep.address, ep.port, connectMs, perEndpoint, transport),
        stats: state.stats(key),
        health: state.health(key),
      };
      (ep.ready ? ready : fallback).push(upstream);
    }
    keys.clusters.add(cluster.name);
    this.counters = state.cluster(cluster.name);
    this.ready = ready;
    this.fallback = fallback;
    this.hasEndpoints = ready.length + fallback.length > 0;
    this.resolved = cluster.servicePort !== null;
    this.headerDuration = metrics.upstreamHeaderDuration.cell(cluster.name);
    const hashing = cluster.policy.lbPolicy === 'ring-hash' || cluster.policy.lbPolicy === 'maglev';
    this.hashing = hashing;
    this.keyReader = hashing && cluster.policy.hashOn !== null ? keyReader(cluster.policy.hashOn) : null;
    this.affinity = cluster.policy.affinity === null ? null : new Affinity(cluster.policy.affinity, cluster.name, [...ready, ...fallback]);
    this.#readyBalancer = balancerFor(cluster.policy, ready);
    this.#fallbackBalancer = balancerFor(cluster.policy, fallback);
  }

  /** The endpoint for a request with hash key `hashKey` (null when not hashing), or null if none. */
  pick(hashKey: string | null): Upstream | null {
    const chosen = this.#readyBalancer.pick(hashKey, USABLE) ?? this.#fallbackBalancer.pick(hashKey, USABLE);
    if (chosen !== null) return chosen;
    const panic = this.#readyBalancer.pick(hashKey, ANY) ?? this.#fallbackBalancer.pick(hashKey, ANY);
    if (panic !== null) this.#metrics.panicRouting.labels(this.name).inc();
    return panic;
  }

  /**
   * The endpoint for a request: the one its affinity cookie pins (if usable), else the balancer's
   * choice for the request's hash key (read only when the policy hashes; `clientIpOf` is asked only
   * for `client-ip`). `scriptKey`, a RouteScript's `hashKey`, replaces the key read from the request.
   */
  choose<R extends ChoiceRequest>(req: R, clientIpOf: (req: R) => string, scriptKey?: string): Upstream | null {
    if (this.affinity !== null) {
      const pinned = this.affinity.pinned(req.headers.cookie, USABLE);
      if (pinned !== null) return pinned;
    }
    return this.pick(this.hashKey(req, clientIpOf, scriptKey));
  }

  /** For a retry: a usable endpoint not in `tried`, by the same policy and key; null if none. */
  chooseAnother<R extends ChoiceRequest>(req: R, clientIpOf: (req: R) => string, tried: readonly Upstream[], scriptKey?: string): Upstream | null {
    const untried = (e: Upstream): boolean => e.health.usable && !tried.includes(e);
    const key = this.hashKey(req, clientIpOf, scriptKey);
    return this.#readyBalancer.pick(key, untried) ?? this.#fallbackBalancer.pick(key, untried);
  }

  /**
   * Why a new request must be refused by the circuit breaker, or null. Limits count this worker's
   * requests: `maxRequests` in flight, and `maxPendingRequests` waiting for one of the
   * `maxConnections` connections.
   */
  overLimit(): 'requests' | 'pending' | null {
    const { maxRequests, maxPendingRequests, maxConnections } = this.policy.circuitBreaker;
    const active = this.counters.active;
    if (maxRequests > 0 && active >= maxRequests) return 'requests';
    if (maxPendingRequests > 0 && maxConnections > 0 && active - maxConnections >= maxPendingRequests) return 'pending';
    return null;
  }

  /**
   * Takes one retry from the cluster's retry budget (see RetryBudget): false when the retries of
   * the window already reach what this cluster's policy allows.
   */
  takeRetry(): boolean {
    return this.counters.retryBudget.tryWithdraw(this.policy.retry);
  }

  /**
   * Passive outlier detection: records whether a request to `upstream` failed (5xx, a gRPC status
   * that stands for one — grpc-outcome.ts — or a connection failure). Enough failures in a row
   * eject the endpoint for a time that grows with each ejection, unless that would eject more than
   * the allowed share of the cluster.
   */
  recordOutcome(upstream: Upstream, failed: boolean, now: number): void {
    const health = upstream.health;
    if (!failed) {
      health.consecutiveFailures = 0;
      return;
    }
    const outlier = this.policy.outlier;
    if (outlier.consecutiveFailures === 0 || health.ejected) return;
    if (++health.consecutiveFailures < outlier.consecutiveFailures) return;
    const all = this.ready.length + this.fallback.length;
    let ejected = 0;
    for (const u of this.ready) if (u.health.ejected) ejected++;
    for (const u of this.fallback) if (u.health.ejected) ejected++;
    if ((ejected + 1) * 100 > all * outlier.maxEjectionPercent) {
      health.consecutiveFailures = 0;
      return;
    }
    // Ejections long past are forgiven, so a once-flaky endpoint starts again from the base time.
    if (health.ejections > 0 && now - health.lastEjectionEnd > outlier.maxEjectionMs) health.ejections = 0;
    const ms = Math.min(outlier.baseEjectionMs * (health.ejections + 1), outlier.maxEjectionMs);
    const ejectedGauge = this.#metrics.endpointEjected.labels(this.name, upstream.id);
    health.eject(ms, now, () => ejectedGauge.dec());
    ejectedGauge.inc();
    this.#metrics.ejections.labels(this.name).inc();
  }

  /**
   * The hash key of a request under this cluster's policy, or null: a script's key when it gave one
   * (a consistent-hash policy needs no `hash-on` then), else the one `hash-on` reads.
   */
  hashKey<R extends ChoiceRequest>(req: R, clientIpOf: (req: R) => string, scriptKey?: string): string | null {
    if (!this.hashing) return null;
    if (scriptKey !== undefined) return scriptKey;
    if (this.keyReader === null) return null;
    const source: KeySource = {
      headers: req.headers,
      url: req.url ?? '/',
      get clientIp() {
        return clientIpOf(req);
      },
    };
    return this.keyReader(source);
  }
}

/** Keys of everything a table uses, so that state for what it no longer uses can be dropped. */
export interface TableKeys {
  readonly pools: Set<string>;
  readonly endpoints: Set<string>;
  readonly clusters: Set<string>;
}

/**
 * The balancer for `endpoints` under `policy`. Compile guarantees what createBalancer checks (ids
 * unique, weights 1-1000); should that ever fail, round robin keeps the cluster serving.
 */
function balancerFor(policy: ClusterPolicy, endpoints: readonly Upstream[]): Balancer<Upstream> {
  try {
    return createBalancer(policy.lbPolicy, endpoints, policy.hashSubsetSize === undefined ? {} : { hashSubsetSize: policy.hashSubsetSize });
  } catch {
    return createBalancer('round-robin', endpoints);
  }
}
