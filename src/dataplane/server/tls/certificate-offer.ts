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
 * socket only those of its address: socket-listeners.ts): the union of the `tls.certificates` of its HTTPS listeners (a listener
 * with null offers them all), and as fallback the first certificate listed by its first HTTPS
 * listener without a hostname — a listener for any name names the certificate for any name; one
 * that offers every certificate (null) names none, so the default certificate answers, as before.
 * The own port with no HTTPS listener at all offers every certificate, as it always did.
 */
export function certificateOffer(table: RoutingTable, socket: SocketPlace): CertificateOffer {
  const listeners = table.listeners.filter((l) => l.protocol === 'HTTPS' && isOnSocket(l, socket));
  if (listeners.length === 0) return { certificates: socket.own ? null : [], fallback: null };
  let certificates: string[] | null = [];
  for (const l of listeners) {
    const list = l.tls?.certificates ?? null;
    if (list === null) certificates = null;
    else if (certificates !== null) for (const name of list) if (!certificates.includes(name)) certificates.push(name);
  }
  const catchAll = listeners.find((l) => l.hostname === null && (l.tls?.certificates?.length ?? 0) > 0);
  return { certificates, fallback: catchAll?.tls?.certificates?.[0] ?? null };
}

/** The SNI names whose handshakes on a TLS socket ask for a client certificate: the hosts of its HTTPS listeners that check one. */
export function clientAuthOffer(table: RoutingTable, socket: SocketPlace): ClientAuthHosts {
  return new ClientAuthHosts(table, new Set(table.listeners.filter((l) => l.protocol === 'HTTPS' && isOnSocket(l, socket)).map((l) => l.name)));
}

/** The SNI names whose handshakes on a TLS socket have TLS parameters of their own: the hosts of its HTTPS listeners that set them. */
export function hostTlsOffer(table: RoutingTable, socket: SocketPlace): HostTlsHosts {
  return new HostTlsHosts(table, new Set(table.listeners.filter((l) => l.protocol === 'HTTPS' && isOnSocket(l, socket)).map((l) => l.name)));
}

/**
 * The TLS parameters of a TLS socket's own handshakes — without SNI, or for a name no host with
 * parameters of its own has: those of its first HTTPS listener (by name) that sets any; null: Node's.
 */
export function listenerTlsOffer(table: RoutingTable, socket: SocketPlace): HostTlsParameters | null {
  return table.listeners.find((l) => l.protocol === 'HTTPS' && l.tlsParameters !== undefined && isOnSocket(l, socket))?.tlsParameters ?? null;
}
