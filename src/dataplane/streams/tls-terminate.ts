/**
 * A TLS listener in Terminate mode (Gateway API TLSRouteModeTerminate): the connection a TLS route
 * took by its ClientHello's SNI name is handshaken here, with the listener's certificate, and its
 * decrypted bytes relayed to the route's backend as a plain TCP stream (stream-relay.ts), which so
 * sees neither TLS nor SNI. A handshake that fails or does not finish within the timeout reaches no
 * backend; neither does a listener whose certificates did not load (compile checked them).
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { StreamMetrics } from '../../metrics/metrics.ts';
import type { PreparedStreamRoute } from './prepared-streams.ts';
import { relayStream } from './stream-relay.ts';

/**
 * Terminates TLS on `socket`, whose ClientHello `hello` was read off it (and is put back), with
 * `context`, then relays the plain stream to a backend of `route`.
 */
export function terminateStream(socket: Socket, hello: Buffer, context: SecureContext | null, route: PreparedStreamRoute, metrics: StreamMetrics, timeoutMs: number): void {
  if (context === null) {
    metrics.refused.labels(route.listener, 'no-certificate').inc();
    socket.destroy();
    return;
  }
  socket.unshift(hello);
  // The TLS socket takes the ClientHello from the raw socket's buffer and then reads its handle
  // itself: the raw socket stays paused, or it would take the client's bytes away from it.
  const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
  const fail = (): void => {
    clearTimeout(timer);
    metrics.refused.labels(route.listener, 'handshake').inc();
    secure.destroy();
    socket.destroy();
  };
  const timer = setTimeout(fail, timeoutMs > 0 ? timeoutMs : 30_000);
  secure.once('error', fail);
  secure.once('secure', () => {
    clearTimeout(timer);
    secure.off('error', fail);
    relayStream(secure, null, route, metrics);
  });
}
