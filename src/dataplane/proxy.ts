import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Dispatcher } from 'undici';
import { normalizePath } from '../router/normalize-path.ts';
import type { Logger } from '../log.ts';
import type { DataplaneMetrics } from '../metrics/metrics.ts';
import type { AccessLog } from './access-log.ts';
import { account, hostOf } from './accounting.ts';
import { reasonForUpstreamError, statusFor, writeError, type ErrorReason } from './error-responses.ts';
import type { PreparedTable, RouteContext } from './prepared-table.ts';
import type { Upstream } from './prepared-cluster.ts';
import { requestEnded, requestStarted } from '../balancer/balancer.ts';
import { parseRequestTarget } from './request-target.ts';
import { isHopByHopResponseHeader, upstreamHeaders } from './upstream-headers.ts';
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
 * 4. pick an endpoint of the route's cluster (503 when none is ready);
 * 5. dispatch upstream on the endpoint's keep-alive pool, streaming the body both ways;
 * 6. account: metrics and one access-log line.
 * Later phases (scripts, pausing, balancing policy) slot in between 3 and 5.
 */
export function createProxyHandler(state: ProxyState, listener: ListenerInfo): (req: ClientRequest, res: ClientResponse) => void {
  return function handleRequest(req, res) {
    const started = performance.now();
    const table = state.table;
    if (table === null) return answerError(state, req, res, started, 'not-ready', null);
    const target = parseRequestTarget(req.url ?? '');
    const path = target === null ? null : normalizePath(target.path);
    if (target === null || path === null) return answerError(state, req, res, started, 'bad-request', null);
    const host = target.authority ?? hostOf(req);
    if (host === '' && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) return answerError(state, req, res, started, 'bad-request', null);
    const route = table.router.match(host, path);
    if (route === null) return answerError(state, req, res, started, 'no-route', null);
    const ctx = table.routes.get(route)!;
    const cluster = ctx.cluster;
    const upstream = cluster.choose(req, state.clientIpOf);
    if (upstream === null) return answerError(state, req, res, started, 'no-endpoint', ctx);
    const exchange = new Exchange(state, req, res, ctx, upstream, started);
    if (cluster.affinity !== null) exchange.setCookie = cluster.affinity.cookieFor(req.headers.cookie, upstream, listener.proto === 'https');
    const headers = upstreamHeaders(req.rawHeaders, { peer: req.socket?.remoteAddress ?? '', proto: listener.proto, port: listener.port, authority: target.authority }, state.trusted);
    upstream.pool.dispatch(
      {
        path: target.authority === undefined && path === target.path ? pathAndQuery(req.url!, target.path, target.query) : path + target.query,
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: hasBody(req) ? req : null,
        headersTimeout: cluster.responseHeadersMs,
        bodyTimeout: cluster.idleMs,
      },
      exchange,
    );
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

/**
 * Header names listed in a response's Connection header (beyond close/keep-alive), which are
 * hop-by-hop too; null in the usual case of none.
 */
function connectionListed(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  let listed: Set<string> | null = null;
  for (const token of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const t = token.trim().toLowerCase();
    if (t === '' || t === 'close' || t === 'keep-alive') continue;
    (listed ??= new Set()).add(t);
  }
  return listed;
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

/**
 * One proxied exchange: undici's dispatch handler for the upstream side, tied to the client's
 * response. A class (not closures) so that a request costs one object.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly #state: ProxyState;
  readonly #req: ClientRequest;
  readonly #res: ClientResponse;
  readonly #ctx: RouteContext;
  readonly #upstream: Upstream;
  readonly #started: number;
  /** Set-Cookie for cookie affinity, added to the response; null when none is due. */
  setCookie: string | null = null;
  #controller: Dispatcher.DispatchController | null = null;
  #status = 0;
  #bytes = 0;
  /** Content-Length of the upstream response, -1 when unknown. */
  #expected = -1;
  /** A whole body that arrived in one chunk, held to be written with `end()` in one system call. */
  #whole: Buffer | null = null;
  #done = false;
  #dispatched = 0;

  constructor(state: ProxyState, req: ClientRequest, res: ClientResponse, ctx: RouteContext, upstream: Upstream, started: number) {
    this.#state = state;
    this.#req = req;
    this.#res = res;
    this.#ctx = ctx;
    this.#upstream = upstream;
    this.#started = started;
    res.once('close', this.#onClientClose);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.#dispatched = performance.now();
    requestStarted(this.#upstream.stats);
    // The client may have left while the request waited for a free upstream connection.
    if (this.#res.destroyed) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx interim responses: Node answers 100-continue to the client itself.
    this.#ctx.cluster.headerDuration.observe((performance.now() - this.#dispatched) / 1000);
    this.#status = statusCode;
    const res = this.#res;
    if (res.destroyed) {
      controller.abort(new Error('client went away'));
      return;
    }
    const out: string[] = [];
    const listed = connectionListed(headers.connection);
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || isHopByHopResponseHeader(name) || (listed !== null && listed.has(name))) continue;
      if (typeof value === 'string') out.push(name, value);
      else for (const v of value) out.push(name, v);
    }
    if (this.setCookie !== null) out.push('set-cookie', this.setCookie);
    const length = headers['content-length'];
    this.#expected = typeof length === 'string' ? Number(length) : -1;
    (res as ServerResponse).writeHead(statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#bytes === 0 && chunk.length === this.#expected) {
      // The common small response: head and body leave together at end().
      this.#bytes = chunk.length;
      this.#whole = chunk;
      return;
    }
    this.#bytes += chunk.length;
    if (!(this.#res as ServerResponse).write(chunk)) {
      controller.pause();
      this.#res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    const res = this.#res;
    for (const _ in trailers) {
      (res as ServerResponse).addTrailers(trailers as Record<string, string>);
      break;
    }
    if (this.#whole !== null) res.end(this.#whole);
    else res.end();
    this.#finish(this.#status, undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#done) return;
    const res = this.#res;
    if ((err as { code?: string }).code === 'UND_ERR_ABORTED' || res.destroyed) {
      // The client left first; nothing to answer. 499, as nginx logs it.
      this.#finish(499, 'client-closed');
      return;
    }
    const reason = reasonForUpstreamError(err);
    this.#state.metrics.proxyErrors.labels(reason).inc();
    if (!res.headersSent) {
      this.#bytes += writeError(res, reason, true);
      this.#finish(statusFor(reason), reason);
      if (!this.#req.readableEnded) this.#req.resume();
    } else {
      // Headers already went out: the only honest signal left is a broken response.
      res.destroy(err);
      this.#finish(this.#status, reason);
    }
  }

  #finish(status: number, error: string | undefined): void {
    this.#done = true;
    if (this.#dispatched > 0) {
      const now = performance.now();
      requestEnded(this.#upstream.stats, now - this.#dispatched, now);
    }
    account(this.#state, this.#req, status, this.#bytes, this.#started, this.#ctx, this.#upstream, error);
  }

  readonly #onClientClose = (): void => {
    if (this.#done) return;
    this.#controller?.abort(new Error('client closed the connection'));
  };
}
