/**
 * The per-worker state of RateLimit filters: a zone per `zone` name and limits, holding the
 * buckets of its rates, the requests each address has in flight and the allow list. Zones outlive
 * table swaps (a swap for an unrelated Endpoint change must not hand every client a fresh burst),
 * and a zone no route of the new table uses is dropped.
 */
import { BlockList, isIP } from 'node:net';
import type { RateLimitFilter } from '../../../model/table.ts';
import { RateBuckets, type Clock } from './rate-limit-bucket.ts';

/** One zone: what the routes that name it share, in one worker. */
export class RateLimitZone {
  /** Null when the zone limits connections only. */
  readonly buckets: RateBuckets | null;
  /** Requests in flight per address; null when connections are not limited. */
  readonly connections: number | null;
  /**
   * The requests this zone let in already. A request held at a pause gate runs its filters again
   * on release; it must not be counted twice.
   */
  readonly admitted = new WeakSet<object>();
  // Only addresses with a request in flight have an entry, so its size is bounded by the worker's requests.
  readonly #inFlight = new Map<string, number>();
  readonly #allow: BlockList | null;

  constructor(filter: RateLimitFilter, now?: Clock) {
    this.buckets = filter.rates.length === 0 ? null : new RateBuckets(filter.rates, now === undefined ? {} : { now });
    this.connections = filter.connections;
    this.#allow = filter.allowlist.length === 0 ? null : blockList(filter.allowlist);
  }

  /** Whether `address` is on the allow list (never limited). */
  allows(address: string): boolean {
    if (this.#allow === null) return false;
    const family = isIP(address);
    return family !== 0 && this.#allow.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Counts a request of `address` in flight; false (and not counted) when it has `connections` already. */
  enter(address: string): boolean {
    const n = this.#inFlight.get(address) ?? 0;
    if (this.connections !== null && n >= this.connections) return false;
    this.#inFlight.set(address, n + 1);
    return true;
  }

  /** A request counted by {@link enter} ended. */
  leave(address: string): void {
    const n = this.#inFlight.get(address) ?? 0;
    if (n <= 1) this.#inFlight.delete(address);
    else this.#inFlight.set(address, n - 1);
  }

  /** Requests of `address` in flight now. */
  inFlight(address: string): number {
    return this.#inFlight.get(address) ?? 0;
  }
}

/**
 * A worker's zones, by name and limits. Each table swap calls {@link begin}, asks for the zones of
 * its routes, then {@link sweep}s the zones it did not ask for.
 */
export class RateLimitZones {
  readonly #zones = new Map<string, RateLimitZone>();
  readonly #used = new Set<string>();
  readonly #now: Clock | undefined;

  constructor(now?: Clock) {
    this.#now = now;
  }

  /** Starts preparing a table. */
  begin(): void {
    this.#used.clear();
  }

  /** The zone of `filter`: the one routes of earlier tables used when its name and limits are the same. */
  zoneFor(filter: RateLimitFilter): RateLimitZone {
    // Statuses are left out: they change the answer, not the counts.
    const key = JSON.stringify([filter.zone, filter.rates.map((r) => [r.requests, r.periodSeconds, r.burst]), filter.connections, filter.allowlist]);
    this.#used.add(key);
    let zone = this.#zones.get(key);
    if (zone === undefined) this.#zones.set(key, (zone = new RateLimitZone(filter, this.#now)));
    return zone;
  }

  /** Drops the zones the table being prepared does not use (requests in flight keep theirs). */
  sweep(): void {
    for (const key of this.#zones.keys()) if (!this.#used.has(key)) this.#zones.delete(key);
  }

  /** How many zones are kept. */
  get size(): number {
    return this.#zones.size;
  }
}

function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}
