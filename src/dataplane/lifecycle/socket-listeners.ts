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
