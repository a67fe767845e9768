/**
 * The TCP ports of the routing table (`tcp-services`): opened and closed as tables are swapped, in
 * every worker with SO_REUSEPORT so the kernel spreads connections across workers as on the HTTP
 * ports. A port's route is read from the current table on each connection, so a route that changes
 * backend keeps its socket; a port the new table drops stops accepting, and its connections in
 * flight run to their end.
 */
import { bareAddress, toAnotherAddress } from '../lifecycle/socket-listeners.ts';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../log.ts';
import type { ProxyState } from '../lifecycle/proxy-state.ts';
import type { ConnectionLimit } from '../server/connection-limit.ts';
import { streamSockets, type PreparedStreams } from './prepared-streams.ts';
import { relayStream } from './stream-relay.ts';

/** The TCP listeners of one worker. */
export class TcpListeners {
  /** By `address|port`: a listener with an address of its own is bound to it, the others to the bind address. */
  readonly #servers = new Map<string, { readonly server: Server; readonly port: number }>();
  readonly #state: ProxyState;
  readonly #bind: string;
  readonly #log: Logger;

  readonly #limit: ConnectionLimit;

  /** `limit` is the worker's connection cap, shared with its HTTP and HTTPS listeners. */
  constructor(state: ProxyState, bindAddress: string, log: Logger, limit: ConnectionLimit) {
    this.#state = state;
    this.#bind = bindAddress;
    this.#log = log;
    this.#limit = limit;
  }

  /** The ports open now (a port being opened counts). */
  get ports(): number[] {
    return [...new Set([...this.#servers.values()].map((s) => s.port))].sort((a, b) => a - b);
  }

  /**
   * Opens the ports of `streams` not open yet and closes those it no longer has (or that moved to
   * another address). Resolves once every new port listens or failed to (a port another process
   * holds is logged, and retried on the next table that has it).
   */
  async sync(streams: PreparedStreams): Promise<void> {
    const wanted = streamSockets(streams.tcp, this.#bind);
    for (const [key, open] of this.#servers) {
      if (wanted.has(key)) continue;
      this.#servers.delete(key);
      open.server.close();
    }
    const opening: Promise<void>[] = [];
    for (const [key, { port, host }] of wanted) {
      if (this.#servers.has(key)) continue;
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket: Socket) => this.#accept(port, socket));
      this.#servers.set(key, { server, port });
      opening.push(new Promise<void>((resolve) => {
        server.once('error', (err) => {
          this.#log.error({ err: err.message, port, address: host }, 'cannot listen on a TCP service port');
          if (this.#servers.get(key)?.server === server) this.#servers.delete(key);
          resolve();
        });
        server.listen({ host, port, reusePort: true }, () => resolve());
      }));
    }
    await Promise.all(opening);
  }

  /** Stops accepting on every port; connections in flight go on. */
  close(): void {
    for (const { server } of this.#servers.values()) server.close();
    this.#servers.clear();
  }

  #accept(port: number, socket: Socket): void {
    const table = this.#state.table;
    const route = table?.streams.tcp.get(port);
    if (route === undefined) {
      socket.destroy();
      return;
    }
    // A listener with an address of its own is bound to it and takes only connections made to it (a
    // socket still open on its old address after a change takes none); one bound to the bind
    // address takes none made to another listener's own address.
    const local = socket.localAddress;
    if (route.address !== null ? local === undefined || bareAddress(local) !== route.address : toAnotherAddress(local, table!.addresses)) {
      this.#state.metrics.streams.refused.labels(route.listener, 'other-address').inc();
      socket.destroy();
      return;
    }
    // Over --max-connections: closed at once (a TCP client has no status to read), counted.
    if (!this.#limit.admit(socket)) {
      this.#state.metrics.streams.refused.labels(route.listener, 'connection-limit').inc();
      socket.destroy();
      return;
    }
    relayStream(socket, null, route, this.#state.metrics.streams);
  }
}
