import { h2RequestBody } from '../upstream/h2-request-body.ts';
import type { Dispatcher } from 'undici';
import { Exchange } from '../upstream/exchange.ts';
import { sendMirror } from '../upstream/mirror.ts';
import { upstreamHeaders } from '../upstream/upstream-headers.ts';
import type { ClientRequest } from './proxy-state.ts';
import type { ProxyRequest } from './request.ts';
import type { RouteContext } from './route-context.ts';
import { clientAddress } from '../proxy-protocol/client-address.ts';

/**
 * The transport phases of a plain request through `ctx` (its backend): the circuit breaker; the
 * automatic pause when the cluster of an existing Service has no endpoint at all (held until one is
 * ready, then through the lifecycle again — the backend may be on a new address by then); choosing
 * an endpoint; the header edits of the route's filters and scripts; the mirrors; the exchange.
 */
export function forward(r: ProxyRequest, ctx: RouteContext): void {
  const { state, req } = r;
  const cluster = ctx.cluster;
  if (cluster.limited) {
    const limit = cluster.overLimit();
    if (limit !== null) {
      state.metrics.circuitBreakerRejections.labels(cluster.name, limit).inc();
      return r.fail('circuit-open');
    }
  }
  const pause = cluster.policy.pause;
  const pauses = state.pauses;
  if (pauses !== null && pause.maxWaitMs > 0 && cluster.resolved) {
    // Behind a backlog being released, a new request waits its turn rather than overtake it.
    const releasing = r.waited === null && pauses.find('no-endpoint', cluster.name)?.releasing === true;
    if (releasing || !cluster.hasEndpoints) {
      const gate = pauses.gate('no-endpoint', cluster.name, pause);
      return r.hold({ gate, maxWaitMs: pause.maxWaitMs, onRelease: (w) => r.again(w) });
    }
  }
  const plan = r.routed!.plan;
  // The route's time limit runs from arrival: a request held or scripted past it is not sent.
  if (plan.requestMs > 0 && performance.now() - r.started >= plan.requestMs) return r.fail('upstream-timeout');
  const upstream = cluster.choose(req, state.clientIpOf, r.hashKey);
  if (upstream === null) return r.fail('no-endpoint');
  const { target, path, host } = r.routed!;
  const listener = r.listener;
  const forwarding = { peer: clientAddress(req.socket), proto: listener.proto, port: listener.port, host, addressHeader: r.table!.published.table.clientAddressHeader, originalUri: ctx.route.originalUriHeader === true ? target.path + target.query : undefined };
  const headers = upstreamHeaders(req.rawHeaders, forwarding, state.trusted, null, r.upstreamHost);
  const edits = r.edits;
  if (edits !== null) for (const edit of edits) edit.applyTo(headers);
  const upstreamPath = r.upstreamPath ?? path;
  const body = hasBody(req);
  const options: Dispatcher.DispatchOptions = {
    path: target.authority === undefined && upstreamPath === target.path ? pathAndQuery(req.url!, target.path, target.query) : upstreamPath + target.query,
    method: req.method as Dispatcher.HttpMethod,
    headers,
    body: body ? (cluster.policy.protocol === 'h2' || cluster.policy.protocol === 'h2c' ? h2RequestBody(req) : req) : null,
    headersTimeout: plan.backendRequestMs > 0 ? plan.backendRequestMs : cluster.responseHeadersMs,
    bodyTimeout: cluster.idleMs,
  };
  const mirrors = r.mirrors;
  if (mirrors !== null) for (const mirror of mirrors) sendMirror(mirror, req, state.clientIpOf, options, body);
  const exchange = new Exchange(r, ctx, options);
  const urlMirrors = r.urlMirrors;
  if (urlMirrors !== null && state.urlMirrors !== null) {
    const h2 = cluster.policy.protocol === 'h2' || cluster.policy.protocol === 'h2c';
    for (const mirror of urlMirrors) {
      const copy = mirror.send(state.urlMirrors, r.routed!, req.method ?? 'GET', headers, body);
      if (copy === null) continue;
      // The HTTP/2 body already pipes the client's (h2RequestBody): tap it now, in the same tick.
      // An HTTP/1.1 upstream reads it once connected: the exchange taps it then (bodyStarted).
      if (h2) copy.tap(req);
      exchange.addMirrorBody(copy);
    }
  }
  if (cluster.affinity !== null) {
    exchange.secure = listener.proto === 'https';
    exchange.setCookie = cluster.affinity.cookieFor(req.headers, upstream, exchange.secure);
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
