import type { Dispatcher } from 'undici';
import { reasonForUpstreamError, type ErrorReason } from '../lifecycle/error-responses.ts';
import type { ChoiceRequest, PreparedCluster } from './prepared-cluster.ts';
import { connectionListed, isHopByHopResponseHeader } from './upstream-headers.ts';

/**
 * The largest error page taken: pages are small HTML documents, and a page is held whole before it
 * is sent (its status and length must be known), so a larger one is refused as a failed backend.
 */
export const MAX_ERROR_PAGE_BYTES = 1024 * 1024;

/** An error backend's answer, whole. */
export interface ErrorPage {
  readonly status: number;
  /** Flat name/value pairs, lower-case names, without hop-by-hop fields, Content-Length or Server. */
  readonly headers: string[];
  readonly body: Buffer;
  /** Its Content-Length as declared (what a HEAD answer says the body would be); null when none. */
  readonly length: number | null;
}

/** What the page request is: its method, target and fields (the request's own, plus the X-* ones). */
export interface ErrorPageRequest {
  readonly method: 'GET' | 'HEAD';
  readonly path: string;
  readonly headers: string[];
}

/**
 * Fetches one error page from an endpoint of `cluster` (the DefaultBackend filter's): the answer
 * whole, or the reason signalbox answers with itself when there is none — `no-endpoint`, a failed
 * or timed-out request (the cluster's own limits apply), or a page over {@link MAX_ERROR_PAGE_BYTES}
 * (`upstream-protocol-error`). Never throws. Its endpoint choice and outlier detection are the
 * cluster's, like any request to it; the endpoint's connection goes back to its pool once the page
 * is read to its end.
 */
export function fetchErrorPage<R extends ChoiceRequest>(cluster: PreparedCluster, req: R, clientIpOf: (req: R) => string, page: ErrorPageRequest): Promise<ErrorPage | ErrorReason> {
  const upstream = cluster.choose(req, clientIpOf);
  if (upstream === null) return Promise.resolve('no-endpoint');
  return new Promise((resolve) => {
    let status = 0;
    let headers: string[] = [];
    let length: number | null = null;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (value: ErrorPage | ErrorReason): void => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(_controller, statusCode, fields) {
        if (statusCode < 200) return;
        status = statusCode;
        headers = pageFields(fields);
        const declared = fields['content-length'];
        length = typeof declared === 'string' && /^\d+$/.test(declared) ? Number(declared) : null;
        cluster.recordOutcome(upstream, statusCode >= 500, performance.now());
      },
      onResponseData(controller, chunk) {
        size += chunk.length;
        if (size > MAX_ERROR_PAGE_BYTES) {
          // Settled first: the abort reports itself as an error, which is not what happened.
          settle('upstream-protocol-error');
          return controller.abort(new Error('error page too large'));
        }
        chunks.push(chunk);
      },
      onResponseEnd() {
        settle({ status, headers, body: Buffer.concat(chunks, size), length });
      },
      onResponseError(_controller, err) {
        if (settled) return;
        cluster.recordOutcome(upstream, true, performance.now());
        settle(reasonForUpstreamError(err));
      },
    };
    try {
      upstream.pool.dispatch({ path: page.path, method: page.method, headers: page.headers, body: null, headersTimeout: cluster.responseHeadersMs, bodyTimeout: cluster.idleMs }, handler);
    } catch {
      // A pool closing in a table swap refuses the request: as if the endpoint had reset it.
      settle('upstream-reset');
    }
  });
}

/** The fields of an error page that may go to the client as the proxy's own answer's. */
function pageFields(fields: Readonly<Record<string, string | string[] | undefined>>): string[] {
  const out: string[] = [];
  const listed = connectionListed(fields.connection);
  for (const name in fields) {
    const value = fields[name];
    if (value === undefined || isHopByHopResponseHeader(name) || name === 'server' || name === 'content-length' || (listed !== null && listed.has(name))) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  return out;
}
