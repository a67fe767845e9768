import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import type { Counter } from 'prom-client';
import type { TrustedProxies } from '../server/trusted-proxies.ts';
import { recordProxied } from './client-address.ts';
import { parseHeader } from './header.ts';
import { takeConnectionListeners } from '../server/connection-gate.ts';

/** Why a connection was closed before its first request. */
export type ProxyProtocolRefusal = 'untrusted' | 'missing' | 'malformed' | 'timeout';

/** What {@link acceptProxyProtocol} needs. */
export interface AcceptOptions {
  readonly trusted: TrustedProxies;
  /** How long a connection has to send its header (the request-header timeout); 0 for no limit. */
  readonly timeoutMs: number;
  /** The `listener` label of its metric: the socket's name (`http`, `https`, `http-8080`). */
  readonly listener: string;
  readonly refused: Counter<'listener' | 'reason'>;
  /** Connections that bypass the gate (an HTTP connection handed back after an upgrade request). */
  readonly bypass: (socket: Socket) => boolean;
}

/**
 * Makes `server` (HTTP, or TLS before its handshake) read a PROXY protocol header off every new
 * connection before Node's HTTP or TLS machinery sees a byte of it (`--proxy-protocol`).
 *
 * The server's own 'connection' listeners are taken off and called only once the first bytes are
 * judged, with those bytes (less the header) put back on the socket, so the parser or the TLS
 * handshake reads them as if nothing had happened. A peer in `--trusted-proxies` must send a header
 * — as with nginx's `listen … proxy_protocol` and HAProxy's `accept-proxy`, a connection without one
 * is closed: a balancer configured to send it always does, so one without is not from it. Any other
 * peer is served as it is, unless it starts with a PROXY header, which it has no right to send: that
 * connection is closed, so nobody can pick their client address by writing one. Call it after every
 * other 'connection' listener is added.
 */
export function acceptProxyProtocol(server: Server, options: AcceptOptions): void {
  const pass = takeConnectionListeners(server);
  server.on('connection', (socket: Socket) => {
    if (options.bypass(socket) || socket.destroyed) return pass(socket);
    const fromTrusted = options.trusted.isTrusted(socket.remoteAddress ?? '');
    let seen: Buffer = Buffer.alloc(0);
    const refuse = (reason: ProxyProtocolRefusal): void => {
      finish();
      options.refused.labels(options.listener, reason).inc();
      socket.destroy();
    };
    const timer = options.timeoutMs > 0 ? setTimeout(() => refuse('timeout'), options.timeoutMs) : null;
    const finish = (): void => {
      if (timer !== null) clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
    };
    const onEnd = (): void => refuse(fromTrusted ? 'missing' : 'malformed');
    const onError = (): void => {
      finish();
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const parsed = parseHeader(seen);
      if (parsed.kind === 'more') return;
      if (parsed.kind === 'none') {
        if (fromTrusted) return refuse('missing');
        finish();
        socket.unshift(seen);
        return handOn(socket);
      }
      if (!fromTrusted) return refuse('untrusted');
      if (parsed.kind === 'malformed') return refuse('malformed');
      finish();
      if (parsed.addresses !== null) recordProxied(socket, parsed.addresses);
      if (seen.length > parsed.length) socket.unshift(seen.subarray(parsed.length));
      handOn(socket);
    };
    const handOn = (s: Socket): void => {
      pass(s);
      // The HTTP parser takes the bytes put back from the socket's buffer once it flows again. TLS
      // takes them itself when it wraps the socket, and reads the rest from the handle: resuming
      // the plain socket under it would steal the handshake.
      if (options.listener === 'http') s.resume();
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
}
