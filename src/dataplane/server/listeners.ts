import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { toAnotherAddress } from '../lifecycle/socket-listeners.ts';
import { createSecureServer, createServer as createCleartextServer, type Http2SecureServer, type ServerHttp2Session, type ServerOptions as Http2ServerOptions } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { DataplaneConfig } from '../../config/dataplane-config.ts';
import { ListenError } from '../../errors.ts';
import { breakResponse } from '../lifecycle/client-gone.ts';
import { account } from '../lifecycle/accounting.ts';
import { answerError } from '../lifecycle/answers.ts';
import { holdContinue } from '../lifecycle/expect-continue.ts';
import { ConnectionLimit } from './connection-limit.ts';
import { writeError, writeRawError, type ErrorReason } from '../lifecycle/error-responses.ts';
import { claimPort } from './port-claim.ts';
import { Http2Guard, http2ServerOptions } from './http2-guard.ts';
import { createProxyHandler } from '../lifecycle/proxy.ts';
import type { ListenerInfo, ProxyState } from '../lifecycle/proxy-state.ts';
import { isHandedBack } from './socket-handback.ts';
import { sniffPriorKnowledge } from './h2c-preface.ts';
import { acceptProxyProtocol } from '../proxy-protocol/accept.ts';
import type { SniContexts } from './tls/sni-contexts.ts';
import { createUpgradeHandler } from '../lifecycle/upgrade.ts';
import { routePassthrough } from '../streams/passthrough.ts';
import { clientAuthHandshakes } from './tls/client-auth-handshakes.ts';
import { handshakeOptions, hostTlsHandshakes } from './tls/host-tls-handshakes.ts';
import { hostTlsParametersKey } from '../../model/tls-parameters.ts';

const MIN_TLS_VERSION = 'TLSv1.2';

/** The traffic listeners of one worker. */
export interface Listeners {
  readonly http: Server;
  readonly https: Http2SecureServer | null;
  /** The ports actually bound (useful when the configured port was 0). */
  readonly ports: { readonly http: number; readonly https: number | null };
}

/** What every traffic server of a worker shares. */
export interface ServerDeps {
  readonly config: DataplaneConfig;
  readonly state: ProxyState;
  /** The worker's connection cap (--max-connections), shared by all its servers and TCP service ports. */
  readonly limit: ConnectionLimit;
  /**
   * The worker's HTTP/2 guard, shared by all its servers (HTTPS, and h2c on the plain HTTP ones), so
   * that --http2-max-streams-per-worker counts the streams of every port together.
   */
  readonly http2Guard: Http2Guard;
}

/**
 * Opens the HTTP listener and, unless turned off, the HTTPS listener (HTTP/2 and HTTP/1.1 offered by
 * ALPN, certificate chosen by SNI) on the data plane's own ports. Both bind with SO_REUSEPORT so that
 * every worker thread listens on the same ports and the kernel spreads connections across them. With
 * `claim` (the first worker of a process) each port is first checked to be free of any other process
 * (see port-claim.ts). `limit` caps the connections of both (and of whatever else shares it: the TCP
 * service ports and the ports the table declares); `http2Guard` bounds their HTTP/2 clients likewise.
 */
export async function openListeners(
  config: DataplaneConfig,
  state: ProxyState,
  sni: SniContexts | null,
  ports: { http: number; https: number | null },
  claim = false,
  limit = new ConnectionLimit(config.limits.maxConnections),
  http2Guard = new Http2Guard(config.http2, state.metrics.http2, state.log),
): Promise<Listeners> {
  const deps: ServerDeps = { config, state, limit, http2Guard };
  const httpPort = await resolvePort(config.bindAddress, ports.http, 'http', claim);
  // Known before the plain-HTTP socket is built: its redirects to HTTPS may name the port.
  const httpsPort = ports.https !== null && sni !== null ? await resolvePort(config.bindAddress, ports.https, 'https', claim) : null;
  const http = createHttpServer(deps, { name: 'http', proto: 'http', port: httpPort, own: true, ...(httpsPort === null ? {} : { httpsPort }) });
  await listenOn(http, config.bindAddress, httpPort, 'http');
  let https: Http2SecureServer | null = null;
  if (httpsPort !== null && sni !== null) {
    https = createHttpsServer(deps, { name: 'https', proto: 'https', port: httpsPort, own: true }, sni);
    await listenOn(https, config.bindAddress, httpsPort, 'https');
  }
  return { http, https, ports: { http: httpPort, https: httpsPort } };
}

/**
 * Builds a plain-HTTP traffic server for the socket `info` (not listening yet): the request-head
 * limits and timeouts, the connection cap (over it: 503 `too-many-connections`), PROXY protocol
 * acceptance, and the proxy and upgrade handlers, which route on the listeners `info` serves. With
 * `--http2-cleartext` a connection that starts with the HTTP/2 preface is served HTTP/2 (see
 * {@link servePriorKnowledge}); the server then emits 'session' with each such HTTP/2 session.
 */
export function createHttpServer(deps: ServerDeps, info: ListenerInfo): Server {
  const { config, state, limit } = deps;
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
  // Before configureHttp1, so that the connection cap and PROXY acceptance run before the preface is looked for.
  if (config.http2Cleartext) servePriorKnowledge(http, deps, info);
  configureHttp1(http, config, state, info, limit);
  http.on('request', refusingOverLimit(limit, state, guardRequest(createProxyHandler(state, info), limits.maxHeaderCount, state)));
  holdContinue(http);
  const upgrade = createUpgradeHandler(state, info, { server: http, connectMs: timeouts.connectMs, maxHeaderCount: limits.maxHeaderCount });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!limit.isRefused(socket)) return upgrade(req, socket, head);
    state.metrics.proxyErrors.labels('too-many-connections').inc();
    writeRawError(socket, 'too-many-connections');
    account(state, req, 503, 0, performance.now(), null, null, 'too-many-connections');
  });
  return http;
}

/**
 * Serves HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) on the plain-HTTP `http`: a connection
 * whose first bytes are the HTTP/2 preface goes to a cleartext node:http2 server with the settings,
 * guard and request handler of the TLS one (only `info.proto` differs: X-Forwarded-Proto http).
 * Its sessions are announced as `http`'s 'session' events, so that a drain or a stop of `http`
 * sends them GOAWAY as it does to the TLS server's. A connection over the cap that sends the preface
 * is closed, as over TLS: there is no HTTP/1.1 request to answer 503. (`Upgrade: h2c`, the RFC 7540
 * way in that RFC 9113 removed, stays refused by the upgrade handler.)
 */
function servePriorKnowledge(http: Server, deps: ServerDeps, info: ListenerInfo): void {
  const { config, state, limit } = deps;
  const { timeouts, limits } = config;
  const h2c = createCleartextServer(http2ServerOptions(config.http2, limits) as Http2ServerOptions);
  h2c.on('request', guardRequest(createProxyHandler(state, info), limits.maxHeaderCount, state));
  holdContinue(h2c);
  h2c.on('sessionError', () => {});
  h2c.on('session', deps.http2Guard.attach);
  h2c.on('session', (session: ServerHttp2Session) => http.emit('session', session));
  // As configureHttp1 sets it on the TLS server, whose HTTP/2 sessions it bounds the same way.
  if (timeouts.idleMs > 0) h2c.setTimeout(timeouts.idleMs);
  sniffPriorKnowledge(http, {
    timeoutMs: timeouts.requestHeadersMs,
    bypass: isHandedBack,
    h2: (socket: Socket) => {
      if (limit.isRefused(socket)) return void socket.destroy();
      h2c.emit('connection', socket);
    },
    incomplete: (socket, why) => {
      state.metrics.proxyErrors.labels(why).inc();
      writeRawError(socket, why);
    },
  });
}

/**
 * Builds a TLS traffic server for the socket `info` (not listening yet): TLS passthrough by SNI
 * first (passthrough.ts), else termination with the certificate `sni` chooses (asking for a client
 * certificate when the SNI name's host checks one), HTTP/2 and HTTP/1.1
 * offered by ALPN, with the same limits, cap and PROXY protocol acceptance as plain HTTP. A handshake
 * without SNI gets `sni`'s no-SNI certificate, and every handshake the socket's TLS parameters (both
 * kept current by {@link refreshOwnContext}).
 */
export function createHttpsServer(deps: ServerDeps, info: ListenerInfo, sni: SniContexts): Http2SecureServer {
  const { config, state, limit } = deps;
  const { timeouts, limits } = config;
  const own = ownContext(sni);
  const https = createSecureServer({
    allowHTTP1: true,
    SNICallback: sni.callback,
    ...http2ServerOptions(config.http2, limits),
    maxHeaderSize: limits.maxHeaderBytes,
    ...own.options,
  } as Parameters<typeof createSecureServer>[0]);
  ownContexts.set(https, own.key);
  // Before configureHttp1, so that the connection cap and PROXY acceptance run before it.
  // A host that checks client certificates gets a handshake that asks for one (client-auth-handshakes.ts).
  const handshakes = clientAuthHandshakes(https, sni, { minVersion: MIN_TLS_VERSION, timeoutMs: timeouts.requestHeadersMs });
  // A host with TLS parameters of its own (ssl-ciphers) gets a handshake made with them (host-tls-handshakes.ts).
  const tuned = hostTlsHandshakes(https, sni, { minVersion: MIN_TLS_VERSION, timeoutMs: timeouts.requestHeadersMs });
  routePassthrough(https as unknown as import('node:net').Server, state, timeouts.requestHeadersMs, info, { sni, handshakes, tuned });
  configureHttp1(https as unknown as Server, config, state, info, limit);
  https.on('request', guardRequest(createProxyHandler(state, info), limits.maxHeaderCount, state));
  holdContinue(https);
  https.on('upgrade', createUpgradeHandler(state, info, { server: https, connectMs: timeouts.connectMs, maxHeaderCount: limits.maxHeaderCount }));
  https.on('sessionError', () => {});
  https.on('session', deps.http2Guard.attach);
  return https;
}

/** What each TLS server's own context now holds (its key in {@link ownContext}). */
const ownContexts = new WeakMap<Http2SecureServer, string>();

/**
 * The options of a TLS server's own context: the certificate of handshakes without SNI, and the
 * socket's TLS parameters (ingress-nginx's `ssl-protocols`, `ssl-ciphers`), which OpenSSL takes
 * from this context for every handshake the server makes, whichever certificate SNI then chooses.
 * With its key, to tell whether a swap changed it.
 */
function ownContext(sni: SniContexts): { readonly options: ReturnType<typeof handshakeOptions> & { cert?: string; key?: string }; readonly key: string } {
  const pair = sni.noSniPair;
  const parameters = sni.listenerTlsParameters;
  const options = { ...handshakeOptions(parameters, MIN_TLS_VERSION), ...(pair === null ? {} : { cert: pair.certPem, key: pair.keyPem }) };
  return { options, key: `${pair?.certPem ?? ''}\0${pair?.keyPem ?? ''}\0${parameters === null ? '' : hostTlsParametersKey(parameters)}` };
}

/**
 * Makes `server`'s own context what `sni` now says, after a table swap: the certificate of
 * handshakes without SNI (with none, such a handshake fails) and the socket's TLS parameters. A
 * no-op unless it changed, since setting it builds a secure context. (setSecureContext resets every
 * context option it is not given: hence minVersion.) Connections already made keep theirs.
 */
export function refreshOwnContext(server: Http2SecureServer, sni: SniContexts): void {
  const own = ownContext(sni);
  if (ownContexts.get(server) === own.key) return;
  server.setSecureContext(own.options);
  ownContexts.set(server, own.key);
}

/** Settings and events shared by the HTTP/1 side of every server, and the connection cap. */
function configureHttp1(server: Server, config: DataplaneConfig, state: ProxyState, info: ListenerInfo, limit: ConnectionLimit): void {
  // The metrics label: `http` and `https` for the own ports, the socket's name for a declared one.
  const listener = info.name;
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
    // A Gateway's own address on a port that Gateway has no listener on: this socket's listeners are not its.
    if (info.address === undefined && toAnotherAddress((socket as Socket).localAddress, state.table?.addresses ?? NO_ADDRESSES)) {
      state.metrics.connectionsRefused.labels(listener).inc();
      socket.destroy();
      return;
    }
    if (!limit.admit(socket)) {
      state.metrics.connectionsRefused.labels(listener).inc();
      if (info.proto === 'https' || !limit.refuse(socket)) socket.destroy();
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

const NO_ADDRESSES: ReadonlySet<string> = new Set();

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

/**
 * The port a server of `name` binds: `port` itself, after making sure with `claim` that no other
 * process holds it (port-claim.ts), which also turns port 0 into the free port the kernel picks.
 */
async function resolvePort(host: string, port: number, name: string, claim: boolean): Promise<number> {
  if (!claim && port !== 0) return port;
  return claimPort(host, port).catch((err: Error) => Promise.reject(listenFailed(name, host, port, err)));
}

/**
 * Binds `server` to `host:port` with SO_REUSEPORT, shared with the worker's siblings. Rejects with a
 * {@link ListenError} whose `cause` is the system's error (its `code`: EADDRINUSE, EACCES).
 */
export function listenOn(server: Server | Http2SecureServer, host: string, port: number, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(listenFailed(name, host, port, err));
    server.once('error', onError);
    server.listen({ host, port, reusePort: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function listenFailed(name: string, host: string, port: number, err: Error): ListenError {
  return new ListenError(`cannot listen for ${name} on ${host}:${port}: ${err.message}`, { cause: err });
}
