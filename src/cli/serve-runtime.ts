import { snapshotFromObjects } from '../compile/snapshot-from-objects.ts';
import type { DataplaneConfig } from '../config/dataplane-config.ts';
import { Debouncer } from '../controller/debouncer.ts';
import { TableBuilder } from '../controller/table-builder.ts';
import { startAdminServer } from '../dataplane/admin-server.ts';
import { generateSelfSignedCertificate } from '../dataplane/tls/self-signed.ts';
import { WorkerPool } from '../dataplane/worker-pool.ts';
import { ActiveHealthChecker } from '../health/active-health.ts';
import type { Logger } from '../log.ts';
import { createControlMetrics } from '../metrics/metrics.ts';
import type { CompileOptions } from '../model/snapshot.ts';
import type { PublishedTable } from '../model/table.ts';
import { ManifestSource } from '../source/manifest-source.ts';
import { withDefaultNamespace } from '../source/namespace-defaults.ts';

/** Everything `signalbox serve` needs. */
export interface ServeOptions {
  readonly manifests: string;
  readonly dataplane: DataplaneConfig;
  readonly compile: CompileOptions;
  readonly workers: number;
  readonly adminBind: string;
  readonly adminPort: number;
  /** On shutdown: how long readiness is failed while still serving, before listeners close. */
  readonly drainMs: number;
  /** On shutdown: how long requests in flight may take to finish once listeners closed. */
  readonly graceMs: number;
  readonly log: Logger;
}

/** A running standalone data plane. */
export interface RunningServe {
  readonly ports: { readonly http: number; readonly https: number | null; readonly admin: number };
  /** The table served now. */
  current(): PublishedTable | null;
  /** Resolves once every worker serves `version` or newer. */
  whenApplied(version: number): Promise<void>;
  /** Graceful stop: readiness fails, drain period, listeners close, requests in flight finish. */
  stop(): Promise<void>;
}

/**
 * The standalone data plane: the manifest directory as source, the same compile and data plane as
 * in a cluster. Files → ManifestSource → debounce → TableBuilder → WorkerPool (+ admin server).
 */
export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const { log } = options;
  const metrics = createControlMetrics();
  const dataplane: DataplaneConfig = {
    ...options.dataplane,
    defaultCertificate: options.dataplane.defaultCertificate ?? generateSelfSignedCertificate({ commonName: 'signalbox default certificate', dnsNames: ['signalbox.invalid'], days: 3650 }),
  };
  const source = new ManifestSource(options.manifests, log.child({ component: 'source' }), (reason) => metrics.sourceErrors.labels(reason).inc());
  const builder = new TableBuilder(options.compile, log.child({ component: 'compile' }), metrics);
  const pool = new WorkerPool(dataplane, options.workers, log.child({ component: 'workers' }), metrics);
  // One prober per endpoint for the whole process; the workers get only the verdicts.
  const health = new ActiveHealthChecker({
    log: log.child({ component: 'health' }),
    registry: metrics.registry,
    onChange: (unhealthy) => pool.setUnhealthy([...unhealthy]),
  });
  let draining = false;

  const rebuild = (): void => {
    const { snapshot, diagnostics } = snapshotFromObjects(withDefaultNamespace(source.objects()));
    const published = builder.build(snapshot, [...source.diagnostics(), ...diagnostics]);
    if (published === null) return;
    pool.publish(published);
    health.update(published.table);
  };

  await source.load();
  rebuild();
  const ports = await pool.start();
  const debouncer = new Debouncer(rebuild, 50, 500);
  source.watch(() => debouncer.trigger());
  const admin = await startAdminServer(options.adminBind, options.adminPort, {
    registry: metrics.registry,
    collectWorkerMetrics: () => pool.collectMetrics(),
    currentTable: () => builder.current,
    isReady: () => !draining && builder.current !== null && pool.ready,
    scriptStatuses: () => pool.scriptStatuses(),
  });

  let stopping: Promise<void> | null = null;
  return {
    ports: { ...ports, admin: admin.port },
    current: () => builder.current,
    whenApplied: (version) => pool.whenApplied(version),
    stop() {
      stopping ??= (async () => {
        draining = true;
        pool.drain();
        source.close();
        debouncer.stop();
        health.stop();
        if (options.drainMs > 0) await new Promise((r) => setTimeout(r, options.drainMs));
        await pool.stop(options.graceMs);
        admin.server.closeAllConnections();
        await new Promise((r) => admin.server.close(r));
      })();
      return stopping;
    },
  };
}
