import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Http2SecureServer } from 'node:http2';

/**
 * Giving a client connection back to the HTTP server after its 'upgrade' event, so that what the
 * client sends next is parsed, routed and scripted one request at a time like on any connection.
 * Node's server stops parsing a connection when it emits 'upgrade'; the only way back is to put
 * the unparsed bytes in front of the socket's stream and announce the socket as a new connection,
 * which gives it a fresh parser. The socket is marked, so that connection metrics count it once.
 */

const handedBack = new WeakSet<Duplex>();

/**
 * Puts `bytes` (what the client sent after the part already handled) back at the front of
 * `socket` and has `server` parse the connection again from there.
 */
export function handBack(server: Server | Http2SecureServer, socket: Duplex, bytes: Buffer): void {
  if (socket.destroyed) return;
  handedBack.add(socket);
  if (bytes.length > 0) socket.unshift(bytes);
  // A TLS server's 'connection' is the raw TCP socket, which it would wrap in TLS once more; its
  // HTTP layer listens for the TLS socket on 'secureConnection' (and picks HTTP/1.1 by ALPN there).
  server.emit((socket as { encrypted?: boolean }).encrypted === true ? 'secureConnection' : 'connection', socket);
}

/** The response a server's connection is writing now (Node keeps the ones queued behind it itself). */
interface WithResponse {
  readonly _httpMessage?: { once(event: 'finish', listener: () => void): unknown } | null;
}

/**
 * Calls `fn` once every response the HTTP server still owes on `socket` has been written: an upgrade
 * request pipelined behind other requests reaches its handler while their responses may still be in
 * progress, and its own answer (a 101, an error, a response of its own) must follow theirs on the
 * wire. Node attaches the next queued response in its own 'finish' listener, which runs before
 * this one, so checking again after each 'finish' walks the whole queue.
 */
export function afterEarlierResponses(socket: Duplex, fn: () => void): void {
  const pending = (socket as WithResponse)._httpMessage;
  if (pending === undefined || pending === null) return fn();
  pending.once('finish', () => afterEarlierResponses(socket, fn));
}

/** Whether `socket` is a connection given back with {@link handBack} (already counted once). */
export function isHandedBack(socket: Duplex): boolean {
  return handedBack.has(socket);
}
