/**
 * HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) on a plain-HTTP port. A client that knows the
 * port speaks HTTP/2 — a gRPC client with insecure credentials, `grpcurl -plaintext`, `curl
 * --http2-prior-knowledge` — starts its connection with the 24-byte client preface instead of a
 * request line. Each new connection's first bytes are looked at once: the preface hands the socket
 * to a cleartext HTTP/2 server, anything else goes to the HTTP/1.1 parser with every byte put back,
 * so HTTP/1.1 pays one comparison per connection and nothing per request.
 *
 * Installed on the HTTP server before the connection cap and PROXY protocol acceptance are (as
 * passthrough.ts is on the TLS server), so they run first: the cap counts an h2c connection once,
 * and the preface is looked for after the PROXY header. Node's HTTP/1.1 listener runs last.
 */
import type { Server, Socket } from 'node:net';
import { takeConnectionListeners } from './connection-gate.ts';

/** The client connection preface that begins every HTTP/2 connection (RFC 9113 §3.4). */
export const H2_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** What a connection's first bytes say: HTTP/2 (`h2`), HTTP/1.x (`http1`), or not yet (`more`). */
export type PrefaceMatch = 'h2' | 'http1' | 'more';

/**
 * Judges the first bytes of a connection: the first byte that differs from the preface makes it
 * HTTP/1.x (an HTTP/1.1 method such as `PRI` or `POST` shares a few bytes at most); all 24 make it
 * HTTP/2; a prefix of it needs more bytes.
 */
export function matchPreface(seen: Buffer): PrefaceMatch {
  const n = Math.min(seen.length, H2_PREFACE.length);
  for (let i = 0; i < n; i++) if (seen[i] !== H2_PREFACE[i]) return 'http1';
  return n === H2_PREFACE.length ? 'h2' : 'more';
}

/** Why a connection that began like the preface was answered without reaching either server. */
export type IncompletePreface = 'request-timeout' | 'bad-request';

/** What {@link sniffPriorKnowledge} needs. */
export interface SniffOptions {
  /** How long the preface may take to arrive (the request-header timeout); 0 for no limit. */
  readonly timeoutMs: number;
  /** Takes a connection that sent the preface (put back in front of it) to the HTTP/2 server. */
  readonly h2: (socket: Socket) => void;
  /**
   * Answers a connection that sent no more than part of the preface for `timeoutMs`
   * (`request-timeout`), or part of it and then ended (`bad-request`): what HTTP/1.1 answers such a
   * request head.
   */
  readonly incomplete: (socket: Socket, why: IncompletePreface) => void;
  /** Connections that go straight to HTTP/1.1 (one handed back after an upgrade request is mid-stream). */
  readonly bypass: (socket: Socket) => boolean;
}

/**
 * Makes the plain-HTTP `server` look for the HTTP/2 preface on every new connection before its
 * HTTP/1.1 parser (its 'connection' listeners until now) sees a byte. Call it before the
 * connection cap and PROXY protocol acceptance are installed.
 */
export function sniffPriorKnowledge(server: Server, options: SniffOptions): void {
  const http1 = takeConnectionListeners(server);
  server.on('connection', (socket: Socket) => {
    if (socket.destroyed || options.bypass(socket)) return http1(socket);
    let seen: Buffer = Buffer.alloc(0);
    // The HTTP/1.1 parser's own head timeout starts only once it has the socket: until then this
    // one bounds a client that sends nothing, or the preface's first bytes and then nothing.
    const timer = options.timeoutMs > 0 ? setTimeout(() => stalled('request-timeout'), options.timeoutMs) : null;
    const finish = (): void => {
      if (timer !== null) clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
    };
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const match = matchPreface(seen);
      if (match === 'more') return;
      finish();
      socket.unshift(seen);
      if (match === 'h2') return options.h2(socket);
      http1(socket);
      // The HTTP/1.1 parser reads the bytes put back from the socket's buffer once it flows again.
      socket.resume();
    };
    const stalled = (why: IncompletePreface): void => {
      finish();
      options.incomplete(socket, why);
    };
    // An end before any byte is a connection that said nothing: closed, as HTTP/1.1 closes it.
    const onEnd = (): void => {
      if (seen.length > 0) return stalled('bad-request');
      finish();
      socket.destroy();
    };
    const onError = (): void => {
      finish();
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    // PROXY protocol acceptance leaves the socket paused; a 'data' listener alone would not resume it.
    socket.resume();
  });
}
