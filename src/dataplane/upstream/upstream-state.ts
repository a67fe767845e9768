import { createHash } from 'node:crypto';
import { Pool, buildConnector, type Dispatcher } from 'undici';
import { H1Pool } from './h1-pool.ts';
import type { Histogram } from 'prom-client';
import { newStats, type EndpointStats } from '../../balancer/balancer.ts';
import { ClusterCounters, EndpointHealth } from './endpoint-health.ts';
import { tlsParameterOptions, tlsParametersKey } from '../../model/tls-parameters.ts';
import { clientCertificateKey, clientCertificateOptions, keepTlsAlert } from './client-certificate.ts';
import { subjectAltNameCheck } from '../../model/backend-identity.ts';
import type { BackendProtocol, BackendTlsPolicy } from '../../model/policy.ts';

/** How a pool talks to its endpoint: the cluster's protocol and, over TLS, its certificate checks. */
export interface PoolTransport {
  readonly protocol: BackendProtocol;
  readonly tls: BackendTlsPolicy | null;
}

/**
 * The keep-alive connection pool of one endpoint of one cluster: signalbox's own HTTP/1.1 client
 * (H1Pool) for `http1` and `https` clusters, undici's Pool for HTTP/2 (h2, h2c, gRPC).
 */
export interface EndpointPool {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * What a worker keeps about upstreams across routing-table swaps: each endpoint's undici keep-alive
 * Pool (one per cluster and endpoint, so each cluster's connections, limits and metrics stay its
 * own), its balancer counters and its health, and each cluster's in-flight counters. A new table
 * that still lists an endpoint reuses its warm connections and everything learned about it; a pool
 * whose endpoint left the table is closed gracefully — its requests in flight finish first.
 */
export class UpstreamState {
  readonly #pools = new Map<string, EndpointPool>();
  readonly #stats = new Map<string, EndpointStats>();
  readonly #health = new Map<string, EndpointHealth>();
  readonly #clusters = new Map<string, ClusterCounters>();
  /** The active health checks' latest verdict: `cluster|address|port` of failed endpoints. */
  #unhealthy: ReadonlySet<string> = new Set();
  readonly #connectDuration: Histogram<'cluster'>;

  constructor(connectDuration: Histogram<'cluster'>) {
    this.#connectDuration = connectDuration;
  }

  /** The pool under `key` (see {@link poolKey}), created on first use. */
  pool(key: string, cluster: string, address: string, port: number, connectMs: number, connections: number, transport: PoolTransport): EndpointPool {
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = this.#create(cluster, address, port, connectMs, connections, transport);
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** The health of an endpoint of a cluster (key {@link endpointKey}), created healthy on first use. */
  health(key: string): EndpointHealth {
    let health = this.#health.get(key);
    if (health === undefined) {
      health = new EndpointHealth();
      health.setActive(!this.#unhealthy.has(key));
      this.#health.set(key, health);
    }
    return health;
  }

  /** Records the active health checks' verdict: the endpoint keys that fail them. */
  setUnhealthy(unhealthy: ReadonlySet<string>): void {
    this.#unhealthy = unhealthy;
    for (const [key, health] of this.#health) health.setActive(!unhealthy.has(key));
  }

  /** The in-flight counters of a cluster, created on first use. */
  cluster(name: string): ClusterCounters {
    let counters = this.#clusters.get(name);
    if (counters === undefined) {
      counters = new ClusterCounters();
      this.#clusters.set(name, counters);
    }
    return counters;
  }

  /** The balancer counters of an endpoint of a cluster (key {@link endpointKey}), created on first use. */
  stats(key: string): EndpointStats {
    let stats = this.#stats.get(key);
    if (stats === undefined) {
      stats = newStats();
      this.#stats.set(key, stats);
    }
    return stats;
  }

  /**
   * Closes every pool whose key is not in `keep.pools` and forgets the counters and health of
   * endpoints and clusters the new table no longer has.
   */
  retain(keep: { readonly pools: ReadonlySet<string>; readonly endpoints: ReadonlySet<string>; readonly clusters: ReadonlySet<string> }): void {
    for (const [key, pool] of this.#pools) {
      if (keep.pools.has(key)) continue;
      this.#pools.delete(key);
      pool.close().catch(() => {});
    }
    for (const key of this.#stats.keys()) if (!keep.endpoints.has(key)) this.#stats.delete(key);
    for (const [key, health] of this.#health) {
      if (keep.endpoints.has(key)) continue;
      health.dispose();
      this.#health.delete(key);
    }
    for (const key of this.#clusters.keys()) if (!keep.clusters.has(key)) this.#clusters.delete(key);
  }

  /** Closes every pool at once, aborting requests still in flight (the end of a worker's grace). */
  async destroyAll(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => {})));
  }

  #create(cluster: string, address: string, port: number, connectMs: number, connections: number, transport: PoolTransport): EndpointPool {
    const host = address.includes(':') ? `[${address}]` : address;
    const { protocol, tls } = transport;
    const histogram = this.#connectDuration.labels(cluster);
    if (protocol === 'http1' || protocol === 'https') {
      return new H1Pool({ address, port, tls, connectMs, connections, onConnected: (seconds) => histogram.observe(seconds) });
    }
    // undici offers HTTP/2 by ALPN unless told not to: an `https` cluster asked for HTTP/1.1. h2c is
    // HTTP/2 with prior knowledge, since a proxy cannot afford the h2c upgrade dance per connection.
    const http2 = protocol === 'h2' || protocol === 'h2c';
    const client = tls === null ? {} : clientCertificateOptions(tls);
    const identity = tls === null ? undefined : subjectAltNameCheck(tls);
    const connector = buildConnector({
      timeout: connectMs,
      noDelay: true,
      allowH2: protocol === 'h2',
      useH2c: protocol === 'h2c',
      ...(tls === null
        ? {}
        : {
            ...(tls.serverName === null ? {} : { servername: tls.serverName }),
            ...(tls.caPem === null ? {} : { ca: tls.caPem }),
            rejectUnauthorized: tls.verify,
            ...tlsParameterOptions(tls),
            ...(identity === undefined ? {} : { checkServerIdentity: identity }),
            ...(client instanceof Error ? {} : client),
          }),
    } as buildConnector.BuildOptions);
    return new Pool(`${tls === null ? 'http' : 'https'}://${host}:${port}`, {
      allowH2: http2,
      ...(protocol === 'h2c' ? { useH2c: true } : {}),
      pipelining: 1,
      connections: connections > 0 ? connections : null,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 600_000,
      maxHeaderSize: 64 * 1024,
      strictContentLength: true,
      connect(opts, callback) {
        if (client instanceof Error) return void callback(client, null);
        const started = performance.now();
        // undici would take the name to verify from the first request's Host, but a pooled
        // connection serves every host: the name is the Service's, else the endpoint's address.
        const fixed = tls === null ? opts : { ...opts, servername: tls.serverName ?? undefined };
        connector(fixed as buildConnector.Options, (...args) => {
          if (args[0] === null) {
            histogram.observe((performance.now() - started) / 1000);
            if (tls !== null) keepTlsAlert(args[1]);
          }
          callback(...args);
        });
      },
    });
  }
}

/** The key of an endpoint of a cluster — the format the active health checker reports in. */
export function endpointKey(cluster: string, address: string, port: number): string {
  return `${cluster}|${address}|${port}`;
}

/**
 * The key of an endpoint's pool. The connect timeout, connection limit and transport are part of it
 * because they are fixed when a pool is made: a Service whose annotations change them gets fresh pools.
 */
export function poolKey(endpoint: string, connectMs: number, connections: number, transport: string): string {
  return `${endpoint}|${connectMs}|${connections}|${transport}`;
}

/**
 * The part of a pool's key that its transport decides (protocol, server name, verification, CA
 * digest, client certificate digest, TLS versions and ciphers, subject alternative names): a Service that changes any of them gets fresh pools, never a connection made otherwise.
 */
export function transportKey(transport: PoolTransport): string {
  const { protocol, tls } = transport;
  if (tls === null) return protocol;
  const ca = tls.caPem === null ? '' : createHash('sha256').update(tls.caPem).digest('hex').slice(0, 16);
  const sans = tls.subjectAltNames === undefined ? '' : JSON.stringify(tls.subjectAltNames);
  return `${protocol}|${tls.serverName ?? ''}|${tls.verify ? 'verify' : 'any'}|${ca}|${clientCertificateKey(tls)}|${tlsParametersKey(tls)}|${sans}`;
}
