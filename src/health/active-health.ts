import type { Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import type { HealthCheckPolicy } from '../model/policy.ts';
import type { RoutingTable } from '../model/table.ts';
import { createHealthMetrics, type HealthMetrics } from './health-metrics.ts';
import type { ProbeOutcome, ProbeTransport } from './probe.ts';
import { Prober, proberKey, type ProberClock, type ProberEvents } from './prober.ts';

/** Options for {@link ActiveHealthChecker}. */
export interface ActiveHealthCheckerOptions {
  readonly log: Logger;
  /** Where the health-check metrics are registered (see health-metrics.ts); once per registry. */
  readonly registry: Registry;
  /**
   * Called with the whole new set of unhealthy endpoint keys each time it changes — after a
   * verdict flips, or after {@link ActiveHealthChecker.update} drops unhealthy endpoints — and
   * never when it does not. An exception thrown here is logged, never propagated.
   */
  readonly onChange: (unhealthy: ReadonlySet<string>) => void;
  /** Uniform in [0, 1), for jitter; `Math.random` by default. */
  readonly random?: () => number;
  /** Monotonic milliseconds, for durations and scheduling; `performance.now` by default. */
  readonly now?: () => number;
}

/**
 * The key of an endpoint within a cluster in {@link ActiveHealthChecker.unhealthy}:
 * `cluster|address|port`, the address as in the table (IPv6 without brackets). It is the prefix of
 * the data plane's pool key (`poolKey` in dataplane/upstream/upstream-state.ts) without the connect timeout.
 */
export function endpointKey(cluster: string, address: string, port: number): string {
  return `${cluster}|${address}|${port}`;
}

interface WantedProber {
  readonly address: string;
  readonly port: number;
  readonly check: HealthCheckPolicy;
  readonly transport: ProbeTransport;
  readonly clusters: Set<string>;
}

/**
 * Active health checking for one process: HTTP probes of every endpoint of every cluster whose
 * policy has a `healthCheck`, and the set of endpoints that currently fail them.
 *
 * One prober runs per distinct endpoint and check (address, port and every check setting): two
 * clusters over the same Pods with the same check share its probes and its verdict. Only endpoints
 * the data plane may send traffic to are probed: `ready`, or `serving` (terminating endpoints used
 * as a fallback). A prober starts healthy, so a new endpoint gets traffic at once and a new table
 * never takes a working endpoint out; a failing one leaves after `unhealthyThreshold` probes.
 *
 * Meant to run once per process, in the control plane, with the set sent to the workers: probes are
 * not multiplied by the number of workers, and every worker sees the same verdict.
 */
export class ActiveHealthChecker {
  readonly #log: Logger;
  readonly #onChange: (unhealthy: ReadonlySet<string>) => void;
  readonly #clock: ProberClock;
  readonly #metrics: HealthMetrics;
  readonly #events: ProberEvents;
  readonly #probers = new Map<string, Prober>();
  /** Clusters that have counter and histogram series, so that they can be removed when they go. */
  #checkedClusters = new Set<string>();
  #unhealthy: ReadonlySet<string> = new Set();
  #stopped = false;

  constructor(options: ActiveHealthCheckerOptions) {
    if (typeof options.onChange !== 'function') throw new TypeError('ActiveHealthChecker: onChange must be a function');
    if (options.random !== undefined && typeof options.random !== 'function') throw new TypeError('ActiveHealthChecker: random must be a function');
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('ActiveHealthChecker: now must be a function');
    this.#log = options.log;
    this.#onChange = options.onChange;
    this.#clock = { random: options.random ?? Math.random, now: options.now ?? (() => performance.now()) };
    this.#metrics = createHealthMetrics(options.registry);
    this.#events = {
      result: (prober, outcome, durationMs) => this.#recordResult(prober, outcome, durationMs),
      transition: (prober, outcome) => this.#recordTransition(prober, outcome),
    };
  }

  /**
   * Reconciles the probers with `table`: starts one for each new (endpoint, check), stops those
   * whose endpoint or check left (their timers cleared, a probe in flight aborted), and keeps the
   * rest — with their verdicts and schedules — whatever else changed. Idempotent: an unchanged
   * table changes nothing. Ignored after {@link stop}.
   */
  update(table: RoutingTable): void {
    if (this.#stopped) return;
    const wanted = wantedProbers(table);
    const { endpointHealthy } = this.#metrics;

    for (const [key, prober] of this.#probers) {
      if (wanted.has(key)) continue;
      prober.stop();
      this.#probers.delete(key);
      for (const cluster of prober.clusters) endpointHealthy.remove({ cluster, endpoint: prober.endpoint });
    }
    const checkedClusters = new Set<string>();
    for (const [key, want] of wanted) {
      let prober = this.#probers.get(key);
      const created = prober === undefined;
      prober ??= new Prober(want.address, want.port, want.check, this.#events, this.#clock, want.transport);
      this.#probers.set(key, prober);
      for (const cluster of prober.clusters) {
        if (want.clusters.has(cluster)) continue;
        prober.clusters.delete(cluster);
        endpointHealthy.remove({ cluster, endpoint: prober.endpoint });
      }
      for (const cluster of want.clusters) {
        checkedClusters.add(cluster);
        if (prober.clusters.has(cluster)) continue;
        prober.clusters.add(cluster);
        endpointHealthy.set({ cluster, endpoint: prober.endpoint }, prober.healthy ? 1 : 0);
      }
      if (created) prober.start();
    }
    this.#retainClusterSeries(checkedClusters);
    this.#publish();
  }

  /**
   * Endpoint keys (see {@link endpointKey}) currently failed by their checks. The set is replaced,
   * never modified, when it changes: a reference taken earlier keeps its content.
   */
  unhealthy(): ReadonlySet<string> {
    return this.#unhealthy;
  }

  /**
   * Stops every prober and forgets every verdict: {@link unhealthy} is then empty (without a call
   * to `onChange`), the `signalbox_endpoint_healthy` series are removed, and later updates are
   * ignored. For shutdown.
   */
  stop(): void {
    this.#stopped = true;
    for (const prober of this.#probers.values()) prober.stop();
    this.#probers.clear();
    this.#metrics.endpointHealthy.reset();
    this.#unhealthy = new Set();
  }

  #recordResult(prober: Prober, outcome: ProbeOutcome, durationMs: number): void {
    const result = outcome.pass ? 'pass' : 'fail';
    for (const cluster of prober.clusters) {
      this.#metrics.checks.inc({ cluster, result });
      this.#metrics.checkDuration.observe({ cluster }, durationMs / 1_000);
    }
    if (!outcome.pass && this.#log.isLevelEnabled('debug')) {
      this.#log.debug({ clusters: [...prober.clusters], endpoint: prober.endpoint, ...probeOf(prober.check), reason: outcome.reason }, 'health check failed');
    }
  }

  #recordTransition(prober: Prober, outcome: ProbeOutcome): void {
    const healthy = prober.healthy;
    for (const cluster of prober.clusters) {
      this.#metrics.endpointHealthy.set({ cluster, endpoint: prober.endpoint }, healthy ? 1 : 0);
      const fields = { cluster, endpoint: prober.endpoint, ...probeOf(prober.check), reason: outcome.reason };
      if (healthy) this.#log.info({ ...fields, passes: prober.check.healthyThreshold }, 'endpoint passes its health check again: healthy');
      else this.#log.warn({ ...fields, failures: prober.check.unhealthyThreshold }, 'endpoint fails its health check: unhealthy');
    }
    this.#publish();
  }

  /** Pre-creates pass/fail series for new clusters (so rates start at 0) and drops those of departed ones. */
  #retainClusterSeries(clusters: Set<string>): void {
    const { checks, checkDuration } = this.#metrics;
    for (const cluster of this.#checkedClusters) {
      if (clusters.has(cluster)) continue;
      checks.remove({ cluster, result: 'pass' });
      checks.remove({ cluster, result: 'fail' });
      checkDuration.remove({ cluster });
    }
    for (const cluster of clusters) {
      if (this.#checkedClusters.has(cluster)) continue;
      checks.inc({ cluster, result: 'pass' }, 0);
      checks.inc({ cluster, result: 'fail' }, 0);
    }
    this.#checkedClusters = clusters;
  }

  /** Recomputes the unhealthy set; replaces it and tells the owner if it differs. */
  #publish(): void {
    const next = new Set<string>();
    for (const prober of this.#probers.values()) {
      if (prober.healthy) continue;
      for (const cluster of prober.clusters) next.add(endpointKey(cluster, prober.address, prober.port));
    }
    if (sameSet(next, this.#unhealthy)) return;
    this.#unhealthy = next;
    try {
      this.#onChange(next);
    } catch (err) {
      this.#log.error({ err }, 'health-check onChange callback failed');
    }
  }
}

/**
 * Every (endpoint, check) the table asks for, by prober key, with the clusters that ask. A cluster
 * only layer-4 routes use (TCP, TLS passthrough) is probed by a TCP connect whatever its check
 * says: its endpoints may speak anything, and an HTTP probe would fail where traffic does not. A
 * UDP cluster is not probed: a datagram is not answered by a closed port in any way a probe can
 * count on.
 */
function wantedProbers(table: RoutingTable): Map<string, WantedProber> {
  const wanted = new Map<string, WantedProber>();
  const layer4Only = layer4OnlyClusters(table);
  for (const cluster of Object.values(table.clusters)) {
    const policyCheck = cluster.policy.healthCheck;
    if (policyCheck === null || cluster.transport === 'UDP') continue;
    const check: HealthCheckPolicy = layer4Only.has(cluster.name) && policyCheck.kind !== 'tcp' ? { ...policyCheck, kind: 'tcp', path: '' } : policyCheck;
    for (const endpoint of cluster.endpoints) {
      if (!endpoint.ready && !endpoint.serving) continue;
      const transport: ProbeTransport = { protocol: cluster.policy.protocol, tls: cluster.policy.tls };
      const key = proberKey(endpoint.address, endpoint.port, check, transport);
      let want = wanted.get(key);
      if (want === undefined) {
        want = { address: endpoint.address, port: endpoint.port, check, transport, clusters: new Set() };
        wanted.set(key, want);
      }
      want.clusters.add(cluster.name);
    }
  }
  return wanted;
}

/** What a log line says of the probe: its path, or that it is a TCP connect. */
function probeOf(check: HealthCheckPolicy): { path: string } | { probe: 'tcp' } {
  return check.kind === 'tcp' ? { probe: 'tcp' } : { path: check.path };
}

/** Clusters that stream routes use and no HTTP route (nor mirror) does. */
function layer4OnlyClusters(table: RoutingTable): Set<string> {
  const layer4 = new Set<string>();
  for (const route of table.streamRoutes) for (const backend of route.backends) if (backend.cluster !== null) layer4.add(backend.cluster);
  if (layer4.size === 0) return layer4;
  // Any mention of a cluster on the HTTP side (backends, mirrors, filters, scripts' targets) keeps
  // it an HTTP cluster: a walk over plain data, once per table, finds them all whatever their field.
  const visit = (value: unknown): void => {
    if (typeof value === 'string') layer4.delete(value);
    else if (Array.isArray(value)) for (const item of value) visit(item);
    else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) visit(item);
  };
  visit(table.virtualHosts);
  visit(table.defaultRoute);
  visit(table.scripts);
  return layer4;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}
