import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Dispatcher } from 'undici';
import type { Logger } from '../log.ts';
import type { DataplaneMetrics } from '../metrics/metrics.ts';
import type { AccessLog } from './access-log.ts';
import { account } from './accounting.ts';
import { statusFor, writeError, type ErrorReason } from './error-responses.ts';
import { Exchange } from './exchange.ts';
import type { PreparedTable, RouteContext } from './prepared-table.ts';
import { routeRequest } from './route-request.ts';
import { upstreamHeaders } from './upstream-headers.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/** A client request on either listener: HTTP/1.x or HTTP/2. */
export type ClientRequest = IncomingMessage | Http2ServerRequest;
/** The matching response. */
export type ClientResponse = ServerResponse | Http2ServerResponse;

/** What the request handler reads; `table` changes on every swap, the rest is fixed per worker. */
export interface ProxyState {
  /** The table served now; null until the first one arrives. */
  table: PreparedTable | null;
  readonly metrics: DataplaneMetrics;
  readonly accessLog: AccessLog;
  readonly trusted: TrustedProxies;
  readonly responseHeadersMs: number;
  readonly idleMs: number;
  readonly connectMs: number;
  readonly log: Logger;
  /** The client address of a request, after trusted-proxy resolution (for hashing on client-ip). */
  readonly clientIpOf: (req: ClientRequest) => string;
}

/** Facts about the listener a request came in on. */
export interface ListenerInfo {
  readonly proto: 'http' | 'https';
  readonly port: number;
}

/**
 * The request lifecycle, in order:
 * 1. snapshot the current table (kept for the whole request);
 * 2. parse the target and normalise the path (400 on a bad one);
 * 3. match host and path (404 when nothing matches);
 * 4. circuit breaker: refuse fast (503) past the cluster's limits;
 * 5. choose an endpoint by the Service's policy (affinity cookie, hash key, balancer; 503 if none);
 * 6. dispatch upstream on the endpoint's keep-alive pool, streaming the body both ways, retrying a
 *    failed bodyless request on another endpoint within the retry budget (exchange.ts);
 * 7. account: metrics and one access-log line.
 * Later phases (scripts, pausing) slot in between 3 and 5.
 */
export function createProxyHandler(state: ProxyState, listener: ListenerInfo): (req: ClientRequest, res: ClientResponse) => void {
  return function handleRequest(req, res) {
    const started = performance.now();
    const table = state.table;
    if (table === null) return answerError(state, req, res, started, 'not-ready', null);
    const routed = routeRequest(table, req);
    if (typeof routed === 'string') return answerError(state, req, res, started, routed, null);
    const { target, path, ctx } = routed;
    const cluster = ctx.cluster;
    if (cluster.limited) {
      const limit = cluster.overLimit();
      if (limit !== null) {
        state.metrics.circuitBreakerRejections.labels(cluster.name, limit).inc();
        return answerError(state, req, res, started, 'circuit-open', ctx);
      }
    }
    const upstream = cluster.choose(req, state.clientIpOf);
    if (upstream === null) return answerError(state, req, res, started, 'no-endpoint', ctx);
    const headers = upstreamHeaders(req.rawHeaders, { peer: req.socket?.remoteAddress ?? '', proto: listener.proto, port: listener.port, authority: target.authority }, state.trusted);
    const exchange = new Exchange(state, req, res, ctx, {
      path: target.authority === undefined && path === target.path ? pathAndQuery(req.url!, target.path, target.query) : path + target.query,
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: hasBody(req) ? req : null,
      headersTimeout: cluster.responseHeadersMs,
      bodyTimeout: cluster.idleMs,
    }, started);
    if (cluster.affinity !== null) {
      exchange.secure = listener.proto === 'https';
      exchange.setCookie = cluster.affinity.cookieFor(req.headers.cookie, upstream, exchange.secure);
    }
    exchange.dispatch(upstream);
  };
}

/** The upstream path: the original target when normalisation changed nothing (no copy), else rebuilt. */
function pathAndQuery(url: string, path: string, query: string): string {
  return url.length === path.length + query.length ? url : path + query;
}

/** Whether a request carries a body to stream upstream. */
function hasBody(req: ClientRequest): boolean {
  const stream = (req as Http2ServerRequest).stream;
  if (stream !== undefined) return !stream.endAfterHeaders;
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}

/** Answers with signalbox's own error response and accounts for it. */
function answerError(state: ProxyState, req: ClientRequest, res: ClientResponse, started: number, reason: ErrorReason, ctx: RouteContext | null): void {
  const bytes = writeError(res, reason);
  const status = statusFor(reason);
  state.metrics.proxyErrors.labels(reason).inc();
  account(state, req, status, bytes, started, ctx, null, reason);
  // The request body is not wanted; read and discard it so the connection stays usable.
  if (!req.readableEnded) req.resume();
}
