/**
 * What makes a gRPC call retryable on another endpoint, after gRPC's retry design (gRFC A6) and
 * Envoy's `retry-on` for gRPC. A call may be tried again only while nothing of its response has
 * reached the client, and only when either
 * - the upstream refused it: a connect failure, a stream reset with REFUSED_STREAM, or a GOAWAY
 *   whose last stream id says the stream was never processed (RFC 9113 §8.7) — always safe; or
 * - it was answered with a Trailers-Only response (HEADERS with END_STREAM, no message) whose
 *   `grpc-status` is in the Service's `retry-on-grpc-status` list, and its request body is whole.
 * Either way the request body must be replayed: it is held as it streams through, up to
 * {@link GRPC_REPLAY_LIMIT} (gRFC A6's per-call retry buffer); a call whose body grew past it is
 * committed to its endpoint, and so is a streaming call answered before its body ended.
 */
import { constants as h2 } from 'node:http2';
import type { Readable } from 'node:stream';
import { H2RequestBody } from './h2-request-body.ts';
import type { Headers } from './exchange.ts';

/** The most request body bytes held for a replay: past it the call is not retried. */
export const GRPC_REPLAY_LIMIT = 64 * 1024;

/**
 * The request body of a gRPC call as it went upstream so far, kept for a replay. Chunks are the
 * client's own buffers, referenced, not copied.
 */
export class ReplayableBody {
  readonly #req: Readable;
  readonly #limit: number;
  #chunks: Buffer[] | null = [];
  #bytes = 0;
  #complete = false;

  constructor(req: Readable, limit = GRPC_REPLAY_LIMIT) {
    this.#req = req;
    this.#limit = limit;
    // A body already read from (a request handed back to the lifecycle after a failed attempt)
    // cannot be held whole any more.
    if (req.readableDidRead || req.readableEnded) {
      this.#chunks = null;
      return;
    }
    // Attached in the tick the body starts to flow into its first attempt, so no chunk is missed.
    req.on('data', this.#onData);
    req.once('end', this.#onEnd);
  }

  /** Whether every byte the client sent so far is held (false once the body outgrew the limit). */
  get replayable(): boolean {
    return this.#chunks !== null;
  }

  /** Whether the client's body ended and is held whole. */
  get complete(): boolean {
    return this.#complete && this.#chunks !== null;
  }

  /**
   * A body for the next attempt, replacing `previous`: the whole body when it has ended (a Buffer,
   * which undici can also replay itself on a REFUSED_STREAM), else what is held so far followed
   * by the rest as the client sends it. Null when the body is no longer held.
   */
  next(previous: unknown): Buffer | H2RequestBody | null {
    const chunks = this.#chunks;
    if (chunks === null) return null;
    if (this.#complete) return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#bytes);
    const body = new H2RequestBody();
    // Chunks arrive synchronously on 'data', so from here on the new body gets each one once.
    if (previous instanceof H2RequestBody) this.#req.unpipe(previous);
    for (const chunk of chunks) body.write(chunk);
    this.#req.pipe(body);
    return body;
  }

  /** Stops holding the body (the exchange is over, or committed). */
  release(): void {
    this.#chunks = null;
    this.#req.off('data', this.#onData);
    this.#req.off('end', this.#onEnd);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#chunks === null) return;
    this.#bytes += chunk.length;
    if (this.#bytes > this.#limit) this.release();
    else this.#chunks.push(chunk);
  };

  readonly #onEnd = (): void => {
    this.#complete = true;
  };
}

/**
 * Whether an HTTP/2 upstream failure says the stream was never processed: reset with
 * REFUSED_STREAM (undici notes the code on the error; while the body still streams, only the
 * stream the body is piped into knows it), or failed by a GOAWAY whose last stream id lies below
 * it (undici fails exactly those streams with the GOAWAY's own error).
 */
export function refusedByUpstream(err: Error, body: unknown): boolean {
  if ((err as { http2ErrorCode?: number }).http2ErrorCode === h2.NGHTTP2_REFUSED_STREAM) return true;
  if (body instanceof H2RequestBody && body.upstreamResetCode === h2.NGHTTP2_REFUSED_STREAM) return true;
  return err.message.startsWith('HTTP/2: "GOAWAY" frame received');
}

/**
 * The `grpc-status` of a Trailers-Only response head, or null when the head is not one (a
 * response with messages carries its status in trailers, after the head).
 */
export function trailersOnlyStatus(headers: Headers): number | null {
  const value = headers['grpc-status'];
  if (typeof value !== 'string' || !/^[0-9]{1,2}$/.test(value)) return null;
  return Number(value);
}

/** `headers` (name, value, name, value…) with the value of `grpc-timeout` replaced. */
export function withGrpcTimeout(headers: readonly string[], value: string): string[] {
  const out = headers.slice();
  for (let i = 0; i + 1 < out.length; i += 2) if (out[i]!.toLowerCase() === 'grpc-timeout') out[i + 1] = value;
  return out;
}
