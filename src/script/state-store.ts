/**
 * The storage behind `ctx.state` for one RouteScript in one worker thread: every route the script
 * runs on keeps its keys here (see {@link RouteState}, a route's view), under one byte budget and
 * one key bound for the whole script. A budget per route would let one RouteScript on an Ingress
 * with hundreds of paths hold hundreds of times its share, until the worker's heap ran out and
 * every connection of the worker dropped.
 *
 * Past a bound, the store makes room the way nginx's `limit_req` zones do: expired entries first,
 * then the least recently used ones, of any route of the script. A `set` always succeeds (a
 * throttle must not start failing requests because it is full); what it costs is older keys.
 */

/** A value `ctx.state` holds. */
export type StateValue = string | number;

/** Why the store let an entry go, for the evictions metric. */
export type EvictionReason = 'expired' | 'budget';

/** Options for {@link StateStore}. */
export interface StateStoreOptions {
  /** Most bytes held, by the estimate of {@link entryBytes}. Default 8 MiB. */
  readonly maxBytes?: number;
  /** Most keys held, all routes together. Default 100,000. */
  readonly maxKeys?: number;
  /** Clock in milliseconds, for TTLs; injected by tests. Default `Date.now`. */
  readonly now?: () => number;
  /** Called when entries are let go to make room (not for a script's own `delete`). */
  readonly onEvict?: (reason: EvictionReason, count: number) => void;
}

/** The default byte budget of a RouteScript's `ctx.state` in one worker. */
export const DEFAULT_STATE_BYTES = 8 * 1024 * 1024;

/**
 * What an entry costs beyond its strings: the Map's slot, the entry object, the number or string
 * header (V8 on 64 bits: ~100 bytes measured per entry of numbers under short keys).
 */
const ENTRY_OVERHEAD_BYTES = 96;

/** How often at most a full sweep of expired entries runs when the store is full. */
const SWEEP_INTERVAL_MS = 1_000;

/** One stored value. */
export interface StateEntry {
  value: StateValue;
  /** Clock ms after which the entry is gone; Infinity without a TTL. */
  expiresAt: number;
  /** What it counts against the budget. */
  bytes: number;
}

/** The estimated heap cost of an entry: strings at two bytes a character (V8's worst case). */
export function entryBytes(name: string, value: StateValue): number {
  return ENTRY_OVERHEAD_BYTES + 2 * name.length + (typeof value === 'string' ? 2 * value.length : 8);
}

/**
 * An LRU map of entries under `scope ␊ key` names, bounded in bytes and keys. A Map iterates in
 * insertion order and every use re-inserts, so the first name is always the least recently used.
 */
export class StateStore {
  readonly #entries = new Map<string, StateEntry>();
  readonly #maxBytes: number;
  readonly #maxKeys: number;
  readonly #onEvict: ((reason: EvictionReason, count: number) => void) | undefined;
  readonly now: () => number;
  #bytes = 0;
  #lastSweep = -Infinity;

  constructor(options: StateStoreOptions = {}) {
    this.#maxBytes = positiveInteger(options.maxBytes ?? DEFAULT_STATE_BYTES, 'maxBytes');
    this.#maxKeys = positiveInteger(options.maxKeys ?? 100_000, 'maxKeys');
    this.now = options.now ?? Date.now;
    this.#onEvict = options.onEvict;
  }

  /** Bytes held now (the estimate; expired entries not yet noticed included). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Keys held now, every route of the script together. */
  get size(): number {
    return this.#entries.size;
  }

  /** The budget in bytes. */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** The live entry of `name`, made the most recently used; an expired one is dropped. */
  live(name: string): StateEntry | undefined {
    const entry = this.#entries.get(name);
    if (entry === undefined) return undefined;
    this.#entries.delete(name);
    if (entry.expiresAt <= this.now()) {
      this.#bytes -= entry.bytes;
      return undefined;
    }
    this.#entries.set(name, entry);
    return entry;
  }

  /** Stores `value` under `name` (replacing what was there), then makes room within the bounds. */
  store(name: string, value: StateValue, expiresAt: number): void {
    this.remove(name);
    const bytes = entryBytes(name, value);
    this.#entries.set(name, { value, expiresAt, bytes });
    this.#bytes += bytes;
    if (this.#bytes > this.#maxBytes || this.#entries.size > this.#maxKeys) this.#makeRoom(name);
  }

  /** Removes `name`; the entry it held, if any (expired or not). */
  remove(name: string): StateEntry | undefined {
    const entry = this.#entries.get(name);
    if (entry === undefined) return undefined;
    this.#entries.delete(name);
    this.#bytes -= entry.bytes;
    return entry;
  }

  /** Removes every entry of `scope` (a route that no longer runs the script). */
  dropScope(scope: string): void {
    const prefix = `${scope}\n`;
    for (const [name, entry] of this.#entries) {
      if (!name.startsWith(prefix)) continue;
      this.#entries.delete(name);
      this.#bytes -= entry.bytes;
    }
  }

  /** Expired entries first (a full sweep at most once a second), then the least recently used; never `keep`. */
  #makeRoom(keep: string): void {
    const now = this.now();
    if (now - this.#lastSweep >= SWEEP_INTERVAL_MS) {
      this.#lastSweep = now;
      let expired = 0;
      for (const [name, entry] of this.#entries) {
        if (entry.expiresAt > now || name === keep) continue;
        this.#entries.delete(name);
        this.#bytes -= entry.bytes;
        expired++;
      }
      if (expired > 0) this.#onEvict?.('expired', expired);
    }
    let evicted = 0;
    for (const [name, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes && this.#entries.size <= this.#maxKeys) break;
      if (name === keep) continue;
      this.#entries.delete(name);
      this.#bytes -= entry.bytes;
      evicted++;
    }
    if (evicted > 0) this.#onEvict?.('budget', evicted);
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`StateStore: ${name} must be a positive integer`);
  return value;
}
