/**
 * A value per virtual host, looked up by SNI name the way the router takes a Host: an exact host
 * first, then a one-label wildcard, then a suffix host (the Gateway API's `*.suffix`, one or more
 * labels, the longest suffix first), then the host of rules without one — so that a handshake is
 * made as the host the name reaches wants it. What the value is (a client-certificate check, TLS
 * parameters) is the picker's.
 */
import type { RoutingTable, VirtualHost } from '../../../model/table.ts';

/** The values `pick` gives the HTTPS virtual hosts of one table's socket, by SNI name. */
export class SniHostIndex<T> {
  readonly #exact = new Map<string, T | null>();
  readonly #wildcard = new Map<string, T | null>();
  readonly #suffix = new Map<string, T | null>();
  #any: T | null = null;
  #active = false;

  /** The index of `table`'s virtual hosts among `listeners` (names); `pick` gives a host's value, or null. */
  constructor(table: RoutingTable, listeners: ReadonlySet<string>, pick: (vhost: VirtualHost) => T | null) {
    for (const vhost of table.virtualHosts) {
      if (!vhost.listeners.some((l) => listeners.has(l))) continue;
      const entry = pick(vhost);
      if (entry !== null) this.#active = true;
      // A host split over several virtual hosts (one per listener) takes the first that has a value.
      if (vhost.match === 'exact') this.#exact.set(vhost.host, this.#exact.get(vhost.host) ?? entry);
      else if (vhost.match === 'wildcard') this.#wildcard.set(vhost.host.slice(2), this.#wildcard.get(vhost.host.slice(2)) ?? entry);
      else if (vhost.match === 'suffix') this.#suffix.set(vhost.host.slice(2), this.#suffix.get(vhost.host.slice(2)) ?? entry);
      else if (vhost.match === 'any') this.#any ??= entry;
    }
  }

  /** Whether any host has a value: when none does, no ClientHello needs reading for it. */
  get active(): boolean {
    return this.#active;
  }

  /** The value of the host `servername` (any case) reaches; null when that host has none. */
  lookup(servername: string): T | null {
    const name = servername.toLowerCase();
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wildcard = this.#wildcard.get(name.slice(dot + 1));
      if (wildcard !== undefined) return wildcard;
    }
    for (let at = dot; at > 0; at = name.indexOf('.', at + 1)) {
      const suffix = this.#suffix.get(name.slice(at + 1));
      if (suffix !== undefined) return suffix;
    }
    return this.#any;
  }
}
