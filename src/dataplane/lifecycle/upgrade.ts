import type { IncomingMessage, Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Decision } from '../../script/index.ts';
import { account, type RequestNote } from './accounting.ts';
import { statusFor, writeRawError, writeRawResponse, type ErrorReason } from './error-responses.ts';
import type { RouteContext } from './prepared-table.ts';
import type { ListenerInfo, ProxyState } from './proxy.ts';
import { routeRequest, type RoutedRequest } from './route-request.ts';
import { runScript, type ScriptVerdict } from './script-phase.ts';
import { scriptRequest } from './script-request.ts';
import { afterEarlierResponses, handBack } from '../server/socket-handback.ts';
import { allowedOffer, plainReason, plainRequestHead, type PlainReason } from './upgrade-offer.ts';
import { refuseUpgrade, relayUpgrade } from '../upstream/upgrade-relay.ts';
import { editHeaders, upstreamHeaders } from '../upstream/upstream-headers.ts';

/** What the upgrade handler of one listener needs besides the proxy state. */
export interface UpgradeOptions {
  /** The server whose 'upgrade' event this handles, which gets back connections that stay HTTP. */
  readonly server: Server | Http2SecureServer;
  readonly connectMs: number;
  /** `--max-header-count`: Node truncates the fields of a longer head, so it must be refused here. */
  readonly maxHeaderCount: number;
}

/**
 * Handles an HTTP/1.1 request with `Upgrade` and `Connection: upgrade` (Node's 'upgrade' event).
 * It becomes a tunnel only when every condition holds: HTTP/1.1 without a body, a route, one of the
 * offered protocols allowed by the Service (`signalbox.dev/upgrade-protocols`, `websocket` by
 * default, never `h2c`), and a `101 Switching Protocols` from the endpoint. Otherwise:
 * - an upgrade not allowed (or with a body, or HTTP/1.0) is served as the plain request it also
 *   is: its head, without `Upgrade`, `HTTP2-Settings` and their Connection options, goes back to
 *   the HTTP server with the bytes that followed it, and is routed, scripted and proxied like any
 *   request — the connection stays HTTP;
 * - an endpoint's other answer is an ordinary response to the request, and the connection stays
 *   HTTP (upgrade-relay.ts);
 * - no route, no endpoint, a paused route, a refusing script: signalbox's error, connection closed.
 * The route's RouteScript runs first, as for any request: it may answer (an auth check refusing
 * the upgrade), pick a backend, edit headers or set a hash key. Nothing the client sent after the
 * request head is read or forwarded before the endpoint's 101, and nothing is done before the
 * responses to the requests ahead of it on the connection are out.
 */
export function createUpgradeHandler(state: ProxyState, listener: ListenerInfo, options: UpgradeOptions): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return function handleUpgrade(req, socket, head) {
    socket.on('error', () => socket.destroy());
    afterEarlierResponses(socket, () => guarded(socket, () => upgrade(req, socket, head)));
  };

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = performance.now();
    if (socket.destroyed) return;
    if (req.rawHeaders.length > options.maxHeaderCount * 2) return failUpgrade(state, req, socket, started, null, 'headers-too-large');
    const plain = plainReason(req);
    if (plain !== null) return servePlain(state, options, req, socket, head, plain);
    const table = state.table;
    if (table === null) return failUpgrade(state, req, socket, started, null, 'not-ready');
    const routed = routeRequest(table, req, state.paths);
    if (typeof routed === 'string') return failUpgrade(state, req, socket, started, null, routed);
    const route = routed.ctx;
    if (allowedOffer(req, route.cluster.policy.upgradeProtocols) === null) return servePlain(state, options, req, socket, head, 'not-allowed');
    const script = route.script;
    // A tunnel cannot be held like a request: an upgrade to a paused route is told to retry.
    if (script !== null && script.pause !== null) return failUpgrade(state, req, socket, started, route, 'paused');
    const go = (ctx: RouteContext, decision: Decision | null, note: RequestNote | undefined): void => tunnel(state, listener, options, req, socket, head, started, routed, ctx, decision, note);
    if (script === null || state.scripts === null) return go(route, null, undefined);
    const request = scriptRequest(req, routed.host, routed.path, routed.target.query, state.clientIpOf(req));
    runScript(state.scripts.engine, script, route, request).then((verdict) => guarded(socket, () => afterScript(verdict)));

    function afterScript(verdict: ScriptVerdict): void {
      const note = { script: verdict.note };
      if (socket.destroyed) return account(state, req, 499, 0, started, route, null, 'client-closed', note);
      switch (verdict.action) {
        case 'forward':
          if (verdict.decision?.pause !== undefined) return failUpgrade(state, req, socket, started, route, 'paused', undefined, note);
          return go(verdict.ctx, verdict.decision, note);
        case 'respond': {
          const { status, headers = {}, body = '' } = verdict.respond;
          state.metrics.upgrades.labels('script-respond').inc();
          writeRawResponse(socket, status, body !== '' && headers['content-type'] === undefined ? { ...headers, 'content-type': 'text/plain; charset=utf-8' } : headers, body);
          return account(state, req, status, Buffer.byteLength(body), started, route, null, undefined, note);
        }
        case 'reject':
          return failUpgrade(state, req, socket, started, route, 'script-failed', verdict.status, note);
      }
    }
  }

  /** As for requests (listeners.ts): a bug that throws fails this connection, not the worker. */
  function guarded(socket: Duplex, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      state.log.error({ err }, 'upgrade handler failed');
      state.metrics.proxyErrors.labels('internal-error').inc();
      if (socket.writable) writeRawError(socket, 'internal-error');
      else socket.destroy();
    }
  }
}

/**
 * Serves an upgrade request that will not be tunnelled as a plain request: its head without the
 * upgrade goes back to the HTTP server in front of whatever followed it (its body, pipelined
 * requests), so that routing, scripts, limits and the access log treat it like any other request.
 */
function servePlain(state: ProxyState, options: UpgradeOptions, req: IncomingMessage, socket: Duplex, head: Buffer, reason: PlainReason): void {
  state.metrics.upgrades.labels(reason).inc();
  handBack(options.server, socket, Buffer.concat([Buffer.from(plainRequestHead(req), 'latin1'), head]));
}

/** Refuses an upgrade with signalbox's own error response on the raw socket. */
function failUpgrade(state: ProxyState, req: IncomingMessage, socket: Duplex, started: number, ctx: RouteContext | null, reason: ErrorReason, status = statusFor(reason), note?: RequestNote): void {
  refuseUpgrade(state, req, socket, started, ctx, null, reason, status, note);
}

/**
 * Picks an endpoint of `ctx`'s cluster and relays the request to it. A script's backend is a
 * Service of its own: when it does not allow the protocol, the request goes without its upgrade.
 */
function tunnel(
  state: ProxyState,
  listener: ListenerInfo,
  options: UpgradeOptions,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  started: number,
  routed: RoutedRequest,
  ctx: RouteContext,
  decision: Decision | null,
  note: RequestNote | undefined,
): void {
  const upstream = ctx.cluster.choose(req, state.clientIpOf as (r: IncomingMessage) => string, decision?.hashKey);
  if (upstream === null) return failUpgrade(state, req, socket, started, ctx, 'no-endpoint', undefined, note);
  const offered = allowedOffer(req, ctx.cluster.policy.upgradeProtocols);
  if (offered === null) state.metrics.upgrades.labels('not-allowed').inc();
  const { target, path, host } = routed;
  const headers = upstreamHeaders(req.rawHeaders, { peer: req.socket.remoteAddress ?? '', proto: listener.proto, port: listener.port, host }, state.trusted, offered);
  if (decision !== null && (decision.setHeaders !== undefined || decision.removeHeaders !== undefined)) editHeaders(headers, decision.setHeaders, decision.removeHeaders);
  relayUpgrade({ state, server: options.server, req, socket, head, started, ctx, upstream, path: path + target.query, headers, offered, connectMs: ctx.cluster.policy.timeouts.connectMs ?? options.connectMs, note });
}
