/**
 * Entry point of a data-plane worker thread: opens the listeners, serves the newest routing table it
 * was sent, answers metric collections, and stops gracefully when asked.
 */
import type { ServerHttp2Session } from 'node:http2';
import { Server as NetServer } from 'node:net';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { parentPort, resourceLimits, workerData } from 'node:worker_threads';
import { createLogger } from '../../log.ts';
import { createDataplaneMetrics } from '../../metrics/metrics.ts';
import { deepFreeze } from '../../model/freeze.ts';
import type { RoutingTable } from '../../model/table.ts';
import { createAccessLog } from '../lifecycle/access-log.ts';
import { ConnectionLimit } from './connection-limit.ts';
import { Http2Guard } from './http2-guard.ts';
import { openListeners, refreshOwnContext, type Listeners } from './listeners.ts';
import { PortListeners } from './port-listeners.ts';
import { onBindAddress } from './declared-ports.ts';
import { CertificateContexts } from './tls/certificate-contexts.ts';
import { certificateOffer, clientAuthOffer, hostTlsOffer, listenerTlsOffer } from './tls/certificate-offer.ts';
import { prepareTable } from '../lifecycle/prepared-table.ts';
import { RateLimitZones } from '../lifecycle/filters/rate-limit-zone.ts';
import type { ProxyState } from '../lifecycle/proxy-state.ts';
import { ScriptHost } from '../lifecycle/script-host.ts';
import { PauseGates } from '../../pause/pause-gates.ts';
import { releasePauses } from '../lifecycle/pause-release.ts';
import { SniContexts } from './tls/sni-contexts.ts';
import { TrustedProxies } from './trusted-proxies.ts';
import { UpstreamState } from '../upstream/upstream-state.ts';
import { AuthClient } from '../upstream/auth-client.ts';
import { UrlMirrorClient } from '../upstream/url-mirror-client.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';
import { clientAddress } from '../proxy-protocol/client-address.ts';
import { TcpListeners } from '../streams/tcp-listeners.ts';
import { UdpListeners } from '../streams/udp-listeners.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const { config } = init;
const log = createLogger({ level: config.logLevel, bindings: { component: 'dataplane', worker: init.index } });
const metrics = createDataplaneMetrics();
const upstreams = new UpstreamState(metrics.upstreamConnectDuration);
const sni = config.httpsPort !== null && config.defaultCertificate ? new SniContexts(config.defaultCertificate) : null;
// The table's certificates, loaded once for the own HTTPS port and every declared TLS port.
const certificates = new CertificateContexts();
const trusted = new TrustedProxies(config.trustedProxies);
// The RateLimit filters' counts, per worker: they outlive table swaps (docs: RateLimitFilter).
const rateLimits = new RateLimitZones();
// Script health goes to the control plane, which reports it (admin endpoint, status conditions).
const scripts = new ScriptHost(log, metrics, (status) => send({ type: 'script-status', status }), config.scriptStateBytes);
const state: ProxyState = {
  table: null,
  metrics,
  accessLog: createAccessLog(config.accessLog, init.index),
  trusted,
  responseHeadersMs: config.timeouts.responseHeadersMs,
  idleMs: config.timeouts.idleMs,
  connectMs: config.timeouts.connectMs,
  requestBodyIdleMs: config.timeouts.requestBodyIdleMs,
  requestBodyMs: config.timeouts.requestBodyMs,
  streamIdleMs: config.timeouts.streamIdleMs,
  udpIdleMs: config.timeouts.udpIdleMs,
  log,
  clientIpOf: (req) => {
    const peer = clientAddress(req.socket);
    // The table's forwarded-for header (ingress-nginx's real_ip_header), else X-Forwarded-For.
    const chain = req.headers[state.table?.published.table.clientAddressHeader ?? 'x-forwarded-for'];
    return trusted.clientAddress(peer, typeof chain === 'string' ? chain : chain?.join(', '));
  },
  scripts,
  // One pool per worker for the ExternalAuth filters' services, closed at stop.
  externalAuth: new AuthClient(),
  // And one for the UrlMirror filters' copies.
  urlMirrors: new UrlMirrorClient(),
  paths: config.paths,
  pauses: new PauseGates(metrics.pause),
  draining: false,
};
let listeners: Listeners | null = null;
// The table's TCP and UDP ports, opened and closed as tables are swapped.
// One cap (--max-connections) for the HTTP, HTTPS and TCP service connections of the worker.
const connectionLimit = new ConnectionLimit(config.limits.maxConnections);
const tcpListeners = new TcpListeners(state, config.bindAddress, log, connectionLimit);
const udpListeners = new UdpListeners(state, config.bindAddress, config.limits.maxUdpSessions, log);
const h2Sessions = new Set<ServerHttp2Session>();
// The ports the table's HTTP, HTTPS and TLS listeners declare beyond the own two.
// One HTTP/2 guard for every server of the worker: --http2-max-streams-per-worker is the worker's.
const http2Guard = new Http2Guard(config.http2, metrics.http2, log);
const portListeners = new PortListeners({ config, state, limit: connectionLimit, http2Guard }, { bindAddress: config.bindAddress, log, certificates, defaultCertificate: config.defaultCertificate, sessions: h2Sessions });
/** The newest table version reported applied (tables whose scripts load slowly may finish out of order). */
let appliedVersion = 0;
/** Set once the worker stops listening: a table that arrives after opens no port. */
let stopping = false;

/**
 * Past this share of its heap limit the worker asks to be replaced: the pool starts
 * another on the same ports, then drains and stops this one, so its clients finish their requests
 * instead of losing their connections when V8 would stop the thread at the limit.
 */
const RETIRE_HEAP_SHARE = 0.8;
const HEAP_CHECK_MS = 100;
// V8 stops the thread when the old generation is full: its limit is the one given to the Worker
// (heap_size_limit adds the young generation's reserve, about twice as much again at 96 MiB).
const oldGenerationLimit = resourceLimits.maxOldGenerationSizeMb ? resourceLimits.maxOldGenerationSizeMb * 1024 * 1024 : getHeapStatistics().heap_size_limit;
let heapOver = 0;
const heapWatch = setInterval(() => {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) if (!space.space_name.startsWith('new_')) used += space.space_used_size;
  const limit = oldGenerationLimit;
  heapOver = used > RETIRE_HEAP_SHARE * limit ? heapOver + 1 : 0;
  if (heapOver !== 1) return;
  log.warn({ usedBytes: used, limitBytes: limit }, 'worker heap nearly full; asking to be replaced');
  send({ type: 'retiring', usedBytes: used, limitBytes: limit });
}, HEAP_CHECK_MS).unref();

/**
 * Points the own HTTPS port at the certificates `table` offers there and opens and closes the
 * ports it declares; a no-op until the own ports listen (then it runs for the table of the moment).
 */
function syncTlsAndPorts(table: RoutingTable): Promise<void> {
  if (listeners === null || stopping) return Promise.resolve();
  if (sni !== null && listeners.https !== null && listeners.ports.https !== null) {
    const place = { port: listeners.ports.https, own: true };
    sni.update(certificates, certificateOffer(table, place), clientAuthOffer(table, place), hostTlsOffer(table, place), listenerTlsOffer(table, place));
    refreshOwnContext(listeners.https, sni);
  }
  return portListeners.sync(table, listeners.ports);
}

function send(message: FromWorker): void {
  port.postMessage(message);
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'table': {
      const started = performance.now();
      // A listener whose address is --bind's is served by the sockets of --bind (declared-ports.ts).
      const published = { ...message.published, table: onBindAddress(message.published.table, config.bindAddress) };
      // A structured-clone copy: freeze it again, as it was when published.
      const prepared = prepareTable(deepFreeze(published), upstreams, metrics, state, scripts, rateLimits);
      const { table } = published;
      certificates.update(table.certificates);
      state.table = prepared;
      upstreams.retain(prepared.keys);
      if (prepared.scripts !== null) scripts.commit(prepared.scripts);
      releasePauses(state.pauses!, prepared);
      // Applied once its new scripts have loaded (off the event loop; until then their previous
      // versions serve), so that "applied" means every route runs what the table says.
      // ... and its TCP, UDP and declared ports listen (or failed to, logged).
      const ports = stopping ? [] : [tcpListeners.sync(prepared.streams), udpListeners.sync(prepared.streams), syncTlsAndPorts(table)];
      void Promise.all([...[...(prepared.scripts?.loaded.values() ?? [])].map((loaded) => loaded.ready), ...ports]).then(() => {
        if (prepared.version <= appliedVersion) return;
        appliedVersion = prepared.version;
        metrics.workerTableVersion.set(prepared.version);
        log.debug({ version: prepared.version, ms: Math.round(performance.now() - started) }, 'table applied');
        send({ type: 'table-applied', version: prepared.version });
      });
      break;
    }
    case 'health':
      upstreams.setUnhealthy(new Set(message.unhealthy));
      break;
    case 'metrics':
      scripts.reportState();
      metrics.collect().then((data) => send({ type: 'metrics', id: message.id, data }));
      break;
    case 'drain':
      state.draining = true;
      // HTTP/2 clients get GOAWAY now: streams in flight finish, new ones go to a new connection.
      for (const session of h2Sessions) session.close();
      break;
    case 'unlisten':
      // net.Server's own close: it only closes the listening socket, where http.Server's also
      // closes idle keep-alive connections, whose clients may be sending on them right now.
      for (const server of [listeners?.http, listeners?.https]) if (server?.listening) NetServer.prototype.close.call(server);
      stopping = true;
      tcpListeners.close();
      udpListeners.close();
      portListeners.unlisten();
      break;
    case 'stop':
      void stop(message.graceMs);
      break;
  }
});

/** Stops accepting, lets requests in flight finish for up to `graceMs`, then closes everything. */
async function stop(graceMs: number): Promise<void> {
  clearInterval(heapWatch);
  stopping = true;
  tcpListeners.close();
  udpListeners.close();
  // Held requests are told to retry (503, Retry-After) now, while another replica can take them.
  state.pauses?.stop();
  const closing: Promise<void>[] = [];
  const declared = portListeners.detach();
  for (const server of [listeners?.http, listeners?.https, ...declared]) {
    if (server) closing.push(new Promise((resolve) => server.close(() => resolve())));
  }
  // HTTP/2 sessions get GOAWAY: streams in flight finish, no new ones start.
  for (const session of h2Sessions) session.close();
  // Keep-alive connections become idle as their last response ends; close each as soon as it does.
  const closeIdle = (): void => {
    for (const server of [listeners?.http, listeners?.https, ...declared]) (server as unknown as { closeIdleConnections?: () => void } | null)?.closeIdleConnections?.();
  };
  closeIdle();
  const sweeper = setInterval(closeIdle, 50);
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
  await Promise.race([Promise.all(closing), deadline]);
  clearInterval(sweeper);
  listeners?.http.closeAllConnections();
  for (const server of declared) (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  for (const session of h2Sessions) session.destroy();
  await upstreams.destroyAll();
  await state.externalAuth?.close();
  await state.urlMirrors?.close();
  await scripts.dispose();
  state.accessLog.flush();
  send({ type: 'stopped' });
  port.close();
}

try {
  listeners = await openListeners(config, state, sni, init.ports, init.claim, connectionLimit, http2Guard);
  // The HTTP port's sessions are those of HTTP/2 with prior knowledge (listeners.ts).
  for (const server of [listeners.http, listeners.https]) {
    server?.on('session', (session: ServerHttp2Session) => {
      h2Sessions.add(session);
      session.once('close', () => h2Sessions.delete(session));
    });
  }
  // A table that arrived while the own ports were opening: its certificates and declared ports now.
  if (state.table !== null) await syncTlsAndPorts(state.table.published.table);
  send({ type: 'listening', ports: listeners.ports });
} catch (err) {
  send({ type: 'fatal', message: (err as Error).message });
  port.close();
}
