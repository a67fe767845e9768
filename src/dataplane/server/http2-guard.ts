import { constants, type SecureServerOptions, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Http2Limits, Limits } from '../../config/dataplane-config.ts';
import type { Logger } from '../../log.ts';
import type { Http2Metrics } from '../../metrics/metrics.ts';
import { isOwnReset, markOwnReset } from '../lifecycle/client-gone.ts';
import { RateBudget } from './rate-budget.ts';
import { clientAddress } from '../proxy-protocol/client-address.ts';

/**
 * Why the guard ended an HTTP/2 connection (the `kind` label of `signalbox_http2_abuse_total`):
 * - `rapid-reset`: streams opened and reset faster than `--http2-max-resets` allows (CVE-2023-44487);
 * - `ping-flood`, `settings-flood`: PING or SETTINGS frames past `--http2-max-control-frames`;
 * - `continuation-flood`: a header block in endless CONTINUATION frames (nghttp2 stops it at 8);
 * - `headers-too-large`: a header block that decodes to more than the header list limit (an HPACK
 *   bomb, or just too many or too large fields);
 * - `too-many-streams`: more streams at once than the SETTINGS_MAX_CONCURRENT_STREAMS the client acknowledged;
 * - `outbound-flood`: frames that each need an answer (PING, SETTINGS) sent by a client that does
 *   not read the answers;
 * - `invalid-frames`: too many invalid frames; `protocol-error`: any other violation nghttp2 found.
 */
export type Http2AbuseKind =
  | 'rapid-reset' | 'ping-flood' | 'settings-flood' | 'continuation-flood' | 'headers-too-large'
  | 'too-many-streams' | 'outbound-flood' | 'invalid-frames' | 'protocol-error';

const { NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_PROTOCOL_ERROR, NGHTTP2_REFUSED_STREAM } = constants;

/** nghttp2's error numbers (nghttp2.h), which Node passes on as `errno` of its ERR_HTTP2_ERROR. */
const NGHTTP2_ERR_PROTO = -505;
const NGHTTP2_ERR_CALLBACK_FAILURE = -902;
const NGHTTP2_ERR_FLOODED = -904;
const NGHTTP2_ERR_TOO_MANY_CONTINUATIONS = -905;

/** How often connections that received bytes but no new stream are looked at (see {@link Http2Guard}). */
const SWEEP_MS = 100;

/** How long an ended connection's socket is still read (and what comes discarded) before it is reset. */
const LINGER_MS = 1_000;

/** The node:http2 server options that follow from the limits. */
export function http2ServerOptions(http2: Http2Limits, limits: Limits): Partial<SecureServerOptions> {
  return {
    maxHeaderListPairs: limits.maxHeaderCount + 4,
    settings: { maxHeaderListSize: limits.maxHeaderBytes, maxConcurrentStreams: http2.maxConcurrentStreams },
    // nghttp2's own rapid-reset limit, a backstop at twice ours: ours answers first, with a count
    // and ENHANCE_YOUR_CALM; nghttp2's says INTERNAL_ERROR.
    streamResetBurst: http2.maxResets * 2,
    streamResetRate: Math.max(1, Math.ceil(http2.maxResets / 10)) * 2,
  } as Partial<SecureServerOptions>;
}

/** What the guard keeps per connection. */
interface SessionState {
  /** The highest client stream id known to be processed; every odd id below it that never reached us was refused. */
  lastStreamId: number;
  /** Whether the client acknowledged our SETTINGS (from then on it knows the stream limit). */
  acked: boolean;
  /** Streams of this connection open now. */
  open: number;
  /** The socket's bytesRead at the last sweep. */
  bytesRead: number;
  /** Set once the guard ended the connection: nothing more is counted. */
  ended: boolean;
  /** Resets the TCP connection (bound to the socket now: node unbinds the session's socket when it closes). */
  readonly resetSocket: () => void;
  readonly resets: RateBudget;
  readonly settings: RateBudget;
  readonly pings: RateBudget;
}

/**
 * Bounds what one HTTP/2 client can make a worker do, and counts and ends what goes past the bounds.
 *
 * nghttp2 (inside node:http2) enforces some limits itself, but ends the connection with a generic
 * error that node reports as `ERR_HTTP2_ERROR`, or refuses a stream without node telling anyone.
 * The guard sees those (the session's destroy, stream ids that never arrived) and counts them, and
 * it enforces what nghttp2 does not bound at all: PING and SETTINGS floods (nghttp2 answers every
 * one as long as the client reads), and a rate of stream resets that ends with GOAWAY before
 * nghttp2's much larger backstop, and counts every stream in the worker against
 * `--http2-max-streams-per-worker`.
 *
 * A header block over the header list limit is reset by node before any JavaScript sees it (no
 * 'stream' event); the only trace is nghttp2's last processed stream id running ahead of the streams
 * that arrived. That is checked on every new stream, and by a sweep every {@link SWEEP_MS} over the
 * connections that received bytes since the last one — for a client that sends nothing but such
 * blocks.
 */
export class Http2Guard {
  readonly #limits: Http2Limits;
  readonly #metrics: Http2Metrics;
  readonly #log: Logger;
  readonly #sessions = new Map<ServerHttp2Session, SessionState>();
  #active = 0;
  #sweeper: NodeJS.Timeout | null = null;

  constructor(limits: Http2Limits, metrics: Http2Metrics, log: Logger) {
    this.#limits = limits;
    this.#metrics = metrics;
    this.#log = log;
  }

  /** Watches a new session (the server's 'session' event). */
  readonly attach = (session: ServerHttp2Session): void => {
    const now = performance.now();
    const { maxResets, maxControlFrames } = this.#limits;
    const state: SessionState = {
      // Client streams are odd, from 1: "every odd id up to -1" is none.
      lastStreamId: -1,
      acked: false,
      open: 0,
      bytesRead: 0,
      ended: false,
      resetSocket: (session.socket as unknown as { resetAndDestroy: () => void }).resetAndDestroy,
      resets: new RateBudget(maxResets, maxResets / 10, now),
      settings: new RateBudget(maxControlFrames, maxControlFrames / 10, now),
      pings: new RateBudget(maxControlFrames, maxControlFrames / 10, now),
    };
    this.#sessions.set(session, state);
    this.#sweeper ??= setInterval(this.#sweep, SWEEP_MS).unref();
    this.#interceptDestroy(session, state);
    session.once('localSettings', () => (state.acked = true));
    // Before node's own listener, which turns the stream into a request: a refused stream is closed
    // by the time the request handler runs, and the handler lets it go.
    session.prependListener('stream', (stream: ServerHttp2Stream) => this.#onStream(session, state, stream));
    session.on('ping', () => {
      if (!state.pings.take()) this.#end(session, state, 'ping-flood');
    });
    session.on('remoteSettings', () => {
      if (!state.settings.take()) this.#end(session, state, 'settings-flood');
    });
    session.once('close', () => {
      this.#sessions.delete(session);
      if (this.#sessions.size === 0 && this.#sweeper !== null) {
        clearInterval(this.#sweeper);
        this.#sweeper = null;
      }
    });
  };

  #onStream(session: ServerHttp2Session, state: SessionState, stream: ServerHttp2Stream): void {
    const id = stream.id ?? 0;
    if (id > state.lastStreamId) {
      const skipped = (id - state.lastStreamId) / 2 - 1;
      state.lastStreamId = id;
      if (skipped > 0) this.#refusedUnseen(session, state, skipped);
      if (state.ended) return;
    }
    if (stream.closed || stream.destroyed) {
      // Opened and reset in one go (the client's RST_STREAM came with its HEADERS): the request
      // handler will see it gone and do nothing.
      if (stream.aborted) this.#clientReset(session, state);
      return;
    }
    if (this.#active >= this.#limits.maxStreamsPerWorker) {
      this.#metrics.streamsRefused.labels('worker-limit').inc();
      markOwnReset(stream);
      stream.close(NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.#active++;
    state.open++;
    this.#metrics.activeStreams.inc();
    stream.once('aborted', () => {
      if (!isOwnReset(stream)) this.#clientReset(session, state);
    });
    stream.once('close', () => {
      this.#active--;
      state.open--;
      this.#metrics.activeStreams.dec();
    });
  }

  /** The client reset a stream before its response was complete. */
  #clientReset(session: ServerHttp2Session, state: SessionState): void {
    if (state.ended || session.destroyed) return;
    if (!state.resets.take()) this.#end(session, state, 'rapid-reset');
  }

  /**
   * `count` client streams were processed by nghttp2 but never reached us: refused before their
   * headers were complete. Before the client acknowledged our SETTINGS that is mostly the stream
   * limit (RST_STREAM REFUSED_STREAM: the client could not know it yet); after, a header block past
   * the header list limit (an HPACK bomb), which node resets with ENHANCE_YOUR_CALM, or a stream
   * node refused while it still held streams that were already closed. Either way the client made
   * the proxy work for nothing, like a reset: each one takes from the same budget, so that decoding
   * oversized header blocks in a loop ends the connection as a reset loop does.
   */
  #refusedUnseen(session: ServerHttp2Session, state: SessionState, count: number): void {
    if (state.ended || session.closed || session.destroyed) return;
    const reason = state.acked ? 'headers-too-large' : 'connection-limit';
    this.#metrics.streamsRefused.labels(reason).inc(count);
    for (let i = 0; i < count; i++) {
      if (!state.resets.take()) return this.#end(session, state, state.acked ? 'headers-too-large' : 'too-many-streams');
    }
  }

  readonly #sweep = (): void => {
    for (const [session, state] of this.#sessions) {
      const socket = session.socket as { bytesRead?: number } | undefined;
      const bytes = socket?.bytesRead ?? 0;
      if (bytes === state.bytesRead || state.ended || session.destroyed) continue;
      state.bytesRead = bytes;
      const last = session.state.lastProcStreamID ?? 0;
      // The last processed stream may still be receiving its header block: only the ones before it
      // are certainly refused (a header block cannot be interleaved with another stream's).
      if (last - 2 > state.lastStreamId) {
        const skipped = (last - 2 - state.lastStreamId) / 2;
        state.lastStreamId = last - 2;
        this.#refusedUnseen(session, state, skipped);
      }
    }
  };

  /**
   * Node destroys a session on nghttp2's errors with INTERNAL_ERROR in its GOAWAY; the guard names
   * the abuse instead, counts it, and sends the code that says what happened.
   */
  #interceptDestroy(session: ServerHttp2Session, state: SessionState): void {
    const destroy = session.destroy.bind(session) as (error?: Error | number, code?: number) => void;
    (session as { destroy: (error?: Error | number, code?: number) => void }).destroy = (error, code) => {
      if (!state.ended && error instanceof Error && code === undefined) {
        const kind = this.#abuseOf(session, error as NodeJS.ErrnoException, state);
        if (kind !== null) {
          state.ended = true;
          this.#count(session, kind, (error as NodeJS.ErrnoException).errno);
          const goaway = kind === 'protocol-error' || kind === 'invalid-frames' || kind === 'too-many-streams' ? NGHTTP2_PROTOCOL_ERROR : NGHTTP2_ENHANCE_YOUR_CALM;
          return this.#shutdown(session, state, goaway, () => destroy(error, goaway));
        }
      }
      return destroy(error, code);
    };
  }

  #abuseOf(session: ServerHttp2Session, error: NodeJS.ErrnoException, state: SessionState): Http2AbuseKind | null {
    if (error.code === 'ERR_HTTP2_TOO_MANY_INVALID_FRAMES') return 'invalid-frames';
    if (error.code !== 'ERR_HTTP2_ERROR') return null;
    switch (error.errno) {
      case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
        return 'continuation-flood';
      case NGHTTP2_ERR_FLOODED:
        return 'outbound-flood';
      case NGHTTP2_ERR_CALLBACK_FAILURE:
        // Node refused more than maxSessionRejectedStreams (100) streams because the connection had
        // as many open as it may: streams nghttp2 already saw closed but node had not cleaned up
        // yet — opened and reset within one read, which is what a rapid-reset burst does.
        return 'rapid-reset';
      case NGHTTP2_ERR_PROTO: {
        // Streams nghttp2 opened in this read whose 'stream' events are still to come count as open.
        const pending = Math.max(0, ((session.state.lastProcStreamID ?? 0) - state.lastStreamId) / 2);
        return state.open + pending >= this.#limits.maxConcurrentStreams ? 'too-many-streams' : 'protocol-error';
      }
      default:
        return 'protocol-error';
    }
  }

  /** Ends the connection now: GOAWAY ENHANCE_YOUR_CALM, every stream cancelled, the socket closed. */
  #end(session: ServerHttp2Session, state: SessionState, kind: Http2AbuseKind): void {
    if (state.ended || session.destroyed) return;
    state.ended = true;
    this.#count(session, kind);
    this.#shutdown(session, state, NGHTTP2_ENHANCE_YOUR_CALM, () => session.destroy(NGHTTP2_ENHANCE_YOUR_CALM as unknown as Error));
  }

  /**
   * GOAWAY with `code` first (the code the client reads), then `destroy`: nghttp2 stops, every
   * stream is cancelled. Closing the session gracefully in between makes node end the socket and go
   * on reading — and discarding — what the client still sends, a lingering close as nginx's: a
   * flooding client's unread bytes would otherwise turn the close into a TCP reset that can make
   * its kernel drop the GOAWAY unread. The socket is reset after {@link LINGER_MS} whatever comes.
   */
  #shutdown(session: ServerHttp2Session, state: SessionState, code: number, destroy: () => void): void {
    try {
      session.goaway(code);
      session.close();
    } catch {
      // A session nghttp2 has given up on may refuse frames; destroying it is all that is left.
    }
    destroy();
    setTimeout(() => {
      try {
        state.resetSocket();
      } catch {
        // Already gone.
      }
    }, LINGER_MS).unref();
  }

  #count(session: ServerHttp2Session, kind: Http2AbuseKind, errno?: number): void {
    this.#metrics.abuse.labels(kind).inc();
    this.#log.warn({ kind, client: clientAddress(session.socket), ...(errno === undefined ? {} : { nghttp2: errno }) }, 'HTTP/2 connection ended for abuse');
  }
}
