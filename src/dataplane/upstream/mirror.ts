import type { Dispatcher } from 'undici';
import type { ChoiceRequest, PreparedCluster } from './prepared-cluster.ts';

/**
 * What a mirror's answer gets: nothing. One stateless handler serves every copy; undici reads the
 * answer to its end (so the connection goes back to the pool) and it is dropped unseen.
 */
const IGNORED: Dispatcher.DispatchHandler = {
  onRequestStart() {},
  onResponseStart() {},
  onResponseData() {},
  onResponseEnd() {},
  onResponseError() {},
};

/**
 * Sends a copy of a request to an endpoint of `cluster` (RequestMirror), fire and forget: its
 * answer, its failure and its timing never reach the original request, which does not wait for
 * it. The copy has the original's method, target and upstream headers (after the route's edits).
 *
 * Bodies: a request without one is copied whole. A request with a body is copied as its head
 * only, with `Content-Length: 0`: teeing a streamed body would tie the original to the pace of
 * the mirror (or buffer it without bound), and a mirror must never slow or fail the original.
 * No endpoint in the mirror's cluster: no copy.
 */
export function sendMirror<R extends ChoiceRequest>(cluster: PreparedCluster, req: R, clientIpOf: (req: R) => string, options: Dispatcher.DispatchOptions, hasBody: boolean): void {
  const upstream = cluster.choose(req, clientIpOf);
  if (upstream === null) return;
  const original = options.headers as string[];
  const headers = hasBody ? withoutLength(original) : original.slice();
  if (hasBody) headers.push('content-length', '0');
  try {
    upstream.pool.dispatch({ path: options.path, method: options.method, headers, body: null, headersTimeout: cluster.responseHeadersMs, bodyTimeout: cluster.idleMs }, IGNORED);
  } catch {
    // A pool closing in a table swap refuses the copy; the original goes on regardless.
  }
}

/** The fields without Content-Length (Transfer-Encoding never reaches the upstream list). */
function withoutLength(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'content-length') continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}
