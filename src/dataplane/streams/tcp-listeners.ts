/**
 * The TCP ports of the routing table (`tcp-services`): opened and closed as tables are swapped, in
 * every worker with SO_REUSEPORT so the kernel spreads connections across workers as on the HTTP
 * ports. A port's route is read from the current table on each connection, so a route that changes
 * backend keeps its socket; a port the new table drops stops accepting, and its connections in
 * flight run to their end.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../log.ts';
import type { ProxyState } from '../lifecycle/proxy-state.ts';
import type { ConnectionLimit } from '../server/connection-limit.ts';
import type { PreparedStreams } from './prepared-streams.ts';
import { relayStream } from './stream-relay.ts';

/** The TCP listeners of one worker. */
export class TcpListeners {
  readonly #servers = new Map<number, Server>();
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
    return [...this.#servers.keys()].sort((a, b) => a - b);
  }

  /**
   * Opens the ports of `streams` not open yet and closes those it no longer has. Resolves once
   * every new port listens or failed to (a port another process holds is logged, and retried on
   * the next table that has it).
   */
  async sync(streams: PreparedStreams): Promise<void> {
    for (const [port, server] of this.#servers) {
      if (streams.tcp.has(port)) continue;
      this.#servers.delete(port);
      server.close();
    }
    const opening: Promise<void>[] = [];
    for (const port of streams.tcp.keys()) {
      if (this.#servers.has(port)) continue;
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket: Socket) => this.#accept(port, socket));
      this.#servers.set(port, server);
      opening.push(new Promise<void>((resolve) => {
        server.once('error', (err) => {
          this.#log.error({ err: err.message, port }, 'cannot listen on a TCP service port');
          if (this.#servers.get(port) === server) this.#servers.delete(port);
          resolve();
        });
        server.listen({ host: this.#bind, port, reusePort: true }, () => resolve());
      }));
    }
    await Promise.all(opening);
  }

  /** Stops accepting on every port; connections in flight go on. */
  close(): void {
    for (const server of this.#servers.values()) server.close();
    this.#servers.clear();
  }

  #accept(port: number, socket: Socket): void {
    const route = this.#state.table?.streams.tcp.get(port);
    if (route === undefined) {
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
