import type { RoutingTable } from '../../../model/table.ts';
import type { HostTlsParameters } from '../../../model/tls-parameters.ts';
import { isOnSocket, type SocketPlace } from '../../lifecycle/socket-listeners.ts';
import { ClientAuthHosts } from './client-auth-hosts.ts';
import { HostTlsHosts } from './host-tls-hosts.ts';

/** The certificates one TLS socket offers for one table. */
export interface CertificateOffer {
  /** The table certificates chosen from by SNI, by name; null for every certificate of the table. */
  readonly certificates: readonly string[] | null;
  /**
   * The certificate for a handshake whose SNI name none of them serves, or that sends none; null for
   * the data plane's default certificate.
   */
  readonly fallback: string | null;
}

/**
 * What a TLS socket offers (the own HTTPS port also serves the listeners with port null, an address
 * socket only those of its address: socket-listeners.ts): the union of the `tls.certificates` of its
 * HTTPS listeners, where a listener with null offers every certificate that is not listener-bound
 * (a Gateway listener's: offered only on the sockets of the listeners that list it), and as fallback
 * the first certificate listed by its first HTTPS listener without a hostname — a listener for any
 * name names the certificate for any name; one that offers every certificate (null) names none, so
 * the default certificate answers, as before. The own port with no HTTPS listener at all offers as
 * a listener with null does.
 */
export function certificateOffer(table: RoutingTable, socket: SocketPlace): CertificateOffer {
  const listeners = table.listeners.filter((l) => l.protocol === 'HTTPS' && isOnSocket(l, socket));
  if (listeners.length === 0) return { certificates: socket.own ? unbound(table, []) : [], fallback: null };
  const listed: string[] = [];
  let every = false;
  for (const l of listeners) {
    const list = l.tls?.certificates ?? null;
    if (list === null) every = true;
    else for (const name of list) if (!listed.includes(name)) listed.push(name);
  }
  const catchAll = listeners.find((l) => l.hostname === null && (l.tls?.certificates?.length ?? 0) > 0);
  return { certificates: every ? unbound(table, listed) : listed, fallback: catchAll?.tls?.certificates?.[0] ?? null };
}

/**
 * Every certificate a listener with null offers, beside those the socket's listeners list: null
 * (all of them, cheaply) when the table binds none to listeners, else the names in table order.
 */
function unbound(table: RoutingTable, listed: readonly string[]): string[] | null {
  if (!table.certificates.some((c) => c.listenerBound === true)) return null;
  return table.certificates.filter((c) => c.listenerBound !== true || listed.includes(c.name)).map((c) => c.name);
}

/** The SNI names whose handshakes on a TLS socket ask for a client certificate: the hosts of its HTTPS listeners that check one. */
export function clientAuthOffer(table: RoutingTable, socket: SocketPlace): ClientAuthHosts {
  return new ClientAuthHosts(table, httpsListenersOn(table, socket));
}

/** The SNI names whose handshakes on a TLS socket have TLS parameters of their own: the hosts of its HTTPS listeners that set them. */
export function hostTlsOffer(table: RoutingTable, socket: SocketPlace): HostTlsHosts {
  return new HostTlsHosts(table, httpsListenersOn(table, socket));
}

/** The names of the table's HTTPS listeners a TLS socket serves. */
function httpsListenersOn(table: RoutingTable, socket: SocketPlace): ReadonlySet<string> {
  return new Set(table.listeners.filter((l) => l.protocol === 'HTTPS' && isOnSocket(l, socket)).map((l) => l.name));
}

/**
 * The TLS parameters of a TLS socket's own handshakes — without SNI, or for a name no host with
 * parameters of its own has: those of its first HTTPS listener (by name) that sets any; null: Node's.
 */
export function listenerTlsOffer(table: RoutingTable, socket: SocketPlace): HostTlsParameters | null {
  return table.listeners.find((l) => l.protocol === 'HTTPS' && l.tlsParameters !== undefined && isOnSocket(l, socket))?.tlsParameters ?? null;
}
