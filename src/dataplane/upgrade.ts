import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Decision } from '../script/index.ts';
import { account, type RequestNote } from './accounting.ts';
import { statusFor, writeRawError, writeRawResponse, type ErrorReason } from './error-responses.ts';
import type { RouteContext } from './prepared-table.ts';
import type { ListenerInfo, ProxyState } from './proxy.ts';
import { routeRequest, type RoutedRequest } from './route-request.ts';
import { runScript } from './script-phase.ts';
import { scriptRequest } from './script-request.ts';
import { editHeaders, upstreamHeaders } from './upstream-headers.ts';

/**
 * Tunnels an HTTP/1.1 `Upgrade` request (WebSocket and any other protocol) to the route's endpoint:
 * a fresh TCP connection, the request head rewritten like any proxied request (forwarding headers,
 * hop-by-hop headers dropped, `Upgrade` kept), then bytes copied both ways until either side closes.
 * The upstream's answer — 101 or a refusal — reaches the client unchanged. A route's RouteScript
 * runs first, as for any request: it may answer (an auth check refusing the upgrade), pick a
 * backend, edit headers or set a hash key.
 */
export function createUpgradeHandler(state: ProxyState, listener: ListenerInfo, connectMs: number): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return function handleUpgrade(req, socket, head) {
    const started = performance.now();
    socket.on('error', () => socket.destroy());
    const table = state.table;
    if (table === null) return failUpgrade(state, req, socket, started, null, 'not-ready');
    const routed = routeRequest(table, req, state.paths);
    if (typeof routed === 'string') return failUpgrade(state, req, socket, started, null, routed);
    const script = routed.ctx.script;
    // A tunnel cannot be held like a request: an upgrade to a paused route is told to retry.
    if (script !== null && script.pause !== null) return failUpgrade(state, req, socket, started, routed.ctx, 'paused');
    if (script === null || state.scripts === null) return tunnel(state, listener, connectMs, req, socket, head, started, routed, routed.ctx, null, undefined);
    const request = scriptRequest(req, routed.host, routed.path, routed.target.query, state.clientIpOf(req));
    runScript(state.scripts.engine, script, routed.ctx, request).then((verdict) => {
      if (socket.destroyed) {
        account(state, req, 499, 0, started, routed.ctx, null, 'client-closed', { script: verdict.note });
        return;
      }
      switch (verdict.action) {
        case 'forward':
          if (verdict.decision?.pause !== undefined) return failUpgrade(state, req, socket, started, routed.ctx, 'paused', undefined, { script: verdict.note });
          return tunnel(state, listener, connectMs, req, socket, head, started, routed, verdict.ctx, verdict.decision, { script: verdict.note });
        case 'respond': {
          const { status, headers = {}, body = '' } = verdict.respond;
          state.metrics.upgrades.labels('script-respond').inc();
          writeRawResponse(socket, status, body !== '' && headers['content-type'] === undefined ? { ...headers, 'content-type': 'text/plain; charset=utf-8' } : headers, body);
          account(state, req, status, Buffer.byteLength(body), started, routed.ctx, null, undefined, { script: verdict.note });
          return;
        }
        case 'reject':
          return failUpgrade(state, req, socket, started, routed.ctx, 'script-failed', verdict.status, { script: verdict.note });
      }
    });
  };
}

/** Refuses an upgrade with signalbox's own error response on the raw socket. */
function failUpgrade(state: ProxyState, req: IncomingMessage, socket: Duplex, started: number, ctx: RouteContext | null, reason: ErrorReason, status = statusFor(reason), note?: RequestNote): void {
  state.metrics.upgrades.labels(reason).inc();
  state.metrics.proxyErrors.labels(reason).inc();
  writeRawError(socket, reason, status);
  account(state, req, status, 0, started, ctx, null, reason, note);
}

/** Connects to an endpoint of `ctx`'s cluster and copies bytes both ways. */
function tunnel(
  state: ProxyState,
  listener: ListenerInfo,
  connectMs: number,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  started: number,
  routed: RoutedRequest,
  ctx: RouteContext,
  decision: Decision | null,
  note: RequestNote | undefined,
): void {
  const { target, path, host } = routed;
  const fail = (reason: ErrorReason): void => failUpgrade(state, req, socket, started, ctx, reason, undefined, note);
  const upstream = ctx.cluster.choose(req, state.clientIpOf as (r: IncomingMessage) => string, decision?.hashKey);
  if (upstream === null) return fail('no-endpoint');

  const headers = upstreamHeaders(req.rawHeaders, { peer: req.socket.remoteAddress ?? '', proto: listener.proto, port: listener.port, host }, state.trusted, true);
  if (decision !== null && (decision.setHeaders !== undefined || decision.removeHeaders !== undefined)) editHeaders(headers, decision.setHeaders, decision.removeHeaders);
  let head1 = `${req.method} ${path}${target.query} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) head1 += `${headers[i]}: ${headers[i + 1]}\r\n`;
  head1 += '\r\n';

  const up: Socket = connect({ host: upstream.address, port: upstream.port, noDelay: true });
  const timer = connectMs > 0 ? setTimeout(() => up.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), connectMs) : null;
  let connected = false;
  // For the access log: the upstream's status (from its first bytes) and what it sent back.
  let status = 0;
  let bytes = 0;
  up.on('data', (chunk: Buffer) => {
    if (status === 0) status = parseStatus(chunk);
    bytes += chunk.length;
  });
  up.once('connect', () => {
    connected = true;
    if (timer) clearTimeout(timer);
    state.metrics.upgrades.labels('tunnelled').inc();
    up.write(head1);
    if (head.length > 0) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  up.on('error', (err: NodeJS.ErrnoException) => {
    if (timer) clearTimeout(timer);
    if (!connected) fail(err.code === 'ETIMEDOUT' ? 'upstream-connect-timeout' : 'upstream-refused');
    else socket.destroy();
  });
  up.on('close', () => socket.destroy());
  // Client sockets of an HTTP server allow half-open connections, so a client that closes would
  // leave the tunnel (and the upstream connection) open forever: its end ends the tunnel, as nginx does.
  socket.once('end', () => {
    up.destroy();
    socket.destroy();
  });
  socket.on('close', () => {
    up.destroy();
    if (connected) account(state, req, status || 502, bytes, started, ctx, upstream, status === 0 ? 'upstream-reset' : undefined, note);
  });
  if (state.idleMs > 0) {
    // An idle tunnel is closed like an idle connection; WebSocket pings keep a live one open.
    up.setTimeout(state.idleMs, () => up.destroy());
  }
}

/** The status code of an HTTP/1.x status line at the start of `chunk`, or 0. */
function parseStatus(chunk: Buffer): number {
  if (chunk.length < 12 || chunk.toString('latin1', 0, 5) !== 'HTTP/') return 0;
  const code = Number(chunk.toString('latin1', 9, 12));
  return Number.isInteger(code) ? code : 0;
}
