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
 */
import type { Server } from 'node:http';
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import { Server as NetServer } from 'node:net';
import type { Logger } from '../../log.ts';
import type { RoutingTable } from '../../model/table.ts';
import type { ListenerInfo } from '../lifecycle/proxy-state.ts';
import { declaredPorts, type OwnPorts, type PortKind } from './declared-ports.ts';
import { createHttpServer, createHttpsServer, listenOn, refreshNoSniCertificate, type ServerDeps } from './listeners.ts';
import type { CertificateContexts } from './tls/certificate-contexts.ts';
import { certificateOffer } from './tls/certificate-offer.ts';
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
  readonly info: ListenerInfo;
  readonly server: Server | Http2SecureServer;
  readonly sni: SniContexts | null;
  readonly sessions: Set<ServerHttp2Session>;
  listening: boolean;
}

/** The declared ports of one worker. */
export class PortListeners {
  readonly #deps: ServerDeps;
  readonly #options: PortListenersOptions;
  readonly #ports = new Map<number, OpenPort>();
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
    const { ports, misplaced } = declaredPorts(table, own);
    this.#report(misplaced);
    for (const [port, open] of this.#ports) {
      if (ports.get(port) === open.kind) continue;
      this.#ports.delete(port);
      this.#drain(port, open);
    }
    const opening: Promise<void>[] = [];
    for (const [port, kind] of ports) {
      const open = this.#ports.get(port);
      if (open === undefined) opening.push(this.#open(table, port, kind));
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
    open.sni.update(this.#options.certificates, certificateOffer(table, open.info.port, false));
    refreshNoSniCertificate(open.server as Http2SecureServer, open.sni);
  }

  async #open(table: RoutingTable, port: number, kind: PortKind): Promise<void> {
    const { log, bindAddress } = this.#options;
    const info: ListenerInfo = { name: `${kind}-${port}`, proto: kind, port, own: false };
    let sni: SniContexts | null = null;
    let server: Server | Http2SecureServer;
    if (kind === 'https') {
      sni = new SniContexts(this.#options.defaultCertificate);
      sni.update(this.#options.certificates, certificateOffer(table, port, false));
      server = createHttpsServer(this.#deps, info, sni);
    } else server = createHttpServer(this.#deps, info);
    const open: OpenPort = { kind, info, server, sni, sessions: new Set(), listening: false };
    // HTTP/2 sessions: over TLS, and on an HTTP port those of HTTP/2 with prior knowledge (listeners.ts).
    server.on('session', (session: ServerHttp2Session) => {
      open.sessions.add(session);
      this.#options.sessions.add(session);
      session.once('close', () => {
        open.sessions.delete(session);
        this.#options.sessions.delete(session);
      });
    });
    this.#ports.set(port, open);
    try {
      await listenOn(server, bindAddress, port, info.name);
    } catch (err) {
      const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
      const reason = cause?.code ?? 'error';
      log.error({ port, protocol: kind, reason, err: cause?.message ?? (err as Error).message }, 'cannot listen on a port the table declares; retried with the next table');
      this.#deps.state.metrics.listenerErrors.labels(String(port), reason).inc();
      if (this.#ports.get(port) === open) this.#ports.delete(port);
      return;
    }
    if (this.#ports.get(port) !== open) {
      // Dropped (or stopped) while it was opening: close it at once, it has no connection yet.
      server.close();
      return;
    }
    open.listening = true;
    this.#deps.state.metrics.listenerPorts.labels(String(port), kind).inc();
    log.info({ port, protocol: kind }, 'listening on a port the table declares');
  }

  /**
   * Closes a port the table no longer declares without cutting a request short: no new connection,
   * GOAWAY to its HTTP/2 clients, `Connection: close` on the responses still to be written, and
   * each keep-alive connection closed as soon as it is idle, until the last one has gone.
   */
  #drain(port: number, open: OpenPort): void {
    const { server } = open;
    if (!open.listening) return; // still opening: #open closes it once bound
    this.#closed(open);
    this.#options.log.info({ port, protocol: open.kind }, 'closing a port the table no longer declares');
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
    this.#deps.state.metrics.listenerPorts.labels(String(open.info.port), open.kind).dec();
  }

  #report(misplaced: ReadonlyMap<number, readonly string[]>): void {
    const now = new Set<string>();
    for (const [port, names] of misplaced) {
      for (const name of names) {
        const key = `${port} ${name}`;
        now.add(key);
        if (this.#misplaced.has(key)) continue;
        this.#options.log.error({ port, listener: name }, "a listener's protocol is not that of the data plane's own port it names: not served");
        this.#deps.state.metrics.listenerErrors.labels(String(port), 'own-port-protocol').inc();
      }
    }
    this.#misplaced = now;
  }
}
