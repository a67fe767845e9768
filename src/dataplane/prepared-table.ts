import type { Pool } from 'undici';
import type { CounterCell, HistogramCell } from '../metrics/hot-metrics.ts';
import { DEFAULT_CLUSTER_POLICY } from '../model/policy.ts';
import type { Cluster, PublishedTable, Route } from '../model/table.ts';
import { buildRouter, type Router } from '../router/router.ts';
import { poolKey, type UpstreamPools } from './upstream-pools.ts';
import type { DataplaneMetrics } from '../metrics/metrics.ts';

/**
 * A routing table made ready for the hot path, once per swap: the router's indexes, per-route
 * metric handles, per-cluster endpoint lists with their connection pools. A request reads the
 * current PreparedTable once and keeps it for its whole life, so a swap never changes a request in
 * flight.
 */
export interface PreparedTable {
  readonly version: number;
  readonly published: PublishedTable;
  readonly router: Router;
  /** Per-route context, keyed by the table's own Route objects (the router returns those). */
  readonly routes: ReadonlyMap<Route, RouteContext>;
  /** Keys of every upstream pool this table uses (see {@link poolKey}). */
  readonly poolKeys: ReadonlySet<string>;
}

/** One endpoint with its pool. */
export interface Upstream {
  readonly address: string;
  readonly port: number;
  readonly pool: Pool;
  /** `address:port` (IPv6 in brackets), for access logs. */
  readonly label: string;
}

/**
 * A cluster's endpoints split by what they may receive: `ready` ones take new traffic; `serving`
 * terminating ones only when none is ready (draining pods still answer, better than a 503).
 */
export class PreparedCluster {
  readonly name: string;
  readonly ready: readonly Upstream[];
  readonly fallback: readonly Upstream[];
  readonly headerDuration: HistogramCell;
  #next = 0;

  constructor(cluster: Cluster, pools: UpstreamPools, metrics: DataplaneMetrics, keys: Set<string>) {
    this.name = cluster.name;
    const ready: Upstream[] = [];
    const fallback: Upstream[] = [];
    for (const ep of cluster.endpoints) {
      if (!ep.ready && !(ep.serving && ep.terminating)) continue;
      keys.add(poolKey(cluster.name, ep.address, ep.port));
      const upstream: Upstream = {
        address: ep.address,
        port: ep.port,
        pool: pools.get(cluster.name, ep.address, ep.port),
        label: ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`,
      };
      (ep.ready ? ready : fallback).push(upstream);
    }
    this.ready = ready;
    this.fallback = fallback;
    this.headerDuration = metrics.upstreamHeaderDuration.cell(cluster.name);
  }

  /** The next endpoint in round-robin order, or null when there is none to send to. */
  pick(): Upstream | null {
    const list = this.ready.length > 0 ? this.ready : this.fallback;
    const n = list.length;
    if (n === 0) return null;
    const i = this.#next;
    this.#next = i + 1 >= n ? 0 : i + 1;
    return list[i < n ? i : 0]!;
  }
}

/** What the proxy needs about a matched route, computed once per table. */
export class RouteContext {
  readonly route: Route;
  readonly cluster: PreparedCluster;
  readonly duration: HistogramCell;
  readonly #metrics: DataplaneMetrics;
  readonly #byCode = new Map<number, CounterCell>();

  constructor(route: Route, cluster: PreparedCluster, metrics: DataplaneMetrics) {
    this.route = route;
    this.cluster = cluster;
    this.duration = metrics.requestDuration.cell(route.provenance, cluster.name);
    this.#metrics = metrics;
  }

  /** Counts one answered request with `status`. */
  count(status: number): void {
    let child = this.#byCode.get(status);
    if (child === undefined) {
      child = this.#metrics.requests.cell(this.route.provenance, this.cluster.name, String(status));
      this.#byCode.set(status, child);
    }
    child.inc();
  }
}

/** Builds the hot-path state for `published`, reusing pools from `pools`. */
export function prepareTable(published: PublishedTable, pools: UpstreamPools, metrics: DataplaneMetrics): PreparedTable {
  const { table } = published;
  const keys = new Set<string>();
  const clusters = new Map<string, PreparedCluster>();
  const clusterFor = (name: string): PreparedCluster => {
    let prepared = clusters.get(name);
    if (prepared === undefined) {
      const cluster = table.clusters[name] ?? { name, namespace: '', service: '', servicePort: null, portName: '', endpoints: [], provenance: [], policy: DEFAULT_CLUSTER_POLICY };
      prepared = new PreparedCluster(cluster, pools, metrics, keys);
      clusters.set(name, prepared);
    }
    return prepared;
  };
  const routes = new Map<Route, RouteContext>();
  const addRoute = (route: Route): void => {
    if (!routes.has(route)) routes.set(route, new RouteContext(route, clusterFor(route.cluster), metrics));
  };
  for (const vhost of table.virtualHosts) for (const route of vhost.routes) addRoute(route);
  if (table.defaultRoute) addRoute(table.defaultRoute);
  return { version: published.version, published, router: buildRouter(table), routes, poolKeys: keys };
}
