/**
 * Which SNI names ask for a client certificate: the virtual hosts with a `clientAuth`, looked up
 * the way the router takes a Host (an exact host first, then a one-label wildcard, then a suffix
 * host, the longest suffix first, then the host of rules without one), so that the handshake asks exactly when the host the name reaches checks.
 */
import type { ClientCertificateAuth, RoutingTable } from '../../../model/table.ts';

/** A host that checks client certificates, and its check. */
export interface ClientAuthHost {
  /** The virtual host's `match` and `host` (`exact secure.example.com`): what a connection is verified for. */
  readonly key: string;
  readonly auth: ClientCertificateAuth;
}

/** The hosts of one table that check client certificates, by SNI name. */
export class ClientAuthHosts {
  readonly #exact = new Map<string, ClientAuthHost | null>();
  readonly #wildcard = new Map<string, ClientAuthHost | null>();
  readonly #suffix = new Map<string, ClientAuthHost | null>();
  #any: ClientAuthHost | null = null;

  /** The index of `table`'s HTTPS virtual hosts among `listeners` (names). */
  constructor(table: RoutingTable, listeners: ReadonlySet<string>) {
    for (const vhost of table.virtualHosts) {
      if (!vhost.listeners.some((l) => listeners.has(l))) continue;
      const entry = vhost.clientAuth === undefined ? null : { key: hostKey(vhost.match, vhost.host), auth: vhost.clientAuth };
      // A host split over several virtual hosts (one per listener) checks if any of them does.
      if (vhost.match === 'exact') this.#exact.set(vhost.host, this.#exact.get(vhost.host) ?? entry);
      else if (vhost.match === 'wildcard') this.#wildcard.set(vhost.host.slice(2), this.#wildcard.get(vhost.host.slice(2)) ?? entry);
      else if (vhost.match === 'suffix') this.#suffix.set(vhost.host.slice(2), this.#suffix.get(vhost.host.slice(2)) ?? entry);
      else if (vhost.match === 'any') this.#any ??= entry;
    }
  }

  /** Whether any host checks: when none does, no ClientHello needs reading for it. */
  get active(): boolean {
    return this.#any !== null || [...this.#exact.values(), ...this.#wildcard.values(), ...this.#suffix.values()].some((e) => e !== null);
  }

  /** The check the host `servername` (any case) reaches makes; null when that host makes none. */
  lookup(servername: string): ClientAuthHost | null {
    const name = servername.toLowerCase();
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wildcard = this.#wildcard.get(name.slice(dot + 1));
      if (wildcard !== undefined) return wildcard;
    }
    // The Gateway API's `*.suffix` takes one or more labels: the longest suffix of the name first.
    for (let at = dot; at > 0; at = name.indexOf('.', at + 1)) {
      const suffix = this.#suffix.get(name.slice(at + 1));
      if (suffix !== undefined) return suffix;
    }
    return this.#any;
  }
}

/** How a virtual host is named in a connection's verification record. */
export function hostKey(match: string, host: string): string {
  return `${match} ${host}`;
}

/** Whether a connection verified for `a` was verified as `b` asks (same host, CA, CRL, mode and strictness). */
export function sameCheck(a: ClientAuthHost, b: ClientAuthHost): boolean {
  if (a === b) return true;
  return a.key === b.key && a.auth.caPem === b.auth.caPem && a.auth.crlPem === b.auth.crlPem && a.auth.verify === b.auth.verify && a.auth.depth === b.auth.depth && (a.auth.rejectUnverified ?? false) === (b.auth.rejectUnverified ?? false);
}
