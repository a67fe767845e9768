import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { DataplaneConfig } from '../../config/dataplane-config.ts';
import { ListenError } from '../../errors.ts';
import { breakResponse } from '../lifecycle/client-gone.ts';
import { account } from '../lifecycle/accounting.ts';
import { answerError } from '../lifecycle/answers.ts';
import { ConnectionLimit } from './connection-limit.ts';
import { writeError, writeRawError, type ErrorReason } from '../lifecycle/error-responses.ts';
import { claimPort } from './port-claim.ts';
import { Http2Guard, http2ServerOptions } from './http2-guard.ts';
import { createProxyHandler } from '../lifecycle/proxy.ts';
import type { ProxyState } from '../lifecycle/proxy-state.ts';
import { isHandedBack } from './socket-handback.ts';
import { acceptProxyProtocol } from '../proxy-protocol/accept.ts';
import type { SniContexts } from './tls/sni-contexts.ts';
import { createUpgradeHandler } from '../lifecycle/upgrade.ts';
import { routePassthrough } from '../streams/passthrough.ts';

/** The traffic listeners of one worker. */
export interface Listeners {
  readonly http: Server;
  readonly https: Http2SecureServer | null;
  /** The ports actually bound (useful when the configured port was 0). */
  readonly ports: { readonly http: number; readonly https: number | null };
}

/**
 * Opens the HTTP listener and, unless turned off, the HTTPS listener (HTTP/2 and HTTP/1.1 offered by
 * ALPN, certificate chosen by SNI). Both bind with SO_REUSEPORT so that every worker thread listens
 * on the same ports and the kernel spreads connections across them. With `claim` (the first worker
 * of a process) each port is first checked to be free of any other process (see port-claim.ts).
 * `limit` caps the connections of both (and of whatever else shares it: the TCP service ports).
 */
export async function openListeners(config: DataplaneConfig, state: ProxyState, sni: SniContexts | null, ports: { http: number; https: number | null }, claim = false, limit = new ConnectionLimit(config.limits.maxConnections)): Promise<Listeners> {
  const { timeouts, limits } = config;
  const http = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: timeouts.requestHeadersMs,
    requestTimeout: 0,
    keepAliveTimeout: timeouts.keepAliveMs,
    // Checked in the request handler instead, so that the 400 carries signalbox's error headers.
    requireHostHeader: false,
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(timeouts.requestHeadersMs / 4))),
    joinDuplicateHeaders: false,
    insecureHTTPParser: false,
    noDelay: true,
  });
  configureHttp1(http, config, state, 'http', limit);
  const httpPort = await listen(http, config.bindAddress, ports.http, 'http', claim);
  const httpInfo = { name: 'http', proto: 'http', port: httpPort } as const;
  http.on('request', refusingOverLimit(limit, state, guardRequest(createProxyHandler(state, httpInfo), limits.maxHeaderCount, state)));
  const upgrade = createUpgradeHandler(state, httpInfo, { server: http, connectMs: timeouts.connectMs, maxHeaderCount: limits.maxHeaderCount });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!limit.isRefused(socket)) return upgrade(req, socket, head);
    state.metrics.proxyErrors.labels('too-many-connections').inc();
    writeRawError(socket, 'too-many-connections');
    account(state, req, 503, 0, performance.now(), null, null, 'too-many-connections');
  });

  let https: Http2SecureServer | null = null;
  let httpsPort: number | null = null;
  if (ports.https !== null && sni !== null) {
    https = createSecureServer({
      allowHTTP1: true,
      SNICallback: sni.callback,
      minVersion: 'TLSv1.2',
      ...http2ServerOptions(config.http2, limits),
      maxHeaderSize: limits.maxHeaderBytes,
      ...(config.defaultCertificate ? { cert: config.defaultCertificate.certPem, key: config.defaultCertificate.keyPem } : {}),
    } as Parameters<typeof createSecureServer>[0]);
    // Before configureHttp1, so that the connection cap and PROXY acceptance run before it.
    routePassthrough(https as unknown as import('node:net').Server, state, timeouts.requestHeadersMs);
    configureHttp1(https as unknown as Server, config, state, 'https', limit);
    httpsPort = await listen(https, config.bindAddress, ports.https, 'https', claim);
    const info = { name: 'https', proto: 'https', port: httpsPort } as const;
    https.on('request', guardRequest(createProxyHandler(state, info), limits.maxHeaderCount, state));
    https.on('upgrade', createUpgradeHandler(state, info, { server: https, connectMs: timeouts.connectMs, maxHeaderCount: limits.maxHeaderCount }));
    https.on('sessionError', () => {});
    https.on('session', new Http2Guard(config.http2, state.metrics.http2, state.log).attach);
  }
  return { http, https, ports: { http: httpPort, https: httpsPort } };
}

/** Settings and events shared by the HTTP/1 side of both listeners, and the connection cap of both. */
function configureHttp1(server: Server, config: DataplaneConfig, state: ProxyState, listener: 'http' | 'https', limit: ConnectionLimit): void {
  // One more than the limit, so that a request over it is seen (Node truncates silently).
  server.maxHeadersCount = config.limits.maxHeaderCount + 1;
  server.headersTimeout = config.timeouts.requestHeadersMs;
  server.requestTimeout = 0;
  server.keepAliveTimeout = config.timeouts.keepAliveMs;
  if (config.timeouts.idleMs > 0) server.setTimeout(config.timeouts.idleMs);
  // First, before TLS wraps the socket: a refused HTTPS connection is closed without a handshake.
  server.prependListener('connection', (socket: Duplex) => {
    // A connection that stayed HTTP after an upgrade request comes back through here (socket-handback.ts).
    if (isHandedBack(socket)) return;
    if (!limit.admit(socket)) {
      state.metrics.connectionsRefused.labels(listener).inc();
      if (listener === 'https' || !limit.refuse(socket)) socket.destroy();
      return;
    }
    state.metrics.connections.labels(listener).inc();
    state.metrics.activeConnections.labels(listener).inc();
    socket.once('close', () => state.metrics.activeConnections.labels(listener).dec());
  });
  // Last, so that it wraps every other 'connection' listener, Node's own included: none of them sees
  // a connection before its PROXY header is read off (and the cap counts only connections let in).
  if (config.proxyProtocol) {
    acceptProxyProtocol(server, { trusted: state.trusted, timeoutMs: config.timeouts.requestHeadersMs, listener, refused: state.metrics.proxyProtocolRefused, bypass: isHandedBack });
  }
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const reason = clientErrorReason(err);
    if (reason === null) {
      socket.destroy();
      return;
    }
    state.metrics.proxyErrors.labels(reason).inc();
    writeRawError(socket, reason);
  });
}

/**
 * Maps a client-side parse or protocol error to the answer it gets: oversized heads 431, slow heads
 * 408, every other parse error 400 — including ambiguous framing (Content-Length with
 * Transfer-Encoding, or two Content-Lengths), which the strict parser refuses and which is therefore
 * never forwarded. Connection resets get no answer (null).
 */
export function clientErrorReason(err: NodeJS.ErrnoException): ErrorReason | null {
  const code = err.code ?? '';
  if (code === 'ECONNRESET' || code === 'EPIPE') return null;
  if (code === 'HPE_HEADER_OVERFLOW') return 'headers-too-large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request-timeout';
  return 'bad-request';
}

/**
 * Answers the request of a plain-HTTP connection over the worker's connection cap: 503
 * `too-many-connections` with `connection: close`, so the client tries again on a new connection —
 * on another replica or worker, or here once others have closed.
 */
function refusingOverLimit(limit: ConnectionLimit, state: ProxyState, handler: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (!limit.isRefused(req.socket)) return handler(req, res);
    res.shouldKeepAlive = false;
    answerError(state, req, res, performance.now(), 'too-many-connections', null);
  };
}

/**
 * Wraps the request handler: rejects requests with more header fields than allowed (431) before any
 * proxy work, and turns a bug that throws into a 500 for that request instead of a crashed worker
 * (which would drop every other request it is serving).
 */
function guardRequest<Req extends { rawHeaders: string[]; resume(): unknown }, Res extends { headersSent: boolean; destroy(): unknown }>(
  handler: (req: Req, res: Res) => void,
  maxCount: number,
  state: ProxyState,
): (req: Req, res: Res) => void {
  const maxRaw = maxCount * 2;
  return (req, res) => {
    try {
      if (req.rawHeaders.length <= maxRaw) return handler(req, res);
      state.metrics.proxyErrors.labels('headers-too-large').inc();
      writeError(res as unknown as Parameters<typeof writeError>[0], 'headers-too-large', true);
      req.resume();
    } catch (err) {
      state.metrics.proxyErrors.labels('internal-error').inc();
      state.log.error({ err }, 'request handler failed');
      if (res.headersSent) breakResponse(res as unknown as Parameters<typeof breakResponse>[0]);
      else writeError(res as unknown as Parameters<typeof writeError>[0], 'internal-error', true);
    }
  };
}

async function listen(server: Server | Http2SecureServer, host: string, port: number, name: string, claim: boolean): Promise<number> {
  const failed = (err: Error): ListenError => new ListenError(`cannot listen for ${name} on ${host}:${port}: ${err.message}`, { cause: err });
  const free = claim ? await claimPort(host, port).catch((err: Error) => Promise.reject(failed(err))) : port;
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(failed(err));
    server.once('error', onError);
    server.listen({ host, port: free, reusePort: true }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
