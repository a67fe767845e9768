/**
 * The ports the routing table's HTTP, HTTPS and TLS listeners declare (a Gateway's
 * `listeners[].port`), beyond the data plane's own two: opened and closed as tables are swapped, in
 * every worker with SO_REUSEPORT, each built like the own ports (listeners.ts: the same connection
 * cap, PROXY protocol acceptance, timeouts and HTTP/2 settings). A port the table drops drains: it
 * stops accepting, its HTTP/2 clients get GOAWAY, its keep-alive connections close once idle, and
 * the requests in flight on it finish. A port the system refuses (EADDRINUSE, EACCES) is logged and
 * counted, the other ports and the table serve on, and the next table that has it tries again.
 *
 * Unlike the own ports at start-up (port-claim.ts), a declared port is not first probed for another
 * process: the workers open it at the same moment, and each one's probe would find its siblings.
 * A process bound without SO_REUSEPORT is still refused (EADDRINUSE), which is the common case.
 *
 * Listeners with an address of their own (Listener.address) get sockets the same way, keyed by
 * address and port and bound to that address: beside the own sockets on a wildcard `--bind` of the
 * same port, since both bind with SO_REUSEPORT, and Linux gives a connection to the socket bound to
 * its exact destination address before the wildcard one. An address the system will not bind
 * (EADDRNOTAVAIL: not on this host) is logged, counted and tried again like a refused port.
 */
import type { Server } from 'node:http';
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import { Server as NetServer } from 'node:net';
import type { Logger } from '../../log.ts';
import type { RoutingTable } from '../../model/table.ts';
import type { ListenerInfo } from '../lifecycle/proxy-state.ts';
import { declaredPorts, socketKey, type DeclaredSocket, type OwnPorts, type PortKind } from './declared-ports.ts';
import { createHttpServer, createHttpsServer, listenOn, refreshOwnContext, type ServerDeps } from './listeners.ts';
import type { CertificateContexts } from './tls/certificate-contexts.ts';
import { certificateOffer, clientAuthOffer, hostTlsOffer, listenerTlsOffer } from './tls/certificate-offer.ts';
import { SniContexts, type PemPair } from './tls/sni-contexts.ts';

/** How often a draining port looks for keep-alive connections that went idle. */
const IDLE_SWEEP_MS = 100;

/** What {@link PortListeners} shares with the rest of its worker. */
export interface PortListenersOptions {
  readonly bindAddress: string;
  readonly log: Logger;
  /** The worker's table certificates, updated before each {@link PortListeners.sync}. */
  readonly certificates: CertificateContexts;
  /** The data plane's default certificate: the last resort of a TLS port's handshakes. */
  readonly defaultCertificate: PemPair | null;
  /** The worker's HTTP/2 sessions (told GOAWAY when it drains): this adds those of its ports. */
  readonly sessions: Set<ServerHttp2Session>;
}

interface OpenPort {
  readonly kind: PortKind;
  /** Its key (declared-ports.ts socketKey): the label of its metrics. */
  readonly key: string;
  /** Whether it also serves its address's listeners with port null: fixed when it opens. */
  readonly portNull: boolean;
  readonly info: ListenerInfo;
  readonly server: Server | Http2SecureServer;
  readonly sni: SniContexts | null;
  readonly sessions: Set<ServerHttp2Session>;
  listening: boolean;
}

/** The declared ports of one worker, and the sockets of its listeners' addresses. */
export class PortListeners {
  readonly #deps: ServerDeps;
  readonly #options: PortListenersOptions;
  /** By socketKey: the port alone on the bind address, address and port otherwise. */
  readonly #ports = new Map<string, OpenPort>();
  /** The misplaced listeners of the last table, so each is logged and counted once, not per swap. */
  #misplaced = new Set<string>();
  #stopped = false;

  constructor(deps: ServerDeps, options: PortListenersOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /**
   * Opens the ports `table` declares that are not open yet, closes (drains) those it no longer has
   * or now serves another kind, and points the TLS ports at the table's certificates. Resolves once
   * every new port listens or failed to.
   */
  async sync(table: RoutingTable, own: OwnPorts): Promise<void> {
    if (this.#stopped) return;
    const { sockets, misplaced } = declaredPorts(table, own);
    this.#report(misplaced);
    for (const [key, open] of this.#ports) {
      const wanted = sockets.get(key);
      if (wanted !== undefined && wanted.kind === open.kind && wanted.portNull === open.portNull) continue;
      this.#ports.delete(key);
      this.#drain(open);
    }
    const opening: Promise<void>[] = [];
    for (const [key, socket] of sockets) {
      const open = this.#ports.get(key);
      if (open === undefined) opening.push(this.#open(table, key, socket));
      else this.#offer(table, open);
    }
    await Promise.all(opening);
  }

  /** Stops accepting on every port (net.Server's close: keep-alive connections stay); no port opens again. */
  unlisten(): void {
    this.#stopped = true;
    // net.Server's own close: http.Server's would also close idle keep-alive connections, whose
    // clients may be sending on them right now (the worker's 'unlisten' does the same).
    for (const open of this.#ports.values()) if (open.server.listening) NetServer.prototype.close.call(open.server);
  }

  /** Stops for good, handing the servers to the worker's own shutdown (grace, idle sweeps, last close). */
  detach(): (Server | Http2SecureServer)[] {
    this.#stopped = true;
    const servers = [...this.#ports.values()].map((open) => open.server);
    for (const open of this.#ports.values()) this.#closed(open);
    this.#ports.clear();
    return servers;
  }

  #offer(table: RoutingTable, open: OpenPort): void {
    if (open.sni === null) return;
    open.sni.update(this.#options.certificates, certificateOffer(table, open.info), clientAuthOffer(table, open.info), hostTlsOffer(table, open.info), listenerTlsOffer(table, open.info));
    refreshOwnContext(open.server as Http2SecureServer, open.sni);
  }

  async #open(table: RoutingTable, key: string, socket: DeclaredSocket): Promise<void> {
    const { log } = this.#options;
    const { port, kind, address } = socket;
    const info: ListenerInfo = address === null
      ? { name: `${kind}-${port}`, proto: kind, port, own: false }
      : { name: `${kind}-${address}-${port}`, proto: kind, port, own: false, address, portNull: socket.portNull };
    const host = address ?? this.#options.bindAddress;
    let sni: SniContexts | null = null;
    let server: Server | Http2SecureServer;
    if (kind === 'https') {
      sni = new SniContexts(this.#options.defaultCertificate);
      sni.update(this.#options.certificates, certificateOffer(table, info), clientAuthOffer(table, info), hostTlsOffer(table, info), listenerTlsOffer(table, info));
      server = createHttpsServer(this.#deps, info, sni);
    } else server = createHttpServer(this.#deps, info);
    const open: OpenPort = { kind, key, portNull: socket.portNull, info, server, sni, sessions: new Set(), listening: false };
    // HTTP/2 sessions: over TLS, and on an HTTP port those of HTTP/2 with prior knowledge (listeners.ts).
    server.on('session', (session: ServerHttp2Session) => {
      open.sessions.add(session);
      this.#options.sessions.add(session);
      session.once('close', () => {
        open.sessions.delete(session);
        this.#options.sessions.delete(session);
      });
    });
    this.#ports.set(key, open);
    const where = address === null ? { port } : { address, port };
    try {
      await listenOn(server, host, port, info.name);
    } catch (err) {
      const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
      const reason = cause?.code ?? 'error';
      log.error({ ...where, listener: info.name, protocol: kind, reason, err: cause?.message ?? (err as Error).message }, 'cannot listen on a port the table declares; retried with the next table');
      this.#deps.state.metrics.listenerErrors.labels(key, reason).inc();
      if (this.#ports.get(key) === open) this.#ports.delete(key);
      return;
    }
    if (this.#ports.get(key) !== open) {
      // Dropped (or stopped) while it was opening: close it at once, it has no connection yet.
      server.close();
      return;
    }
    open.listening = true;
    this.#deps.state.metrics.listenerPorts.labels(key, kind).inc();
    log.info({ ...where, listener: info.name, protocol: kind }, 'listening on a port the table declares');
  }

  /**
   * Closes a port the table no longer declares without cutting a request short: no new connection,
   * GOAWAY to its HTTP/2 clients, `Connection: close` on the responses still to be written, and
   * each keep-alive connection closed as soon as it is idle, until the last one has gone.
   */
  #drain(open: OpenPort): void {
    const { server } = open;
    if (!open.listening) return; // still opening: #open closes it once bound
    this.#closed(open);
    this.#options.log.info({ listener: open.info.name, port: open.info.port, protocol: open.kind }, 'closing a port the table no longer declares');
    server.prependListener('request', (_req: unknown, res: { shouldKeepAlive?: boolean }) => {
      res.shouldKeepAlive = false;
    });
    // Node's HTTP/2 server has it too (for its HTTP/1.1 connections), untyped.
    const closeIdle = (server as Server).closeIdleConnections.bind(server);
    const sweep = setInterval(closeIdle, IDLE_SWEEP_MS).unref();
    server.close(() => clearInterval(sweep));
    for (const session of open.sessions) session.close();
  }

  #closed(open: OpenPort): void {
    if (!open.listening) return;
    open.listening = false;
    this.#deps.state.metrics.listenerPorts.labels(open.key, open.kind).dec();
  }

  #report(misplaced: ReadonlyMap<number, readonly string[]>): void {
    const now = new Set<string>();
    for (const [port, names] of misplaced) {
      for (const name of names) {
        const key = `${port} ${name}`;
        now.add(key);
        if (this.#misplaced.has(key)) continue;
        this.#options.log.error({ port, listener: name }, "a listener's protocol is not that of the data plane's own port it names: not served");
        this.#deps.state.metrics.listenerErrors.labels(socketKey(null, port), 'own-port-protocol').inc();
      }
    }
    this.#misplaced = now;
  }
}
