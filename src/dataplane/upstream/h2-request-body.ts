/**
 * The request body as undici's HTTP/2 client reads it: a pass-through of the client's body that
 * knows the HTTP/2 stream it is piped into. undici pipes a body into its HTTP/2 stream and, on
 * abort, closes that stream with CANCEL; but Node's http2 stream, while a pipe is still writing
 * into it, then ends it (END_STREAM) rather than resetting it, so the upstream takes a cut-short
 * body for a whole one and keeps the stream open until the session goes — a hundred or so aborted
 * uploads fill the upstream's MAX_CONCURRENT_STREAMS. Destroying the stream with an error first
 * sends an RST_STREAM the upstream sees at once; undici's own abort then only cleans up.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { PassThrough, type Writable } from 'node:stream';

/** A body given to an HTTP/2 upstream; see the module comment. */
export class H2RequestBody extends PassThrough {
  #upstream: Writable | null = null;

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    this.#upstream = destination as unknown as Writable;
    return super.pipe(destination, options);
  }

  /**
   * The RST_STREAM code the upstream closed its stream with, if it did: undici reports a stream
   * reset while the body is still being written as the pipe's premature close, without the code.
   */
  get upstreamResetCode(): number | undefined {
    const code = (this.#upstream as { rstCode?: number } | null)?.rstCode;
    return typeof code === 'number' ? code : undefined;
  }

  /** Resets the upstream stream this body is still being written into; false when there is none (any more). */
  resetUpstream(reason: Error): boolean {
    const upstream = this.#upstream;
    if (upstream === null || upstream.destroyed || upstream.writableFinished) return false;
    upstream.destroy(reason);
    return true;
  }
}

/** The body of `req` for an HTTP/2 upstream. */
export function h2RequestBody(req: IncomingMessage | Http2ServerRequest): H2RequestBody {
  const body = new H2RequestBody();
  req.pipe(body);
  return body;
}
