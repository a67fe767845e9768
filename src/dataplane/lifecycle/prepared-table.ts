import { ListenerHostnames } from './listener-hostnames.ts';
import { ClientAuthCheck } from './client-auth-check.ts';
import { hostKey } from '../server/tls/client-auth-hosts.ts';
import { DEFAULT_CLUSTER_POLICY } from '../../model/policy.ts';
import type { Listener, PublishedTable, Route, RoutingTable } from '../../model/table.ts';
import { buildRouter, type Router } from '../../router/router.ts';
import { PreparedCluster, type ClusterDefaults, type TableKeys } from '../upstream/prepared-cluster.ts';
import type { UpstreamState } from '../upstream/upstream-state.ts';
import type { DataplaneMetrics } from '../../metrics/metrics.ts';
import { RoutePlan } from './route-plan.ts';
import type { RateLimitZones } from './filters/rate-limit-zone.ts';
import type { PreparedScripts, ScriptHost } from './script-host.ts';
import type { ListenerInfo } from './proxy-state.ts';
import { isOnSocket, type SocketPlace } from './socket-listeners.ts';
import { prepareStreams, type PreparedStreams, type StreamDefaults } from '../streams/prepared-streams.ts';

/**
 * A routing table made ready for the hot path, once per swap: the router's indexes, each route's
 * plan (its phases, backends and metric handles), per-cluster endpoint lists with their connection pools. A request reads the
 * current PreparedTable once and keeps it for its whole life, so a swap never changes a request in
 * flight.
 */
export interface PreparedTable {
  readonly version: number;
  readonly published: PublishedTable;
  /**
   * The router of a data-plane socket: the virtual hosts of the table's listeners it serves (same
   * protocol and address, on the socket's port; and on the own port numbers, port null). Built on
   * the socket's first request to this table.
   */
  routerFor(listener: ListenerInfo): Router;
  /**
   * For a TLS socket whose listeners name hostnames, which listener a name reaches, to tell a
   * misdirected request (listener-hostnames.ts); null for others. Built on the socket's first request.
   */
  hostnamesFor(listener: ListenerInfo): ListenerHostnames | null;
  /** Each route's plan, keyed by the table's own Route objects (the router returns those). */
  readonly routes: ReadonlyMap<Route, RoutePlan>;
  /** Keys of the pools, endpoints and clusters this table uses. */
  readonly keys: TableKeys;
  /** The clusters routes and scripts use, prepared, by name. */
  readonly clusters: ReadonlyMap<string, PreparedCluster>;
  /** The RouteScripts this table runs, for {@link ScriptHost.commit} after the swap; null without a host. */
  readonly scripts: PreparedScripts | null;
  /** The layer-4 routes: passthrough by SNI, TCP and UDP ports. */
  readonly streams: PreparedStreams;
  /**
   * The addresses of listeners with an address of their own (a Gateway's, `--gateway-addresses`):
   * a connection to one of them on a socket that is not bound to it (the wildcard socket of a port
   * its Gateway has no listener on) is not served (socket-listeners.ts).
   */
  readonly addresses: ReadonlySet<string>;
}

/**
 * Builds the hot-path state for `published`, reusing pools, counters and health from `upstreams`,
 * and binding each route's RouteScript through `scripts` (routes keep their normal routing when
 * there is no host, as in tools that only inspect a table). RateLimit filters count in `rateLimits`,
 * the worker's zones, which keep their counts across swaps and drop the zones this table no longer uses.
 */
export function prepareTable(
  published: PublishedTable,
  upstreams: UpstreamState,
  metrics: DataplaneMetrics,
  defaults: ClusterDefaults & Partial<StreamDefaults>,
  scripts: ScriptHost | null = null,
  rateLimits: RateLimitZones | null = null,
): PreparedTable {
  const { table } = published;
  const keys: TableKeys = { pools: new Set(), endpoints: new Set(), clusters: new Set() };
  const clusters = new Map<string, PreparedCluster>();
  const clusterFor = (name: string): PreparedCluster => {
    let prepared = clusters.get(name);
    if (prepared === undefined) {
      const cluster = table.clusters[name] ?? { name, namespace: '', service: '', servicePort: null, portName: '', endpoints: [], provenance: [], policy: DEFAULT_CLUSTER_POLICY };
      prepared = new PreparedCluster(cluster, upstreams, metrics, keys, defaults);
      clusters.set(name, prepared);
    }
    return prepared;
  };
  const routes = new Map<Route, RoutePlan>();
  const preparedScripts = scripts?.begin() ?? null;
  rateLimits?.begin();
  const addRoute = (route: Route): void => {
    if (routes.has(route)) return;
    routes.set(route, new RoutePlan(route, {
      metrics,
      clusterFor,
      scriptOf: (key) => table.scripts[key],
      bindScript: (script, contextFor) => (scripts === null || preparedScripts === null ? null : scripts.bind(preparedScripts, { route, script, contextFor, clusterFor })),
      ...(rateLimits === null ? {} : { rateLimits }),
    }));
  };
  for (const vhost of table.virtualHosts) {
    for (const route of vhost.routes) addRoute(route);
    if (vhost.clientAuth === undefined) continue;
    const host = { key: hostKey(vhost.match, vhost.host), auth: vhost.clientAuth };
    for (const route of vhost.routes) routes.get(route)!.clientAuth = new ClientAuthCheck(host, route);
  }
  if (table.defaultRoute) addRoute(table.defaultRoute);
  rateLimits?.sweep();
  const routers = new Map<string, Router>();
  const routerFor = (listener: ListenerInfo): Router => {
    let router = routers.get(listener.name);
    if (router === undefined) routers.set(listener.name, (router = buildRouter(table, servedListeners(table, listener))));
    return router;
  };
  const hostnames = new Map<string, ListenerHostnames | null>();
  const hostnamesFor = (listener: ListenerInfo): ListenerHostnames | null => {
    if (listener.proto !== 'https') return null;
    let found = hostnames.get(listener.name);
    if (found === undefined) hostnames.set(listener.name, (found = ListenerHostnames.of(listenersOf(table, listener))));
    return found;
  };
  const streams = prepareStreams(table, clusterFor, { streamIdleMs: defaults.streamIdleMs ?? 600_000, udpIdleMs: defaults.udpIdleMs ?? 30_000 });
  const addresses = new Set(table.listeners.flatMap((l) => (l.address === undefined ? [] : [l.address])));
  return { version: published.version, published, routerFor, hostnamesFor, routes, keys, clusters, scripts: preparedScripts, streams, addresses };
}

/**
 * The names of the table's listeners of the socket's protocol that a data-plane socket serves: those
 * of its address on its port, and on a socket of the own port number those with port null too
 * (socket-listeners.ts).
 */
export function servedListeners(table: RoutingTable, socket: Pick<ListenerInfo, 'proto'> & SocketPlace): string[] {
  return listenersOf(table, socket).map((l) => l.name);
}

/** The table's listeners of the socket's protocol that a data-plane socket serves (see {@link servedListeners}). */
function listenersOf(table: RoutingTable, socket: Pick<ListenerInfo, 'proto'> & SocketPlace): Listener[] {
  const protocol = socket.proto === 'https' ? 'HTTPS' : 'HTTP';
  return table.listeners.filter((l) => l.protocol === protocol && isOnSocket(l, socket));
}
