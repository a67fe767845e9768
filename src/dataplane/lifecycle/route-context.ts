import type { CounterCell, HistogramCell } from '../../metrics/hot-metrics.ts';
import type { DataplaneMetrics } from '../../metrics/metrics.ts';
import type { RequestHeaderFilter, Route } from '../../model/table.ts';
import { RequestHeaderStep } from './filters/header-edits.ts';
import type { UpstreamEdit } from './request-step.ts';
import type { PreparedCluster } from '../upstream/prepared-cluster.ts';
import { ValueMatcher } from './value-matcher.ts';

/**
 * A route served through one of its backends (or one of its RouteScripts' backends): the cluster
 * and the metric cells labelled with the route's provenance and that cluster, computed once per
 * table. A route has one per distinct cluster it can send to (and per distinct set of a backend's
 * own filters on that cluster).
 */
export class RouteContext {
  readonly route: Route;
  readonly cluster: PreparedCluster;
  readonly duration: HistogramCell;
  /**
   * True for the share of a backend the front end could not resolve (`cluster: null`), and for a
   * route without any backend that can take a request: such requests are answered 500.
   */
  readonly missing: boolean;
  /** Whether its requests write an access-log line (false: the route's `accessLog: false`). */
  readonly logged: boolean;
  /** The route's `accessLogSkip`: request targets that write no line; null when none. */
  readonly skipLog: ValueMatcher | null;
  /**
   * The header edits of this backend's own filters (a backendRef's RequestHeaderModifier), queued
   * after the route's once the backend is picked; null when it has none.
   */
  readonly edits: readonly UpstreamEdit[] | null;
  readonly #metrics: DataplaneMetrics;
  readonly #byCode = new Map<number, CounterCell>();

  constructor(route: Route, cluster: PreparedCluster, metrics: DataplaneMetrics, missing = false, filters: readonly RequestHeaderFilter[] | undefined = undefined) {
    this.route = route;
    this.missing = missing;
    this.edits = filters === undefined || filters.length === 0 ? null : filters.map((f) => new RequestHeaderStep(f));
    this.logged = route.accessLog !== false;
    this.skipLog = route.accessLogSkip === undefined ? null : new ValueMatcher(route.accessLogSkip);
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
