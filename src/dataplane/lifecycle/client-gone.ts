import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse, ServerHttp2Stream } from 'node:http2';

/** Either protocol's response, as far as this file needs it. */
type AnyResponse = ServerResponse | Http2ServerResponse;

/**
 * Whether the client of `res` is gone: its HTTP/1 connection closed, or its HTTP/2 stream reset
 * (RST_STREAM) or its connection ended. Every phase that waits — the RouteScript, a pause gate, a
 * pooled or new upstream connection, the response — asks this when it resumes, so that nothing more
 * is done (nor sent upstream) for a client that left.
 *
 * `ServerResponse.destroyed` says it for HTTP/1; an `Http2ServerResponse` has no `destroyed` at all
 * (it would read `undefined`, "still there", for ever), so HTTP/2 asks its stream. A stream that a
 * rapid-reset client opened and cancelled in one packet is closed before the request handler even
 * runs, and its response never emits 'close': this check is the only way to see it.
 */
export function clientGone(res: AnyResponse): boolean {
  const stream = (res as Http2ServerResponse).stream as ServerHttp2Stream | undefined;
  if (stream !== undefined) return stream.destroyed || stream.closed;
  const h1 = res as ServerResponse;
  return h1.destroyed || h1.socket?.destroyed === true;
}

/** Streams the proxy itself reset, which are not the client's resets (see {@link isOwnReset}). */
const ownResets = new WeakSet<object>();

/**
 * Breaks a response that cannot be completed (the upstream failed after its headers went out):
 * HTTP/1 closes the connection, HTTP/2 resets the stream. Marked as the proxy's own reset, so the
 * HTTP/2 guard does not count it against the client's reset budget.
 */
export function breakResponse(res: AnyResponse, err?: Error): void {
  const stream = (res as Http2ServerResponse).stream as ServerHttp2Stream | undefined;
  if (stream !== undefined) ownResets.add(stream);
  res.destroy(err);
}

/** Marks `stream` as reset by the proxy (a refusal), not by its client. */
export function markOwnReset(stream: ServerHttp2Stream): void {
  ownResets.add(stream);
}

/** Whether the proxy reset `stream` itself ({@link breakResponse}, {@link markOwnReset}). */
export function isOwnReset(stream: ServerHttp2Stream): boolean {
  return ownResets.has(stream);
}
