/**
 * The leaky buckets of a RateLimit zone, one entry per client address, with nginx's `limit_req`
 * arithmetic (ngx_http_limit_req_module.c): each rate keeps an `excess` in thousandths of a
 * request that drains at the rate; a request adds 1000, and is refused when that would pass
 * `burst × 1000`. A new (or fully drained) address starts at 0, so `burst + 1` requests get through
 * at once. Refusing takes nothing: nginx does not count a request it refused, in any zone.
 */
import type { RateLimitRate } from '../../../model/table.ts';

/** Milliseconds on a monotonic clock: `performance.now` in the data plane, a fake one in tests. */
export type Clock = () => number;

/** How many addresses one zone remembers in a worker by default. */
export const DEFAULT_MAX_KEYS = 100_000;

/** Drained entries dropped, at most, each time a new address arrives: keeps the work per request constant. */
const SWEEP_PER_INSERT = 2;

interface Entry {
  /** Clock time of the last accepted request. */
  last: number;
  /** Per rate, in thousandths of a request. */
  readonly excess: number[];
}

/** Options of {@link RateBuckets}. */
export interface RateBucketOptions {
  /** Addresses remembered at most; past it the least recently seen is forgotten. */
  readonly maxKeys?: number;
  readonly now?: Clock;
}

/**
 * The buckets of one zone. Memory is bounded: at most `maxKeys` addresses (least recently seen
 * evicted first, as nginx evicts from a full zone), and an address whose buckets have drained
 * completely is dropped as new ones arrive — forgetting it changes nothing, it would start at 0
 * as a new one does.
 */
export class RateBuckets {
  readonly #rates: readonly RateLimitRate[];
  readonly #maxKeys: number;
  readonly #now: Clock;
  /** In recency order, least recently seen first (a Map keeps insertion order; a hit re-inserts). */
  readonly #entries = new Map<string, Entry>();
  readonly #next: number[];

  constructor(rates: readonly RateLimitRate[], options: RateBucketOptions = {}) {
    this.#rates = rates;
    this.#maxKeys = Math.max(1, options.maxKeys ?? DEFAULT_MAX_KEYS);
    this.#now = options.now ?? (() => performance.now());
    this.#next = rates.map(() => 0);
  }

  /** The addresses remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether a request from `key` is accepted now; an accepted one is counted in every bucket. */
  take(key: string): boolean {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#insert(key, { last: now, excess: this.#rates.map(() => 0) }, now);
      return true;
    }
    // Seen again, accepted or not: it is the most recent (nginx moves the node to its queue's head).
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    // A clock that went back (it should not: performance.now is monotonic) leaks nothing.
    const elapsed = Math.max(0, now - entry.last);
    const next = this.#next;
    for (let i = 0; i < this.#rates.length; i++) {
      const rate = this.#rates[i]!;
      const excess = Math.max(0, entry.excess[i]! - leaked(rate, elapsed) + 1000);
      if (excess > rate.burst * 1000) return false;
      next[i] = excess;
    }
    for (let i = 0; i < next.length; i++) entry.excess[i] = next[i]!;
    entry.last = now;
    return true;
  }

  #insert(key: string, entry: Entry, now: number): void {
    const entries = this.#entries;
    let swept = 0;
    for (const [oldKey, old] of entries) {
      if (swept++ >= SWEEP_PER_INSERT || !this.#drained(old, now)) break;
      entries.delete(oldKey);
    }
    if (entries.size >= this.#maxKeys) entries.delete(entries.keys().next().value!);
    entries.set(key, entry);
  }

  /**
   * Whether `entry` would take its next request as a new address does (at excess 0): a whole
   * request more than its excess has drained. Only then can it be forgotten without a difference.
   */
  #drained(entry: Entry, now: number): boolean {
    const elapsed = Math.max(0, now - entry.last);
    return this.#rates.every((rate, i) => entry.excess[i]! + 1000 <= leaked(rate, elapsed));
  }
}

/** Thousandths of a request `rate` drains in `ms` milliseconds. */
function leaked(rate: RateLimitRate, ms: number): number {
  return (rate.requests * ms) / rate.periodSeconds;
}
