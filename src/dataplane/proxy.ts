import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Dispatcher } from 'undici';
import type { Logger } from '../log.ts';
import type { Decision, RespondDecision } from '../script/index.ts';
import type { DataplaneMetrics } from '../metrics/metrics.ts';
import type { AccessLog } from './access-log.ts';
import { account, hostOf } from './accounting.ts';
import { statusFor, writeError, type ErrorReason } from './error-responses.ts';
import { Exchange } from './exchange.ts';
import type { PreparedTable, RouteContext } from './prepared-table.ts';
import { routeRequest, type RoutedRequest } from './route-request.ts';
import type { ScriptHost } from './script-host.ts';
import { runScript, type ScriptVerdict } from './script-phase.ts';
import { scriptRequest } from './script-request.ts';
import { editHeaders, upstreamHeaders } from './upstream-headers.ts';
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
  /** Runs the RouteScripts of this worker; null where scripts are not served. */
  readonly scripts: ScriptHost | null;
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
 * 4. the route's RouteScript, if it has one: answer directly, pick one of its backends, edit
 *    headers, set a hash key — or, when it fails, its failure policy (script-phase.ts);
 * 5. circuit breaker: refuse fast (503) past the cluster's limits;
 * 6. choose an endpoint by the Service's policy (affinity cookie, hash key, balancer; 503 if none);
 * 7. dispatch upstream on the endpoint's keep-alive pool, streaming the body both ways, retrying a
 *    failed bodyless request on another endpoint within the retry budget (exchange.ts);
 * 8. account: metrics and one access-log line.
 */
export function createProxyHandler(state: ProxyState, listener: ListenerInfo): (req: ClientRequest, res: ClientResponse) => void {
  return function handleRequest(req, res) {
    const started = performance.now();
    const table = state.table;
    if (table === null) return answerError(state, req, res, started, 'not-ready', null);
    const routed = routeRequest(table, req);
    if (typeof routed === 'string') return answerError(state, req, res, started, routed, null);
    const script = routed.ctx.script;
    if (script === null || state.scripts === null) return forward(state, listener, req, res, started, routed, routed.ctx, null, undefined);
    const { target } = routed;
    const request = scriptRequest(req, target.authority ?? hostOf(req), routed.path, target.query, state.clientIpOf(req));
    runScript(state.scripts.engine, script, routed.ctx, request).then((verdict) => {
      try {
        afterScript(state, listener, req, res, started, routed, verdict);
      } catch (err) {
        state.log.error({ err }, 'request handler failed after the route script');
        if (!res.headersSent) answerError(state, req, res, started, 'internal-error', routed.ctx);
        else res.destroy();
      }
    });
  };
}

/** Acts on a script's verdict (the request may have been abandoned by its client meanwhile). */
function afterScript(state: ProxyState, listener: ListenerInfo, req: ClientRequest, res: ClientResponse, started: number, routed: RoutedRequest, verdict: ScriptVerdict): void {
  if (res.destroyed) {
    account(state, req, 499, 0, started, routed.ctx, null, 'client-closed', verdict.note);
    return;
  }
  switch (verdict.action) {
    case 'forward':
      return forward(state, listener, req, res, started, routed, verdict.ctx, verdict.decision, verdict.note);
    case 'respond':
      return answerScript(state, req, res, started, routed.ctx, verdict.respond, verdict.note);
    case 'reject':
      return answerError(state, req, res, started, 'script-failed', routed.ctx, verdict.status, verdict.note);
  }
}

/** Phases 5–7: the circuit breaker, choosing an endpoint of `ctx`'s cluster, and the exchange. */
function forward(
  state: ProxyState,
  listener: ListenerInfo,
  req: ClientRequest,
  res: ClientResponse,
  started: number,
  routed: RoutedRequest,
  ctx: RouteContext,
  decision: Decision | null,
  note: string | undefined,
): void {
  const { target, path } = routed;
  const cluster = ctx.cluster;
  if (cluster.limited) {
    const limit = cluster.overLimit();
    if (limit !== null) {
      state.metrics.circuitBreakerRejections.labels(cluster.name, limit).inc();
      return answerError(state, req, res, started, 'circuit-open', ctx, undefined, note);
    }
  }
  const hashKey = decision?.hashKey;
  const upstream = cluster.choose(req, state.clientIpOf, hashKey);
  if (upstream === null) return answerError(state, req, res, started, 'no-endpoint', ctx, undefined, note);
  const headers = upstreamHeaders(req.rawHeaders, { peer: req.socket?.remoteAddress ?? '', proto: listener.proto, port: listener.port, authority: target.authority }, state.trusted);
  if (decision !== null && (decision.setHeaders !== undefined || decision.removeHeaders !== undefined)) editHeaders(headers, decision.setHeaders, decision.removeHeaders);
  const exchange = new Exchange(state, req, res, ctx, {
    path: target.authority === undefined && path === target.path ? pathAndQuery(req.url!, target.path, target.query) : path + target.query,
    method: req.method as Dispatcher.HttpMethod,
    headers,
    body: hasBody(req) ? req : null,
    headersTimeout: cluster.responseHeadersMs,
    bodyTimeout: cluster.idleMs,
  }, started);
  exchange.hashKey = hashKey;
  exchange.note = note;
  if (cluster.affinity !== null) {
    exchange.secure = listener.proto === 'https';
    exchange.setCookie = cluster.affinity.cookieFor(req.headers.cookie, upstream, exchange.secure);
  }
  exchange.dispatch(upstream);
}

/** Answers with a script's `respond` decision: its status, headers and body, nothing upstream. */
function answerScript(state: ProxyState, req: ClientRequest, res: ClientResponse, started: number, ctx: RouteContext, respond: RespondDecision, note: string): void {
  const body = req.method === 'HEAD' || respond.status === 204 || respond.status === 304 ? '' : (respond.body ?? '');
  const headers: Record<string, string | number> = { ...respond.headers };
  if (body !== '' && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8';
  if (respond.status !== 204 && respond.status !== 304) headers['content-length'] = Buffer.byteLength(respond.body ?? '');
  (res as ServerResponse).writeHead(respond.status, headers);
  res.end(body);
  account(state, req, respond.status, Buffer.byteLength(body), started, ctx, null, undefined, note);
  if (!req.readableEnded) req.resume();
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
function answerError(
  state: ProxyState,
  req: ClientRequest,
  res: ClientResponse,
  started: number,
  reason: ErrorReason,
  ctx: RouteContext | null,
  status = statusFor(reason),
  note?: string,
): void {
  const bytes = writeError(res, reason, false, status);
  state.metrics.proxyErrors.labels(reason).inc();
  account(state, req, status, bytes, started, ctx, null, reason, note);
  // The request body is not wanted; read and discard it so the connection stays usable.
  if (!req.readableEnded) req.resume();
}
