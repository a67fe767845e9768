import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Logger } from '../../log.ts';
import type { DataplaneMetrics } from '../../metrics/metrics.ts';
import type { PauseGates } from '../../pause/pause-gates.ts';
import type { PathOptions } from '../../router/normalize-path.ts';
import { account, type RequestNote } from './accounting.ts';
import type { AccessLog } from './access-log.ts';
import { answerError, answerScript } from './answers.ts';
import { breakResponse, clientGone, isOwnReset } from './client-gone.ts';
import { forward } from './forward.ts';
import { holdRequest, type Waited } from './pause-phase.ts';
import type { PreparedTable } from './prepared-table.ts';
import { routeRequest, type RoutedRequest } from './route-request.ts';
import type { ScriptHost } from './script-host.ts';
import { runScript, type ScriptVerdict } from './script-phase.ts';
import { scriptRequest } from './script-request.ts';
import type { TrustedProxies } from '../server/trusted-proxies.ts';

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
  /** The request body's idle and total limits (0 = off); see RequestBodyTimer. */
  readonly requestBodyIdleMs: number;
  readonly requestBodyMs: number;
  readonly log: Logger;
  /** The client address of a request, after trusted-proxy resolution (for hashing on client-ip). */
  readonly clientIpOf: (req: ClientRequest) => string;
  /** Runs the RouteScripts of this worker; null where scripts are not served. */
  readonly scripts: ScriptHost | null;
  /** How request paths are normalised before matching (`--no-merge-slashes` and its kin). */
  readonly paths: PathOptions;
  /** Where requests are held while paused; null where nothing is ever held. */
  readonly pauses: PauseGates | null;
  /**
   * Set when shutdown begins (readiness fails): responses then close their HTTP/1.1 connection, so
   * clients move to another replica instead of reusing a connection this one is about to close.
   */
  draining: boolean;
}

/** Facts about the listener a request came in on. */
export interface ListenerInfo {
  readonly proto: 'http' | 'https';
  readonly port: number;
}

/** The note of a request with nothing to note (most of them); never modified, only spread. */
const NO_NOTE: RequestNote = Object.freeze({});

/** A script's pause without a maximum wait holds this long (its gate's deadline still applies). */
const DEFAULT_SCRIPT_PAUSE_MS = 30_000;

/**
 * The request lifecycle, in order:
 * 1. snapshot the current table (kept for the whole request — until a pause releases it, when the
 *    lifecycle starts again on the table of that moment);
 * 2. parse the target and normalise the path (400 on a bad one);
 * 3. match host and path (404 when nothing matches);
 * 4. an operator's pause on the route's RouteScript holds the request (pause-phase.ts);
 * 5. the route's RouteScript: answer directly, pick one of its backends, edit headers, set a hash
 *    key, pause — or, when it fails, its failure policy (script-phase.ts);
 * 6. circuit breaker: refuse fast (503) past the cluster's limits;
 * 7. no endpoint at all: hold the request until one is ready (the automatic pause), else 503;
 * 8. choose an endpoint by the Service's policy (affinity cookie, hash key, balancer);
 * 9. dispatch upstream on the endpoint's keep-alive pool, streaming the body both ways, retrying a
 *    failed bodyless request on another endpoint within the retry budget (exchange.ts);
 * 10. account: metrics and one access-log line.
 */
export function createProxyHandler(state: ProxyState, listener: ListenerInfo): (req: ClientRequest, res: ClientResponse) => void {
  return function handleRequest(req, res) {
    if (state.draining && 'shouldKeepAlive' in res) res.shouldKeepAlive = false;
    serve(state, listener, req, res, performance.now(), null);
  };
}

/** Phases 1–5, then {@link forward}; `waited` says how long the request has been held already. */
function serve(state: ProxyState, listener: ListenerInfo, req: ClientRequest, res: ClientResponse, started: number, waited: Waited | null): void {
  // An HTTP/2 stream reset with its own HEADERS (rapid reset), or refused by the HTTP/2 guard, is
  // closed before its request is handled; a held request's client may have left at its release.
  if (clientGone(res)) return answerClosed(state, req, res, started, waited);
  const table = state.table;
  if (table === null) return answerError(state, req, res, started, 'not-ready', null);
  const routed = routeRequest(table, req, state.paths);
  if (typeof routed === 'string') return answerError(state, req, res, started, routed, null);
  const ctx = routed.ctx;
  const script = ctx.script;
  const note: RequestNote = waited === null ? NO_NOTE : { pausedMs: performance.now() - waited.since };
  const again = (w: Waited): void => serve(state, listener, req, res, started, w);
  if (script === null || state.scripts === null) {
    return forward({ state, listener, req, res, started, routed, ctx, decision: null, note, waited, again });
  }
  const pauses = state.pauses;
  if (pauses !== null && (script.pause !== null || (waited === null && pauses.find('operator', script.id)?.releasing === true))) {
    const gate = pauses.gate('operator', script.id, ctx.cluster.policy.pause);
    const maxWaitMs = script.pause?.maxWaitMs ?? ctx.cluster.policy.pause.maxWaitMs;
    return holdRequest(state, req, res, started, ctx, waited, note, { gate, maxWaitMs, onRelease: again });
  }
  const request = scriptRequest(req, routed.host, routed.path, routed.target.query, state.clientIpOf(req));
  runScript(state.scripts.engine, script, ctx, request).then((verdict) => {
    try {
      afterScript(state, listener, req, res, started, routed, verdict, note, waited, again);
    } catch (err) {
      state.log.error({ err }, 'request handler failed after the route script');
      if (!res.headersSent) answerError(state, req, res, started, 'internal-error', ctx);
      else breakResponse(res);
    }
  });
}

/** Acts on a script's verdict (the request may have been abandoned by its client meanwhile). */
function afterScript(
  state: ProxyState,
  listener: ListenerInfo,
  req: ClientRequest,
  res: ClientResponse,
  started: number,
  routed: RoutedRequest,
  verdict: ScriptVerdict,
  held: RequestNote,
  waited: Waited | null,
  again: (waited: Waited) => void,
): void {
  const note: RequestNote = { ...held, script: verdict.note };
  // The client left while the script ran: its verdict is dropped, nothing goes upstream.
  if (clientGone(res)) return answerGone(state, req, started, routed, note);
  switch (verdict.action) {
    case 'respond':
      return answerScript(state, req, res, started, routed.ctx, verdict.respond, note);
    case 'reject':
      return answerError(state, req, res, started, 'script-failed', routed.ctx, verdict.status, note);
    case 'forward': {
      const { ctx, decision } = verdict;
      const pause = decision?.pause;
      const go = (w: Waited | null): void => forward({ state, listener, req, res, started, routed, ctx, decision, note, waited: w, again });
      if (pause === undefined || state.pauses === null) return go(waited);
      // The script pauses the request. With `until`, it waits for the RouteScript to change (new
      // data or code) and then runs through the route again, so the script decides anew; at its
      // deadline it gets 503. Without `until` it is a delay: at the deadline it goes on as decided.
      const gate = state.pauses.gate('script', routed.ctx.script!.id, routed.ctx.cluster.policy.pause);
      gate.tag = routed.ctx.script!.loaded;
      const maxWaitMs = pause.maxWaitMs ?? DEFAULT_SCRIPT_PAUSE_MS;
      return holdRequest(state, req, res, started, routed.ctx, waited, note, {
        gate,
        maxWaitMs,
        onRelease: again,
        ...(pause.until === undefined ? { onExpire: (w: Waited) => go(w), delay: true } : {}),
      });
    }
  }
}

/**
 * Accounts a request whose client was gone before (or when) its lifecycle began: 499, or, for an
 * HTTP/2 stream the guard refused (RST_STREAM REFUSED_STREAM), `stream-refused`.
 */
function answerClosed(state: ProxyState, req: ClientRequest, res: ClientResponse, started: number, waited: Waited | null): void {
  const note: RequestNote = waited === null ? NO_NOTE : { pausedMs: performance.now() - waited.since };
  const stream = (res as Http2ServerResponse).stream;
  if (stream !== undefined && isOwnReset(stream)) {
    state.metrics.proxyErrors.labels('stream-refused').inc();
    account(state, req, 503, 0, started, null, null, 'stream-refused', note);
    return;
  }
  account(state, req, 499, 0, started, null, null, 'client-closed', note);
}

/** Accounts a request whose client left while its script ran. */
function answerGone(state: ProxyState, req: ClientRequest, started: number, routed: RoutedRequest, note: RequestNote): void {
  account(state, req, 499, 0, started, routed.ctx, null, 'client-closed', note);
}
