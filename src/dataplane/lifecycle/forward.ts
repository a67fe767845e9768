import type { Dispatcher } from 'undici';
import type { Decision } from '../../script/index.ts';
import type { RequestNote } from './accounting.ts';
import { answerError } from './answers.ts';
import { Exchange } from '../upstream/exchange.ts';
import { holdRequest, type Waited } from './pause-phase.ts';
import type { RouteContext } from './prepared-table.ts';
import type { ClientRequest, ClientResponse, ListenerInfo, ProxyState } from './proxy.ts';
import type { RoutedRequest } from './route-request.ts';
import { editHeaders, upstreamHeaders } from '../upstream/upstream-headers.ts';

/** One request on its way upstream through `ctx` (the route, or a script's backend). */
export interface Forwarding {
  readonly state: ProxyState;
  readonly listener: ListenerInfo;
  readonly req: ClientRequest;
  readonly res: ClientResponse;
  readonly started: number;
  readonly routed: RoutedRequest;
  readonly ctx: RouteContext;
  /** The script's decision (header edits, hash key), or null. */
  readonly decision: Decision | null;
  readonly note: RequestNote;
  /** How long it was held so far; null when never. */
  readonly waited: Waited | null;
  /** Runs the whole lifecycle again on the newest table (a held request that was released). */
  readonly again: (waited: Waited) => void;
}

/**
 * The last phases of a request: the circuit breaker; the automatic pause when the cluster of an
 * existing Service has no endpoint at all (held until one is ready, then through the lifecycle
 * again — the backend may be on a new address by then); choosing an endpoint; and the exchange.
 */
export function forward(f: Forwarding): void {
  const { state, req, res, started, routed, ctx, decision, note } = f;
  const cluster = ctx.cluster;
  if (cluster.limited) {
    const limit = cluster.overLimit();
    if (limit !== null) {
      state.metrics.circuitBreakerRejections.labels(cluster.name, limit).inc();
      return answerError(state, req, res, started, 'circuit-open', ctx, undefined, note);
    }
  }
  const pause = cluster.policy.pause;
  const pauses = state.pauses;
  if (pauses !== null && pause.maxWaitMs > 0 && cluster.resolved) {
    // Behind a backlog being released, a new request waits its turn rather than overtake it.
    const releasing = f.waited === null && pauses.find('no-endpoint', cluster.name)?.releasing === true;
    if (releasing || !cluster.hasEndpoints) {
      const gate = pauses.gate('no-endpoint', cluster.name, pause);
      return holdRequest(state, req, res, started, ctx, f.waited, note, { gate, maxWaitMs: pause.maxWaitMs, onRelease: f.again });
    }
  }
  const hashKey = decision?.hashKey;
  const upstream = cluster.choose(req, state.clientIpOf, hashKey);
  if (upstream === null) return answerError(state, req, res, started, 'no-endpoint', ctx, undefined, note);
  const { target, path, host } = routed;
  const listener = f.listener;
  const headers = upstreamHeaders(req.rawHeaders, { peer: req.socket?.remoteAddress ?? '', proto: listener.proto, port: listener.port, host }, state.trusted);
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
  exchange.table = state.table;
  exchange.restart = () => f.again(f.waited ?? { since: performance.now(), deadline: Infinity });
  if (note.script !== undefined || note.pausedMs !== undefined) exchange.note = note;
  if (cluster.affinity !== null) {
    exchange.secure = listener.proto === 'https';
    exchange.setCookie = cluster.affinity.cookieFor(req.headers.cookie, upstream, exchange.secure);
  }
  exchange.dispatch(upstream);
}

/** The upstream path: the original target when normalisation changed nothing (no copy), else rebuilt. */
function pathAndQuery(url: string, path: string, query: string): string {
  return url.length === path.length + query.length ? url : path + query;
}

/** Whether a request carries a body to stream upstream. */
function hasBody(req: ClientRequest): boolean {
  const stream = (req as { stream?: { endAfterHeaders: boolean } }).stream;
  if (stream !== undefined) return !stream.endAfterHeaders;
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}
