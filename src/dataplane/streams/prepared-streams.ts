/**
 * The layer-4 part of a routing table made ready for the data plane, once per swap: TLS routes
 * (passed through, or terminated here) indexed by SNI name per TLS socket, and the one route of each TCP and UDP port, each with its prepared
 * clusters (the same balancers, health and ejection state as HTTP routes use).
 */
import type { Listener, RoutingTable, StreamRoute } from '../../model/table.ts';
import type { PreparedCluster } from '../upstream/prepared-cluster.ts';
import { isOnSocket, type SocketPlace } from '../lifecycle/socket-listeners.ts';

/** One stream route, ready to pick a backend. */
export interface PreparedStreamRoute {
  readonly route: StreamRoute;
  /** The listener's name: the `listener` label of its metrics. */
  readonly listener: string;
  /** Backends with a weight above 0 and a cluster; picked by weight. */
  readonly backends: readonly { readonly cluster: PreparedCluster; readonly weight: number }[];
  readonly totalWeight: number;
  /** The route's idle timeout, or the data plane's default for its protocol. */
  readonly idleMs: number;
  /**
   * On a TLS listener in Terminate mode, its certificates (table names): the connection's handshake
   * is made here and the plain stream relayed. Null: passed through undecrypted (and on TCP, UDP).
   */
  readonly terminate: readonly string[] | null;
  /**
   * The listener's own address (a Gateway's, `--gateway-addresses`), to which alone its TCP port's
   * connections must have been made; null: any address but another listener's own.
   */
  readonly address: string | null;
}

/** The stream routes of one table. */
export interface PreparedStreams {
  /**
   * Passthrough by SNI name on the sockets of TLS listeners, or null when the table has no TLS
   * route (the data plane's own HTTPS port then pays nothing).
   */
  readonly passthrough: PassthroughRoutes | null;
  /** What a TLS socket does with a connection (a declared port's socket asks on every table). */
  readonly tlsOn: (socket: TlsSocket) => TlsSocketPlan;
  /** The route of each TCP port. */
  readonly tcp: ReadonlyMap<number, PreparedStreamRoute>;
  /** The route of each UDP port. */
  readonly udp: ReadonlyMap<number, PreparedStreamRoute>;
}

/**
 * Passthrough routes by SNI name: exact names first, then `*.suffix`, the longest suffix first
 * (`a.b.example.com` tries `*.b.example.com`, then `*.example.com`): as nginx's and the Gateway
 * API's wildcards, which take one or more labels.
 */
export class SniIndex {
  readonly #exact = new Map<string, PreparedStreamRoute>();
  readonly #wildcard = new Map<string, PreparedStreamRoute>();

  /** Adds `host` for `route`, unless a route already takes it (the first listener of a port wins). */
  add(host: string, route: PreparedStreamRoute): void {
    const [map, key] = host.startsWith('*.') ? [this.#wildcard, host.slice(2)] : [this.#exact, host];
    if (!map.has(key)) map.set(key, route);
  }

  /** The route for SNI `name` (lower case), or null: that connection is terminated as usual. */
  find(name: string): PreparedStreamRoute | null {
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    if (this.#wildcard.size === 0) return null;
    for (let dot = name.indexOf('.'); dot > 0 && dot < name.length - 1; dot = name.indexOf('.', dot + 1)) {
      const route = this.#wildcard.get(name.slice(dot + 1));
      if (route !== undefined) return route;
    }
    return null;
  }
}

/** What a TLS socket does with a new connection, for one table. */
export interface TlsSocketPlan {
  /** The passthrough routes of the socket by SNI name; null when it has none. */
  readonly index: SniIndex | null;
  /**
   * Whether a connection no passthrough route takes is terminated here: always on the data plane's
   * own HTTPS port, and on a declared or address socket when an HTTPS listener of the table is on it. Else it is
   * closed (a TLS-only port holds no certificate of its own).
   */
  readonly terminates: boolean;
}

/**
 * The socket a {@link TlsSocketPlan} is for: its name (the cache key), port, whether it is the own
 * one, and its address when it is that of listeners with an address (socket-listeners.ts).
 */
export interface TlsSocket extends SocketPlace {
  readonly name: string;
}

/**
 * The table's passthrough routes, indexed per TLS socket on the first connection to each (a socket
 * serves the TLS listeners of its address on its port, and a socket of the own HTTPS port number
 * those with port null: socket-listeners.ts).
 */
export class PassthroughRoutes {
  readonly #listeners: readonly Listener[];
  readonly #routes: ReadonlyMap<string, readonly PreparedStreamRoute[]>;
  readonly #plans = new Map<string, TlsSocketPlan>();

  /** `routes`: each TLS listener's prepared routes, by listener name. */
  constructor(listeners: readonly Listener[], routes: ReadonlyMap<string, readonly PreparedStreamRoute[]>) {
    this.#listeners = listeners;
    this.#routes = routes;
  }

  /** The plan of `socket` for this table. */
  on(socket: TlsSocket): TlsSocketPlan {
    let plan = this.#plans.get(socket.name);
    if (plan === undefined) this.#plans.set(socket.name, (plan = this.#plan(socket)));
    return plan;
  }

  #plan(socket: TlsSocket): TlsSocketPlan {
    const mine = (l: Listener): boolean => isOnSocket(l, socket);
    let index: SniIndex | null = null;
    for (const l of this.#listeners) {
      if (l.protocol !== 'TLS' || !mine(l)) continue;
      for (const route of this.#routes.get(l.name) ?? []) {
        index ??= new SniIndex();
        for (const host of route.route.hostnames) index.add(host, route);
      }
    }
    return { index, terminates: socket.own || this.#listeners.some((l) => l.protocol === 'HTTPS' && mine(l)) };
  }
}

/** Defaults for what a stream route does not set. */
export interface StreamDefaults {
  readonly streamIdleMs: number;
  readonly udpIdleMs: number;
}

/** Prepares the stream routes of `table`, with clusters from `clusterFor`. */
export function prepareStreams(table: RoutingTable, clusterFor: (name: string) => PreparedCluster, defaults: StreamDefaults): PreparedStreams {
  const listeners = new Map(table.listeners.map((l) => [l.name, l]));
  const tls = new Map<string, PreparedStreamRoute[]>();
  const tcp = new Map<number, PreparedStreamRoute>();
  const udp = new Map<number, PreparedStreamRoute>();
  for (const route of table.streamRoutes ?? []) {
    const listener = listeners.get(route.listener);
    if (listener === undefined) continue;
    const backends = route.backends.flatMap((b) => (b.cluster === null || b.weight <= 0 ? [] : [{ cluster: clusterFor(b.cluster), weight: b.weight }]));
    const prepared: PreparedStreamRoute = {
      route,
      listener: listener.name,
      backends,
      totalWeight: backends.reduce((sum, b) => sum + b.weight, 0),
      idleMs: route.idleTimeoutMs ?? (listener.protocol === 'UDP' ? defaults.udpIdleMs : defaults.streamIdleMs),
      terminate: listener.protocol === 'TLS' ? (listener.tls?.certificates ?? null) : null,
      address: listener.address ?? null,
    };
    if (listener.protocol === 'TLS') {
      const list = tls.get(listener.name);
      if (list === undefined) tls.set(listener.name, [prepared]);
      else list.push(prepared);
    } else if (listener.protocol === 'TCP' && listener.port !== null) tcp.set(listener.port, prepared);
    else if (listener.protocol === 'UDP' && listener.port !== null) udp.set(listener.port, prepared);
  }
  const routes = new PassthroughRoutes(table.listeners, tls);
  return { passthrough: tls.size > 0 ? routes : null, tlsOn: (socket) => routes.on(socket), tcp, udp };
}

/** A backend cluster of `route`, by weight (`random` in [0, 1)), or null when it has none. */
export function pickCluster(route: PreparedStreamRoute, random: number = Math.random()): PreparedCluster | null {
  if (route.backends.length === 1) return route.backends[0]!.cluster;
  let left = random * route.totalWeight;
  for (const b of route.backends) {
    left -= b.weight;
    if (left < 0) return b.cluster;
  }
  return route.backends.at(-1)?.cluster ?? null;
}

/**
 * The sockets a worker keeps for the TCP or UDP routes `routes` (by port), by `address|port`: a
 * listener with an address of its own is bound to it, the others to `bindAddress`.
 */
export function streamSockets(routes: ReadonlyMap<number, PreparedStreamRoute>, bindAddress: string): Map<string, { readonly port: number; readonly host: string }> {
  return new Map([...routes].map(([port, route]) => [`${route.address ?? ''}|${port}`, { port, host: route.address ?? bindAddress }]));
}
