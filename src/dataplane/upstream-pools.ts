import { Pool, buildConnector } from 'undici';
import type { Histogram } from 'prom-client';

/**
 * Keep-alive connection pools to upstream endpoints, one undici Pool per (cluster, endpoint), so
 * each cluster's connections, limits and metrics stay its own. Pools outlive table swaps: a new
 * table that still lists an endpoint reuses its warm connections, and a pool whose endpoint left the
 * table is closed gracefully — requests in flight on it finish first.
 */
export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  readonly #connectMs: number;
  readonly #connectDuration: Histogram<'cluster'>;

  constructor(connectMs: number, connectDuration: Histogram<'cluster'>) {
    this.#connectMs = connectMs;
    this.#connectDuration = connectDuration;
  }

  /** The pool for `address:port` within `cluster`, created on first use. */
  get(cluster: string, address: string, port: number): Pool {
    const key = poolKey(cluster, address, port);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = this.#create(cluster, address, port);
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Closes every pool whose key is not in `keep` (see {@link poolKey}). */
  retain(keep: ReadonlySet<string>): void {
    for (const [key, pool] of this.#pools) {
      if (keep.has(key)) continue;
      this.#pools.delete(key);
      pool.close().catch(() => {});
    }
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

  #create(cluster: string, address: string, port: number): Pool {
    const host = address.includes(':') ? `[${address}]` : address;
    const connector = buildConnector({ timeout: this.#connectMs, noDelay: true });
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

/** The key of the pool for an endpoint of a cluster. */
export function poolKey(cluster: string, address: string, port: number): string {
  return `${cluster}|${address}|${port}`;
}
