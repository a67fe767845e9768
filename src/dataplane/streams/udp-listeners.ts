/**
 * The UDP ports of the routing table (`udp-services`). UDP has no connections, so each client
 * address (address and port) gets a session: an upstream socket connected to one endpoint, chosen
 * when its first datagram arrives. Datagrams go both ways through it; a session without a datagram
 * either way for the idle timeout is forgotten, and a worker keeps at most `maxSessions` per port
 * (a new client past it has its datagrams dropped, counted).
 *
 * Every worker binds each port with SO_REUSEPORT (dgram `reusePort`, Node.js 23.1 and later):
 * Linux picks the socket by a hash of the client's address, so one client keeps reaching the
 * worker that holds its session.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../../log.ts';
import type { ProxyState } from '../lifecycle/proxy-state.ts';
import { pickCluster, streamSockets, type PreparedStreams } from './prepared-streams.ts';

interface Session {
  readonly upstream: Socket;
  readonly timer: NodeJS.Timeout;
  readonly listener: string;
  /**
   * Datagrams that arrived before the upstream socket finished connecting (a dgram socket cannot
   * send without an address until then); null once connected.
   */
  pending: Buffer[] | null;
}

/** Most datagrams a session holds while its upstream socket connects; later ones are dropped. */
const MAX_PENDING = 64;

/** One UDP port of one worker: its socket and its sessions. */
class UdpPort {
  readonly socket: Socket;
  readonly sessions = new Map<string, Session>();
  readonly #state: ProxyState;
  readonly #port: number;
  readonly #max: number;

  constructor(socket: Socket, port: number, state: ProxyState, maxSessions: number) {
    this.socket = socket;
    this.#port = port;
    this.#state = state;
    this.#max = maxSessions;
    socket.on('message', (msg, rinfo) => this.#fromClient(msg, rinfo));
  }

  #fromClient(msg: Buffer, client: RemoteInfo): void {
    const key = `${client.address} ${client.port}`;
    let session = this.sessions.get(key);
    const route = this.#state.table?.streams.udp.get(this.#port);
    const metrics = this.#state.metrics.streams;
    if (session === undefined) {
      if (route === undefined) return;
      if (this.sessions.size >= this.#max) {
        metrics.refused.labels(route.listener, 'session-limit').inc();
        return;
      }
      const cluster = pickCluster(route);
      const endpoint = cluster?.hasEndpoints ? cluster.pick(cluster.hashing ? client.address : null) : null;
      if (cluster === null || endpoint === null || endpoint === undefined) {
        metrics.refused.labels(route.listener, 'no-endpoint').inc();
        return;
      }
      const upstream = createSocket(isIPv6(endpoint.address) ? 'udp6' : 'udp4');
      const listener = route.listener;
      const timer = setTimeout(() => {
        metrics.idleCloses.labels(listener).inc();
        this.#end(key);
      }, route.idleMs);
      session = { upstream, timer, listener, pending: [] };
      this.sessions.set(key, session);
      metrics.connections.labels(listener, cluster.name).inc();
      metrics.active.labels(listener).inc();
      const current = session;
      upstream.on('message', (reply) => {
        current.timer.refresh();
        metrics.bytes.labels(listener, 'downstream').inc(reply.length);
        this.socket.send(reply, client.port, client.address);
      });
      // A connected UDP socket reports the endpoint's ICMP port unreachable as an error: the
      // endpoint is not there, which passive outlier detection counts like a refused connect.
      upstream.on('error', () => {
        metrics.connectFailures.labels(cluster.name).inc();
        cluster.recordOutcome(endpoint, true, performance.now());
        this.#end(key);
      });
      // Connected, so that only the endpoint's datagrams come back and its ICMP errors are seen.
      upstream.connect(endpoint.port, endpoint.address, () => {
        const queued = current.pending ?? [];
        current.pending = null;
        for (const datagram of queued) this.#send(current, datagram);
      });
    } else session.timer.refresh();
    if (session.pending !== null) {
      if (session.pending.length < MAX_PENDING) session.pending.push(msg);
      return;
    }
    this.#send(session, msg);
  }

  #send(session: Session, msg: Buffer): void {
    this.#state.metrics.streams.bytes.labels(session.listener, 'upstream').inc(msg.length);
    session.upstream.send(msg);
  }

  #end(key: string): void {
    const session = this.sessions.get(key);
    if (session === undefined) return;
    this.sessions.delete(key);
    clearTimeout(session.timer);
    this.#state.metrics.streams.active.labels(session.listener).dec();
    try {
      session.upstream.close();
    } catch {
      // Already closed.
    }
  }

  close(): void {
    for (const key of [...this.sessions.keys()]) this.#end(key);
    try {
      this.socket.close();
    } catch {
      // Never bound.
    }
  }
}

/** The UDP listeners of one worker. */
export class UdpListeners {
  /** By `address|port`: a listener with an address of its own is bound to it, the others to the bind address. */
  readonly #ports = new Map<string, UdpPort>();
  readonly #state: ProxyState;
  readonly #bind: string;
  readonly #max: number;
  readonly #log: Logger;

  constructor(state: ProxyState, bindAddress: string, maxSessions: number, log: Logger) {
    this.#state = state;
    this.#bind = bindAddress;
    this.#max = maxSessions;
    this.#log = log;
  }

  /** Opens the UDP ports of `streams` not open yet and closes (with their sessions) those it dropped or moved to another address. */
  async sync(streams: PreparedStreams): Promise<void> {
    const wanted = streamSockets(streams.udp, this.#bind);
    for (const [key, udp] of this.#ports) {
      if (wanted.has(key)) continue;
      this.#ports.delete(key);
      udp.close();
    }
    const opening: Promise<void>[] = [];
    for (const [key, { port, host }] of wanted) {
      if (this.#ports.has(key)) continue;
      const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: true, reusePort: true });
      const udp = new UdpPort(socket, port, this.#state, this.#max);
      this.#ports.set(key, udp);
      opening.push(new Promise<void>((resolve) => {
        socket.once('error', (err) => {
          this.#log.error({ err: err.message, port, address: host }, 'cannot listen on a UDP service port');
          if (this.#ports.get(key) === udp) this.#ports.delete(key);
          udp.close();
          resolve();
        });
        socket.bind({ address: host, port }, () => resolve());
      }));
    }
    await Promise.all(opening);
  }

  /** Closes every port and forgets every session. */
  close(): void {
    for (const udp of this.#ports.values()) udp.close();
    this.#ports.clear();
  }
}
