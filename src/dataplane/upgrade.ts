import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { account } from './accounting.ts';
import { statusFor, writeRawError, type ErrorReason } from './error-responses.ts';
import type { RouteContext } from './prepared-table.ts';
import type { ListenerInfo, ProxyState } from './proxy.ts';
import { routeRequest } from './route-request.ts';
import { upstreamHeaders } from './upstream-headers.ts';

/**
 * Tunnels an HTTP/1.1 `Upgrade` request (WebSocket and any other protocol) to the route's endpoint:
 * a fresh TCP connection, the request head rewritten like any proxied request (forwarding headers,
 * hop-by-hop headers dropped, `Upgrade` kept), then bytes copied both ways until either side closes.
 * The upstream's answer — 101 or a refusal — reaches the client unchanged.
 */
export function createUpgradeHandler(state: ProxyState, listener: ListenerInfo, connectMs: number): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return function handleUpgrade(req, socket, head) {
    const started = performance.now();
    let ctx: RouteContext | null = null;
    const fail = (reason: ErrorReason): void => {
      state.metrics.upgrades.labels(reason).inc();
      state.metrics.proxyErrors.labels(reason).inc();
      writeRawError(socket, reason);
      account(state, req, statusFor(reason), 0, started, ctx, null, reason);
    };
    socket.on('error', () => socket.destroy());
    const table = state.table;
    if (table === null) return fail('not-ready');
    const routed = routeRequest(table, req);
    if (typeof routed === 'string') return fail(routed);
    const { target, path } = routed;
    ctx = routed.ctx;
    const upstream = ctx.cluster.choose(req, state.clientIpOf as (r: IncomingMessage) => string);
    if (upstream === null) return fail('no-endpoint');

    const headers = upstreamHeaders(req.rawHeaders, { peer: req.socket.remoteAddress ?? '', proto: listener.proto, port: listener.port, authority: target.authority }, state.trusted, true);
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
    socket.on('close', () => {
      up.destroy();
      if (connected) account(state, req, status || 502, bytes, started, ctx, upstream, status === 0 ? 'upstream-reset' : undefined);
    });
    if (state.idleMs > 0) {
      // An idle tunnel is closed like an idle connection; WebSocket pings keep a live one open.
      up.setTimeout(state.idleMs, () => up.destroy());
    }
  };
}

/** The status code of an HTTP/1.x status line at the start of `chunk`, or 0. */
function parseStatus(chunk: Buffer): number {
  if (chunk.length < 12 || chunk.toString('latin1', 0, 5) !== 'HTTP/') return 0;
  const code = Number(chunk.toString('latin1', 9, 12));
  return Number.isInteger(code) ? code : 0;
}
