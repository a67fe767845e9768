/**
 * Gates in front of a server's HTTP or TLS machinery (the PROXY protocol, the HTTP/2 preface, TLS
 * passthrough) all start the same way: the server's 'connection' listeners installed so far are
 * taken off, the gate sees every new connection first and hands it on to them when it is done.
 */
import type { Server, Socket } from 'node:net';

/** Takes `server`'s 'connection' listeners off; the function returned hands a socket on to them all. */
export function takeConnectionListeners(server: Server): (socket: Socket) => void {
  const downstream = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  return (socket) => {
    for (const fn of downstream) fn.call(server, socket);
  };
}
