/**
 * Which SNI names get TLS parameters of their own (cipher list, versions, cipher order): the
 * virtual hosts with `tlsParameters`, looked up as the router takes a Host (an exact host first,
 * then a one-label wildcard, then the host of rules without one), as client-auth-hosts.ts does.
 */
import type { RoutingTable } from '../../../model/table.ts';
import type { HostTlsParameters } from '../../../model/tls-parameters.ts';

/** The hosts of one table whose handshakes have TLS parameters of their own, by SNI name. */
export class HostTlsHosts {
  readonly #exact = new Map<string, HostTlsParameters | null>();
  readonly #wildcard = new Map<string, HostTlsParameters | null>();
  #any: HostTlsParameters | null = null;
  #active = false;

  /** The index of `table`'s virtual hosts among `listeners` (names). */
  constructor(table: RoutingTable, listeners: ReadonlySet<string>) {
    for (const vhost of table.virtualHosts) {
      if (!vhost.listeners.some((l) => listeners.has(l))) continue;
      const entry = vhost.tlsParameters ?? null;
      if (entry !== null) this.#active = true;
      // A host split over several virtual hosts (one per listener) takes the first that sets any.
      if (vhost.match === 'exact') this.#exact.set(vhost.host, this.#exact.get(vhost.host) ?? entry);
      else if (vhost.match === 'wildcard') this.#wildcard.set(vhost.host.slice(2), this.#wildcard.get(vhost.host.slice(2)) ?? entry);
      else if (vhost.match === 'any') this.#any ??= entry;
    }
  }

  /** Whether any host has parameters: when none does, no ClientHello needs reading for them. */
  get active(): boolean {
    return this.#active;
  }

  /** The parameters of the host `servername` (any case) reaches; null: the listener's. */
  lookup(servername: string): HostTlsParameters | null {
    const name = servername.toLowerCase();
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wildcard = this.#wildcard.get(name.slice(dot + 1));
      if (wildcard !== undefined) return wildcard;
    }
    return this.#any;
  }
}
