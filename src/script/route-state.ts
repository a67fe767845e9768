/**
 * The small key/value store behind `ctx.state`: one per route, living in the proxy (per worker
 * thread, per replica — never shared between them), outliving the script's isolate and table swaps.
 * Made for edge throttling and small flags: counters with TTL windows, short strings.
 *
 * A route's state is a view of its script's {@link StateStore}: the keys of every route a
 * RouteScript runs on share one byte budget and one key bound, with room made by TTL and then by
 * age across them (state-store.ts).
 */
import { StateStore, type StateValue } from './state-store.ts';

export type { StateValue } from './state-store.ts';

/** Options for {@link RouteState}. */
export interface RouteStateOptions {
  /**
   * The script's store this route's keys live in, shared with its other routes; without it the
   * route gets a store of its own, bounded by `maxKeys` and the default byte budget.
   */
  readonly store?: StateStore;
  /** The route's name in `store` (its keys are `scope ␊ key` there). Default empty. */
  readonly scope?: string;
  /** Without `store`: most keys held; beyond it the least recently used key goes. Default 10,000. */
  readonly maxKeys?: number;
  /** Longest key. Default 256. */
  readonly maxKeyLength?: number;
  /** Longest string value. Default 1,024. */
  readonly maxValueLength?: number;
  /** Without `store`: clock in milliseconds, for TTLs; injected by tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Longest TTL a script may ask for: a day. Longer-lived state belongs in a real store. */
export const MAX_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A route's strings and numbers with optional per-key TTLs, in its script's bounded LRU store.
 * Invalid input throws a `TypeError`, which the script sees as an exception from the `ctx.state` call.
 */
export class RouteState {
  readonly #store: StateStore;
  readonly #prefix: string;
  readonly #maxKeyLength: number;
  readonly #maxValueLength: number;
  readonly #now: () => number;

  constructor(options: RouteStateOptions = {}) {
    this.#store = options.store ?? new StateStore({ maxKeys: positiveInteger(options.maxKeys ?? 10_000, 'maxKeys'), now: options.now });
    this.#prefix = `${options.scope ?? ''}\n`;
    this.#maxKeyLength = positiveInteger(options.maxKeyLength ?? 256, 'maxKeyLength');
    this.#maxValueLength = positiveInteger(options.maxValueLength ?? 1024, 'maxValueLength');
    this.#now = this.#store.now;
  }

  /** The store this route's keys live in. */
  get store(): StateStore {
    return this.#store;
  }

  /** How many keys the store holds (every route sharing it; expired ones not yet noticed included). */
  get size(): number {
    return this.#store.size;
  }

  /** The value of `key`, or null when it is absent or expired. */
  get(key: string): StateValue | null {
    return this.#store.live(this.#key(key))?.value ?? null;
  }

  /**
   * Sets `key` to `value`, replacing any value and TTL it had.
   * @param ttlMs lifetime in ms; without it the key lives until evicted.
   */
  set(key: string, value: StateValue, ttlMs?: number): void {
    const name = this.#key(key);
    if (typeof value === 'string') {
      if (value.length > this.#maxValueLength) throw new TypeError(`state value is longer than ${this.#maxValueLength} characters`);
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new TypeError('state values are strings or finite numbers');
    }
    this.#store.store(name, value, this.#expiry(ttlMs));
  }

  /**
   * Adds `by` to the number at `key` and returns the sum. A missing or expired key starts from 0 and
   * takes `ttlMs`; an existing one keeps its expiry, so `incr(k, 1, 1000)` counts in fixed one-second
   * windows.
   */
  incr(key: string, by = 1, ttlMs?: number): number {
    const name = this.#key(key);
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new TypeError('incr: by must be a finite number');
    const entry = this.#store.live(name);
    if (entry === undefined) {
      this.#store.store(name, by, this.#expiry(ttlMs));
      return by;
    }
    if (typeof entry.value !== 'number') throw new TypeError(`incr: the value of ${JSON.stringify(key)} is not a number`);
    this.#expiry(ttlMs); // validated even when unused, so a bad argument fails every time
    entry.value += by;
    return entry.value;
  }

  /** Removes `key`; true when it was present and live. */
  delete(key: string): boolean {
    const name = this.#key(key);
    const entry = this.#store.remove(name);
    return entry !== undefined && entry.expiresAt > this.#now();
  }

  #key(key: string): string {
    if (typeof key !== 'string' || key.length === 0 || key.length > this.#maxKeyLength) {
      throw new TypeError(`state keys are strings of 1 to ${this.#maxKeyLength} characters`);
    }
    return this.#prefix + key;
  }

  #expiry(ttlMs: number | undefined): number {
    if (ttlMs === undefined || ttlMs === null) return Infinity;
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
      throw new TypeError(`ttlMs must be a number of milliseconds from 1 to ${MAX_TTL_MS}`);
    }
    return this.#now() + ttlMs;
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`RouteState: ${name} must be a positive integer`);
  return value;
}
