import { request as upstreamRequest, ServerResponse, type ClientRequest as UpstreamRequest, type IncomingMessage, type Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { account, type RequestNote } from '../lifecycle/accounting.ts';
import { reasonForUpstreamError, statusFor, writeRawError, type ErrorReason } from '../lifecycle/error-responses.ts';
import type { Upstream } from './prepared-cluster.ts';
import type { RouteContext } from '../lifecycle/route-context.ts';
import type { ProxyState } from '../lifecycle/proxy-state.ts';
import { handBack } from '../server/socket-handback.ts';
import { switchedToOffered } from '../lifecycle/upgrade-offer.ts';
import { connectionListed, isHopByHopResponseHeader } from './upstream-headers.ts';

/** One upgrade request on its way to an endpoint, from the client's raw socket. */
export interface UpgradeRelay {
  readonly state: ProxyState;
  /** The server the client connection came from, which gets it back after a plain answer. */
  readonly server: Server | Http2SecureServer;
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  /** What the client sent after the request head: not read, not forwarded before a 101. */
  readonly head: Buffer;
  readonly started: number;
  readonly ctx: RouteContext;
  readonly upstream: Upstream;
  /** The upstream request target. */
  readonly path: string;
  /** The upstream request's fields, flat name/value pairs. */
  readonly headers: string[];
  /** The Upgrade value sent upstream; null when the request goes without one (served plain). */
  readonly offered: string | null;
  readonly connectMs: number;
  readonly note: RequestNote | undefined;
}

/**
 * Refuses an upgrade with signalbox's own error response on the raw socket (which closes it):
 * counted as an upgrade outcome and a proxy error, and logged, with the endpoint when there was one.
 */
export function refuseUpgrade(
  state: ProxyState,
  req: IncomingMessage,
  socket: Duplex,
  started: number,
  ctx: RouteContext | null,
  upstream: Upstream | null,
  reason: ErrorReason,
  status: number,
  note: RequestNote | undefined,
): void {
  state.metrics.upgrades.labels(reason).inc();
  state.metrics.proxyErrors.labels(reason).inc();
  writeRawError(socket, reason, status);
  account(state, req, status, 0, started, ctx, upstream, reason, note);
}

/** A timer's error, with a code that {@link reasonForUpstreamError} maps. */
function timeoutError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Sends the request to the endpoint on a connection of its own (node:http's client, which parses
 * the answer and its framing) and acts on the answer:
 * - `101 Switching Protocols` to an upgrade that was offered: the 101 goes to the client, then the
 *   bytes the client sent after its request head go upstream, and from then on bytes are copied
 *   both ways until either side closes (the tunnel is accounted then);
 * - any other answer: an ordinary response to this request, framed by Node's own ServerResponse
 *   with hop-by-hop fields dropped, after which the client connection goes back to the HTTP server,
 *   which parses the bytes the client sent meanwhile as the next requests;
 * - a 101 that was not asked for, or switches to a protocol not offered: 502.
 */
export function relayUpgrade(r: UpgradeRelay): void {
  const { state, req, socket, upstream, ctx } = r;
  let answered = false;
  const fail = (reason: ErrorReason): void => {
    if (answered) return;
    answered = true;
    refuseUpgrade(state, req, socket, r.started, ctx, upstream, reason, statusFor(reason), r.note);
  };
  const up: UpstreamRequest = upstreamRequest({
    host: upstream.address,
    port: upstream.port,
    method: req.method,
    path: r.path,
    headers: r.headers,
    setHost: false,
    agent: false,
  });
  let timer: NodeJS.Timeout | null = null;
  const arm = (ms: number, code: string, message: string): void => {
    if (timer !== null) clearTimeout(timer);
    timer = ms > 0 ? setTimeout(() => up.destroy(timeoutError(code, message)), ms) : null;
  };
  const disarm = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  arm(r.connectMs, 'UND_ERR_CONNECT_TIMEOUT', 'connect timeout');
  up.once('socket', (s: Socket) => {
    s.setNoDelay(true);
    s.once('connect', () => arm(ctx.cluster.responseHeadersMs, 'UND_ERR_HEADERS_TIMEOUT', 'response header timeout'));
  });
  up.on('upgrade', (res: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
    disarm();
    if (answered) return upSocket.destroy();
    if (r.offered === null || !switchedToOffered(res.headers.upgrade, r.offered)) {
      upSocket.destroy();
      return fail('upstream-protocol-error');
    }
    answered = true;
    openTunnel(r, res, upSocket, upHead);
  });
  up.on('response', (res: IncomingMessage) => {
    disarm();
    if (answered) return res.destroy();
    // 1xx answers other than 101 come as 'information' events; a bare 101 without Upgrade lands here.
    if (res.statusCode === undefined || res.statusCode < 200) {
      res.destroy();
      return fail('upstream-protocol-error');
    }
    answered = true;
    answerPlain(r, res);
  });
  up.on('error', (err: Error) => {
    disarm();
    if (!answered) fail(reasonForUpstreamError(err));
    else socket.destroy();
  });
  // The client gave up while the endpoint had not answered yet: nothing more to do for it.
  const onClientClose = (): void => {
    disarm();
    up.destroy();
    if (answered) return;
    answered = true;
    account(state, req, 499, 0, r.started, ctx, upstream, 'client-closed', r.note);
  };
  socket.once('close', onClientClose);
  up.once('close', () => socket.off('close', onClientClose));
  up.end();
}

/** The 101 to the client, then bytes copied both ways; accounted when the tunnel closes. */
function openTunnel(r: UpgradeRelay, res: IncomingMessage, up: Socket, upHead: Buffer): void {
  const { state, socket } = r;
  state.metrics.upgrades.labels('tunnelled').inc();
  let head = 'HTTP/1.1 101 Switching Protocols\r\n';
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower !== 'upgrade' && isHopByHopResponseHeader(lower)) continue;
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  socket.write(`${head}connection: upgrade\r\n\r\n`);
  let bytes = upHead.length;
  if (upHead.length > 0) socket.write(upHead);
  // Only now may what the client sent after its request head go on: it belongs to the new protocol.
  if (r.head.length > 0) up.write(r.head);
  up.on('data', (chunk: Buffer) => (bytes += chunk.length));
  up.pipe(socket);
  socket.pipe(up);
  up.on('error', () => socket.destroy());
  up.on('close', () => socket.destroy());
  // Client sockets of an HTTP server allow half-open connections, so a client that closes would
  // leave the tunnel (and the upstream connection) open forever: its end ends the tunnel, as nginx does.
  socket.once('end', () => {
    up.destroy();
    socket.destroy();
  });
  socket.once('close', () => {
    up.destroy();
    account(state, r.req, 101, bytes, r.started, r.ctx, r.upstream, undefined, r.note);
  });
  // An idle tunnel is closed like an idle connection; WebSocket pings keep a live one open.
  if (state.idleMs > 0) up.setTimeout(state.idleMs, () => up.destroy());
}

/**
 * The endpoint's answer as an ordinary response on the client connection, then the connection
 * back to the HTTP server (unless either side asked to close it).
 */
function answerPlain(r: UpgradeRelay, res: IncomingMessage): void {
  const { state, req, socket } = r;
  if (r.offered !== null) state.metrics.upgrades.labels('refused-by-upstream').inc();
  const out = new ServerResponse(req);
  out.assignSocket(socket as Socket);
  // The request asked for an upgrade, not for the connection to end; draining closes it anyway.
  out.shouldKeepAlive = !state.draining && !/(?:^|,)\s*close\s*(?:,|$)/i.test(String(req.headers.connection ?? ''));
  const fields: string[] = [];
  const listed = connectionListed(res.headers.connection);
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (isHopByHopResponseHeader(lower) || (listed !== null && listed.has(lower))) continue;
    fields.push(raw[i]!, raw[i + 1]!);
  }
  out.writeHead(res.statusCode!, fields);
  let bytes = 0;
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (!out.write(chunk)) {
      res.pause();
      out.once('drain', () => res.resume());
    }
  });
  res.once('end', () => out.end());
  // A response cut short cannot be completed: the client must see a broken connection.
  res.once('close', () => {
    if (!res.complete) socket.destroy();
  });
  res.once('error', () => socket.destroy());
  let finished = false;
  out.once('finish', () => {
    finished = true;
    out.detachSocket(socket as Socket);
    socket.off('close', onGone);
    account(state, req, res.statusCode!, bytes, r.started, r.ctx, r.upstream, undefined, r.note);
    if (out.shouldKeepAlive) handBack(r.server, socket, r.head);
    else socket.end();
  });
  const onGone = (): void => {
    res.destroy();
    if (!finished) account(state, req, 499, bytes, r.started, r.ctx, r.upstream, 'client-closed', r.note);
  };
  socket.once('close', onGone);
}
