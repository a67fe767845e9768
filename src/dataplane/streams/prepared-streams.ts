/**
 * The layer-4 part of a routing table made ready for the data plane, once per swap: passthrough
 * routes indexed by SNI name, and the one route of each TCP and UDP port, each with its prepared
 * clusters (the same balancers, health and ejection state as HTTP routes use).
 */
import type { RoutingTable, StreamRoute } from '../../model/table.ts';
import type { PreparedCluster } from '../upstream/prepared-cluster.ts';

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
}

/** The stream routes of one table. */
export interface PreparedStreams {
  /** Passthrough on the HTTPS port by SNI name, or null when the table has none (HTTPS then pays nothing). */
  readonly passthrough: SniIndex | null;
  /** The route of each TCP port. */
  readonly tcp: ReadonlyMap<number, PreparedStreamRoute>;
  /** The route of each UDP port. */
  readonly udp: ReadonlyMap<number, PreparedStreamRoute>;
}

/** Passthrough routes by SNI name: exact names first, then `*.suffix` (one label). */
export class SniIndex {
  readonly #exact = new Map<string, PreparedStreamRoute>();
  readonly #wildcard = new Map<string, PreparedStreamRoute>();

  add(host: string, route: PreparedStreamRoute): void {
    if (host.startsWith('*.')) this.#wildcard.set(host.slice(2), route);
    else this.#exact.set(host, route);
  }

  /** The route for SNI `name` (lower case), or null: that connection is terminated as usual. */
  find(name: string): PreparedStreamRoute | null {
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return dot < 0 ? null : (this.#wildcard.get(name.slice(dot + 1)) ?? null);
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
  let passthrough: SniIndex | null = null;
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
    };
    if (listener.protocol === 'TLS' && listener.port === null) {
      passthrough ??= new SniIndex();
      for (const host of route.hostnames) passthrough.add(host, prepared);
    } else if (listener.protocol === 'TCP' && listener.port !== null) tcp.set(listener.port, prepared);
    else if (listener.protocol === 'UDP' && listener.port !== null) udp.set(listener.port, prepared);
  }
  return { passthrough, tcp, udp };
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
