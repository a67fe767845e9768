import type { ProxiedAddresses } from './header.ts';

/**
 * The client address of a connection: the one its PROXY header gave, else the peer's. Every place
 * that says who the client is (X-Forwarded-For, X-Real-IP, the access log, client-ip hashing,
 * RouteScripts' `clientIp`) asks here rather than reading `socket.remoteAddress`.
 *
 * The header is read off the TCP socket, but requests see another object on HTTPS (the TLS socket,
 * or HTTP/2's proxy of it); both report the same peer and local address and port, so a connection
 * is known by that four-tuple, which is unique while it is open. Entries go when it closes.
 */
const proxied = new Map<string, ProxiedAddresses>();

interface SocketLike {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

function keyOf(socket: SocketLike): string {
  return `${socket.remoteAddress} ${socket.remotePort} ${socket.localAddress} ${socket.localPort}`;
}

/** Records what `socket`'s PROXY header said, until it closes. */
export function recordProxied(socket: SocketLike & { once(event: 'close', fn: () => void): unknown }, addresses: ProxiedAddresses): void {
  const key = keyOf(socket);
  proxied.set(key, addresses);
  socket.once('close', () => proxied.delete(key));
}

/** The addresses the connection's PROXY header gave, or null when it had none. */
export function proxiedAddresses(socket: SocketLike | null | undefined): ProxiedAddresses | null {
  if (proxied.size === 0 || socket == null) return null;
  return proxied.get(keyOf(socket)) ?? null;
}

/** The client's address on `socket`: the PROXY header's source, else the peer address ('' when gone). */
export function clientAddress(socket: SocketLike | null | undefined): string {
  if (socket == null) return '';
  if (proxied.size === 0) return socket.remoteAddress ?? '';
  return proxied.get(keyOf(socket))?.sourceAddress ?? socket.remoteAddress ?? '';
}
