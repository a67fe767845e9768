/**
 * Which SNI names ask for a client certificate: the virtual hosts with a `clientAuth`, looked up
 * as the router takes a Host (sni-host-index.ts), so that the handshake asks exactly when the host
 * the name reaches checks.
 */
import type { ClientCertificateAuth, RoutingTable } from '../../../model/table.ts';
import { SniHostIndex } from './sni-host-index.ts';

/** A host that checks client certificates, and its check. */
export interface ClientAuthHost {
  /** The virtual host's `match` and `host` (`exact secure.example.com`): what a connection is verified for. */
  readonly key: string;
  readonly auth: ClientCertificateAuth;
}

/** The hosts of one table that check client certificates, by SNI name (see SniHostIndex). */
export class ClientAuthHosts extends SniHostIndex<ClientAuthHost> {
  /** The index of `table`'s HTTPS virtual hosts among `listeners` (names). */
  constructor(table: RoutingTable, listeners: ReadonlySet<string>) {
    super(table, listeners, (vhost) => (vhost.clientAuth === undefined ? null : { key: hostKey(vhost.match, vhost.host), auth: vhost.clientAuth }));
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
