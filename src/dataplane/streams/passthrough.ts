/**
 * TLS passthrough by SNI on a TLS socket: the data plane's own HTTPS port (TLS listeners with port
 * null) or a port the table's listeners declare. While the socket has passthrough routes, each new
 * connection's ClientHello is read (within the request-header timeout and {@link MAX_HELLO_BYTES})
 * and its SNI name looked up. A name a passthrough route takes sends the connection, ClientHello
 * included and never decrypted, to that route's backend — or, when its listener is in Terminate
 * mode, has the handshake made here and its plain stream sent there (tls-terminate.ts); any other name, or none, gives the
 * connection back to the TLS server with the bytes put back in front, so it is terminated as usual —
 * except on a declared port with no HTTPS listener, which holds no certificate: there it is closed.
 * A ClientHello that cannot be read is closed and reaches no one. With no passthrough route in the
 * table a connection to the own HTTPS port goes straight on: one property read is all HTTPS pays.
 *
 * A name whose host checks client certificates goes, when the socket terminates TLS, to the
 * handshakes that ask for one (`clientAuth`, client-auth-handshakes.ts), and one whose host has TLS
 * parameters of its own to the handshakes made with them (host-tls-handshakes.ts): while any host
 * of the socket does either, every ClientHello is read for that too.
 *
 * Installed on the TLS server before the connection cap and PROXY protocol acceptance are, so they
 * run first (a passed-through connection counts against --max-connections and has its PROXY
 * header read off) and Node's TLS listener runs last.
 */
import type { Server, Socket } from 'node:net';
import type { ProxyState } from '../lifecycle/proxy-state.ts';
import { MAX_HELLO_BYTES, parseClientHello } from './client-hello.ts';
import type { TlsSocket, TlsSocketPlan } from './prepared-streams.ts';
import { relayStream } from './stream-relay.ts';
import { terminateStream } from './tls-terminate.ts';
import { takeConnectionListeners } from '../server/connection-gate.ts';
import type { ClientAuthHandshakes } from '../server/tls/client-auth-handshakes.ts';
import type { HostTlsHandshakes } from '../server/tls/host-tls-handshakes.ts';
import type { SniContexts } from '../server/tls/sni-contexts.ts';

/** Where a terminated connection whose SNI host checks client certificates goes. */
export interface ClientAuthRoute {
  readonly sni: SniContexts;
  readonly handshakes: ClientAuthHandshakes;
  /** Where one whose SNI host has TLS parameters of its own goes (and checks no client certificate). */
  readonly tuned?: HostTlsHandshakes;
}

const LISTENER = 'tls-passthrough';

/** The plan of a socket whose table is not known yet: terminate, as the own HTTPS port always did. */
const TERMINATE: TlsSocketPlan = { index: null, terminates: true };

/** Makes the TLS `server` (the socket `info`) pass connections through by SNI whenever `state.table` says so. */
export function routePassthrough(server: Server, state: ProxyState, timeoutMs: number, info: TlsSocket, clientAuth: ClientAuthRoute | null = null): void {
  const terminate = takeConnectionListeners(server);
  const planOf = (): TlsSocketPlan => {
    const streams = state.table?.streams;
    if (streams === undefined || (info.own && streams.passthrough === null)) return TERMINATE;
    return streams.tlsOn(info);
  };
  const metrics = state.metrics.streams;
  // The own port keeps the label it always had; a declared port is named by its socket.
  const label = info.own ? LISTENER : info.name;
  const closeUnrouted = (socket: Socket): void => {
    metrics.refused.labels(label, 'no-route').inc();
    socket.destroy();
  };
  server.on('connection', (socket: Socket) => {
    const plan = planOf();
    if (socket.destroyed) return terminate(socket);
    const asks = plan.terminates && clientAuth !== null && clientAuth.sni.readsClientHellos;
    if (plan.index === null && !asks) return plan.terminates ? terminate(socket) : closeUnrouted(socket);
    let seen: Buffer = Buffer.alloc(0);
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
    };
    const refuse = (reason: 'malformed' | 'timeout' | 'too-large'): void => {
      finish();
      metrics.refused.labels(label, reason).inc();
      socket.destroy();
    };
    const timer = setTimeout(() => refuse('timeout'), timeoutMs > 0 ? timeoutMs : 30_000);
    const onEnd = (): void => refuse('malformed');
    const onError = (): void => {
      finish();
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const parsed = parseClientHello(seen);
      if (parsed.kind === 'more') return;
      if (parsed.kind === 'malformed') return refuse(parsed.why === 'too-large' || seen.length > MAX_HELLO_BYTES ? 'too-large' : 'malformed');
      finish();
      // The table may have been swapped while the hello arrived: the newest one decides.
      const now = planOf();
      const route = parsed.sni === null ? null : (now.index?.find(parsed.sni) ?? null);
      if (route === null) {
        if (!now.terminates) return closeUnrouted(socket);
        socket.unshift(seen);
        if (parsed.sni !== null && clientAuth !== null) {
          const parameters = clientAuth.sni.tlsParametersFor(parsed.sni);
          const check = clientAuth.sni.clientAuthFor(parsed.sni);
          if (check !== null) return clientAuth.handshakes.take(socket, parameters ?? clientAuth.sni.listenerTlsParameters, check.auth.rejectUnverified ?? false);
          if (parameters !== null && clientAuth.tuned !== undefined) return clientAuth.tuned.take(socket, parameters);
        }
        return terminate(socket);
      }
      // A TLS listener in Terminate mode makes the handshake itself (tls-terminate.ts).
      if (route.terminate !== null) return terminateStream(socket, seen, clientAuth?.sni.streamContext(route.terminate, parsed.sni!) ?? null, route, metrics, timeoutMs);
      relayStream(socket, seen, route, metrics);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    // A socket that PROXY acceptance paused does not flow again on a new 'data' listener alone.
    socket.resume();
  });
}
