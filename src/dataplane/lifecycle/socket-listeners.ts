/**
 * Which of the table's listeners a data-plane socket serves: one rule for its router
 * (prepared-table.ts), the certificates it offers (certificate-offer.ts) and its passthrough routes
 * (prepared-streams.ts), so that the three never disagree about a socket.
 */
import type { Listener } from '../../model/table.ts';
import type { ListenerInfo } from './proxy-state.ts';

/** What decides the listeners of a socket: where it is bound, and whether port null means it. */
export type SocketPlace = Pick<ListenerInfo, 'port' | 'own' | 'address' | 'portNull'>;

/**
 * Whether listener `l` (of any protocol: the caller picks those its socket speaks) is on `socket`:
 * the same address (both without one: the bind address), and its port, or port null on a socket of
 * the data plane's own port number (the own socket; or an address socket that has that number).
 */
export function isOnSocket(l: Listener, socket: SocketPlace): boolean {
  if ((l.address ?? null) !== (socket.address ?? null)) return false;
  return l.port === socket.port || (l.port === null && (socket.own || socket.portNull === true));
}

/**
 * Whether a connection on a socket without an address of its own (`socket` is bound to the bind
 * address, a wildcard one say) was made to one of `addresses` — a Gateway's own address, on a port
 * that Gateway has no listener on. Such a connection would reach the listeners of the wildcard
 * socket (other Gateways', Ingresses') through that Gateway's address, so it is not served.
 */
export function toAnotherAddress(localAddress: string | undefined, addresses: ReadonlySet<string>): boolean {
  if (addresses.size === 0 || localAddress === undefined) return false;
  return addresses.has(bareAddress(localAddress));
}

/** A socket's local address as listeners name it: a dual-stack socket sees IPv4 destinations as IPv4-mapped IPv6. */
export function bareAddress(localAddress: string): string {
  return localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
}
