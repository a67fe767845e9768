import type { CounterCell, HistogramCell } from '../../metrics/hot-metrics.ts';
import { DEFAULT_CLUSTER_POLICY } from '../../model/policy.ts';
import type { Cluster, PublishedTable, Route } from '../../model/table.ts';
import { buildRouter, type Router } from '../../router/router.ts';
import { scriptsOf } from '../../model/route-parts.ts';
import { PreparedCluster, type ClusterDefaults, type TableKeys } from '../upstream/prepared-cluster.ts';
import type { UpstreamState } from '../upstream/upstream-state.ts';
import type { DataplaneMetrics } from '../../metrics/metrics.ts';
import type { ScriptBinding } from './script-binding.ts';
import type { PreparedScripts, ScriptHost } from './script-host.ts';

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
  /** Keys of the pools, endpoints and clusters this table uses. */
  readonly keys: TableKeys;
  /** The clusters routes and scripts use, prepared, by name. */
  readonly clusters: ReadonlyMap<string, PreparedCluster>;
  /** The RouteScripts this table runs, for {@link ScriptHost.commit} after the swap; null without a host. */
  readonly scripts: PreparedScripts | null;
}

/** What the proxy needs about a matched route, computed once per table. */
export class RouteContext {
  readonly route: Route;
  readonly cluster: PreparedCluster;
  readonly duration: HistogramCell;
  /**
   * The RouteScript that runs first on this route's requests, or null. The contexts of a script's
   * backends (same route, another cluster) have none: the script has already run.
   */
  script: ScriptBinding | null = null;
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

/**
 * Builds the hot-path state for `published`, reusing pools, counters and health from `upstreams`,
 * and binding each route's RouteScript through `scripts` (routes keep their normal routing when
 * there is no host, as in tools that only inspect a table).
 */
export function prepareTable(
  published: PublishedTable,
  upstreams: UpstreamState,
  metrics: DataplaneMetrics,
  defaults: ClusterDefaults,
  scripts: ScriptHost | null = null,
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
  const routes = new Map<Route, RouteContext>();
  const preparedScripts = scripts?.begin() ?? null;
  const addRoute = (route: Route): void => {
    if (routes.has(route)) return;
    const main = route.backends[0]?.cluster ?? '';
    const ctx = new RouteContext(route, clusterFor(main), metrics);
    const key = scriptsOf(route)[0];
    const script = key === undefined ? undefined : table.scripts[key];
    if (scripts !== null && preparedScripts !== null && script !== undefined) {
      ctx.script = scripts.bind(preparedScripts, {
        route,
        script,
        contextFor: (cluster) => (cluster === main ? ctx : new RouteContext(route, clusterFor(cluster), metrics)),
        clusterFor,
      });
    }
    routes.set(route, ctx);
  };
  for (const vhost of table.virtualHosts) for (const route of vhost.routes) addRoute(route);
  if (table.defaultRoute) addRoute(table.defaultRoute);
  return { version: published.version, published, router: buildRouter(table), routes, keys, clusters, scripts: preparedScripts };
}
