/**
 * The composition of a running data plane: the control loop (controller/control-loop.ts) fed by a
 * source, the worker pool it publishes to, the active health checker, the admin server and the
 * debug listener, and their orderly shutdown.
 */
import type { DataplaneConfig, DebugListenerConfig } from '../config/dataplane-config.ts';
import { ControlLoop, type ControlLoopHooks } from '../controller/control-loop.ts';
import type { TableStage } from '../controller/table-builder.ts';
import { startAdminServer } from '../dataplane/server/admin-server.ts';
import { startDebugServer } from '../dataplane/server/debug-server.ts';
import { DebugToken } from '../dataplane/server/debug-token.ts';
import { generateSelfSignedCertificate } from '../dataplane/server/tls/self-signed.ts';
import { WorkerPool } from '../dataplane/server/worker-pool.ts';
import { ActiveHealthChecker } from '../health/active-health.ts';
import type { Logger } from '../log.ts';
import { createControlMetrics, type ControlMetrics } from '../metrics/metrics.ts';
import type { CompileOptions } from '../model/snapshot.ts';
import type { CompileResult, PublishedTable } from '../model/table.ts';
import type { ObjectSource } from '../source/object-source.ts';

/** What every way of running the data plane needs. */
export interface RuntimeOptions {
  readonly dataplane: DataplaneConfig;
  readonly compile: CompileOptions;
  readonly workers: number;
  readonly adminBind: string;
  readonly adminPort: number;
  /** The debug listener (`/debug/*`), or null for none. */
  readonly debug: DebugListenerConfig | null;
  /** On shutdown: how long readiness is failed while still serving, before listeners close. */
  readonly drainMs: number;
  /** On shutdown: how long requests in flight may take to finish once listeners closed. */
  readonly graceMs: number;
  /** Rebuild holdoff and longest delay after a change (a burst of changes compiles once). */
  readonly debounce?: { readonly holdoffMs: number; readonly maxDelayMs: number };
  readonly log: Logger;
  /** A last compile stage (see TableStage); none in the commands. */
  readonly tableStage?: TableStage;
}

/** A running data plane. */
export interface RunningRuntime {
  /** Where each listener is; `debug` is null when the debug listener is off. */
  readonly ports: { readonly http: number; readonly https: number | null; readonly admin: number; readonly debug: number | null };
  readonly metrics: ControlMetrics;
  /** The table served now. */
  current(): PublishedTable | null;
  /** The full result of the last compile (statuses included). */
  lastResult(): CompileResult | null;
  /** RouteScript health as the workers reported it. */
  scriptStatuses(): ReturnType<WorkerPool['scriptStatuses']>;
  /** Resolves once every worker serves `version` or newer. */
  whenApplied(version: number): Promise<void>;
  /** Graceful stop: readiness fails, drain period, listeners close, requests in flight finish. */
  stop(): Promise<void>;
}

/** What the source-specific side (the controller's status writer) hears of each build, and of stop. */
export interface RuntimeHooks extends ControlLoopHooks {
  /** Runs first during stop (before the drain), e.g. to give up leadership. */
  readonly stopping?: () => Promise<void>;
}

/**
 * The data plane fed by `source`: the control loop publishing to the WorkerPool and the active
 * health checker, the admin server and the debug listener. `serve --manifests` and `controller` differ only
 * in the source and in what they do with each build's statuses.
 */
export async function startRuntime(options: RuntimeOptions, source: ObjectSource, metrics: ControlMetrics = createControlMetrics(), hooks: RuntimeHooks = {}): Promise<RunningRuntime> {
  const { log } = options;
  // Read first: a token file that is missing or invalid stops start-up before any port opens.
  const debugLog = log.child({ component: 'debug' });
  const debugToken = options.debug === null || options.debug.tokenFile === null ? null : DebugToken.load(options.debug.tokenFile, debugLog);
  const dataplane: DataplaneConfig = {
    ...options.dataplane,
    defaultCertificate: options.dataplane.defaultCertificate ?? generateSelfSignedCertificate({ commonName: 'signalbox default certificate', dnsNames: ['signalbox.invalid'], days: 3650 }),
  };
  const pool = new WorkerPool(dataplane, options.workers, log.child({ component: 'workers' }), metrics);
  // One prober per endpoint for the whole process; the workers get only the verdicts.
  const health = new ActiveHealthChecker({
    log: log.child({ component: 'health' }),
    registry: metrics.registry,
    onChange: (unhealthy) => pool.setUnhealthy([...unhealthy]),
  });
  let draining = false;
  const loop = new ControlLoop(source, {
    compile: options.compile,
    debounce: options.debounce,
    log: log.child({ component: 'compile' }),
    metrics,
    tableStage: options.tableStage,
    publish: (published) => {
      pool.publish(published);
      health.update(published.table);
    },
    hooks,
  });

  await loop.load();
  const ports = await pool.start();
  loop.watch();
  const debug = options.debug === null
    ? null
    : await startDebugServer(
      { host: options.debug.bind, port: options.debug.port, token: debugToken, log: debugLog, unauthorized: metrics.debugUnauthorized },
      { currentTable: () => loop.current, scriptStatuses: () => pool.scriptStatuses() },
    );
  const admin = await startAdminServer(options.adminBind, options.adminPort, {
    registry: metrics.registry,
    collectWorkerMetrics: () => pool.collectMetrics(),
    isReady: () => !draining && loop.current !== null && pool.ready,
    debugAddress: debug === null || options.debug === null ? null : hostPort(options.debug.bind, debug.port),
  });

  let stopping: Promise<void> | null = null;
  return {
    ports: { ...ports, admin: admin.port, debug: debug?.port ?? null },
    metrics,
    current: () => loop.current,
    lastResult: () => loop.lastResult,
    scriptStatuses: () => pool.scriptStatuses(),
    whenApplied: (version) => pool.whenApplied(version),
    stop() {
      stopping ??= (async () => {
        draining = true;
        pool.drain();
        await hooks.stopping?.();
        await loop.stop();
        health.stop();
        if (options.drainMs > 0) await new Promise((r) => setTimeout(r, options.drainMs));
        await pool.stop(options.graceMs);
        for (const { server } of debug === null ? [admin] : [admin, debug]) {
          server.closeAllConnections();
          await new Promise((r) => server.close(r));
        }
      })();
      return stopping;
    },
  };
}

/** `host:port`, IPv6 addresses in brackets. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
