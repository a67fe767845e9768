import { Pool, buildConnector } from 'undici';
import type { Histogram } from 'prom-client';
import { newStats, type EndpointStats } from '../balancer/balancer.ts';

/** The keep-alive connection pool of one endpoint of one cluster. */
export type EndpointPool = Pool;

/**
 * What each upstream endpoint keeps across routing-table swaps: its undici keep-alive Pool (one per
 * cluster and endpoint, so each cluster's connections, limits and metrics stay its own) and its
 * balancer counters. A new table that still lists an endpoint reuses its warm connections and what
 * least-request and EWMA learned; a pool whose endpoint left the table is closed gracefully — its
 * requests in flight finish first.
 */
export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  readonly #stats = new Map<string, EndpointStats>();
  readonly #connectDuration: Histogram<'cluster'>;

  constructor(connectDuration: Histogram<'cluster'>) {
    this.#connectDuration = connectDuration;
  }

  /** The pool under `key` (see {@link poolKey}), created on first use. */
  get(key: string, cluster: string, address: string, port: number, connectMs: number): Pool {
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = this.#create(cluster, address, port, connectMs);
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** The balancer counters under `key`, created on first use. */
  stats(key: string): EndpointStats {
    let stats = this.#stats.get(key);
    if (stats === undefined) {
      stats = newStats();
      this.#stats.set(key, stats);
    }
    return stats;
  }

  /** Closes every pool (and forgets every counter) whose key is not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const [key, pool] of this.#pools) {
      if (keep.has(key)) continue;
      this.#pools.delete(key);
      pool.close().catch(() => {});
    }
    for (const key of this.#stats.keys()) if (!keep.has(key)) this.#stats.delete(key);
  }

  /** Number of pools open, for tests and debugging. */
  get size(): number {
    return this.#pools.size;
  }

  /** Closes every pool; with `force`, aborts requests in flight. */
  async closeAll(force = false): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => (force ? p.destroy() : p.close()).catch(() => {})));
  }

  #create(cluster: string, address: string, port: number, connectMs: number): Pool {
    const host = address.includes(':') ? `[${address}]` : address;
    const connector = buildConnector({ timeout: connectMs, noDelay: true });
    const histogram = this.#connectDuration.labels(cluster);
    return new Pool(`http://${host}:${port}`, {
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 600_000,
      maxHeaderSize: 64 * 1024,
      strictContentLength: true,
      connect(opts, callback) {
        const started = performance.now();
        connector(opts, (...args) => {
          if (args[0] === null) histogram.observe((performance.now() - started) / 1000);
          callback(...args);
        });
      },
    });
  }
}

/**
 * The key of an endpoint's pool within a cluster. The connect timeout is part of it because it is
 * fixed when a pool is made: a Service whose connect-timeout annotation changes gets fresh pools.
 */
export function poolKey(cluster: string, address: string, port: number, connectMs: number): string {
  return `${cluster}|${address}|${port}|${connectMs}`;
}
