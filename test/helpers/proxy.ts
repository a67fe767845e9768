/** Starts a real signalbox (`serve` runtime with worker threads) on free ports for a test. */
import { DEFAULT_DATAPLANE_CONFIG, type DataplaneConfig, type DebugListenerConfig } from '../../src/config/dataplane-config.ts';
import { startServe, type RunningServe } from '../../src/cli/serve-runtime.ts';
import { createLogger } from '../../src/log.ts';
import { DEFAULT_COMPILE_OPTIONS, type CompileOptions } from '../../src/model/snapshot.ts';
import { checkTable } from '../../src/model/check-table.ts';
import type { CompileResult, RoutingTable } from '../../src/model/table.ts';

/** A running proxy with URLs to reach it. */
export interface TestProxy extends RunningServe {
  readonly http: string;
  readonly https: string;
  readonly admin: string;
  /** The debug listener (`/debug/table`, `/debug/scripts`); empty when it is off. */
  readonly debug: string;
  /** Resolves once the workers serve a table newer than the one served when this was called. */
  nextTable(): Promise<void>;
}

/** Options for {@link startProxy}: anything in DataplaneConfig plus workers and timeouts. */
export interface TestProxyOptions {
  readonly workers?: number;
  readonly dataplane?: Partial<DataplaneConfig>;
  readonly timeouts?: Partial<DataplaneConfig['timeouts']>;
  readonly limits?: Partial<DataplaneConfig['limits']>;
  /** Compile options beyond the defaults (e.g. the script memory budget). */
  readonly compile?: Partial<CompileOptions>;
  readonly http2?: Partial<DataplaneConfig['http2']>;
  readonly drainMs?: number;
  readonly graceMs?: number;
  /** The admin listener's address; 127.0.0.1 by default. */
  readonly adminBind?: string;
  /** The debug listener; by default on a free loopback port without a token; null turns it off. */
  readonly debug?: DebugListenerConfig | null;
  /**
   * Edits every compiled table before it is served: for routes no front end writes yet (matches,
   * weighted backends, filters). The edited table must pass checkTable, or the proxy fails to start.
   */
  readonly editTable?: (table: RoutingTable) => RoutingTable;
}

/** Starts `serve` on `dir` with every port free-picked and access logs off. */
export async function startProxy(dir: string, options: TestProxyOptions = {}): Promise<TestProxy> {
  const dataplane: DataplaneConfig = {
    ...DEFAULT_DATAPLANE_CONFIG,
    bindAddress: '127.0.0.1',
    httpPort: 0,
    httpsPort: 0,
    accessLog: 'off',
    logLevel: 'silent',
    ...options.dataplane,
    timeouts: { ...DEFAULT_DATAPLANE_CONFIG.timeouts, ...options.timeouts },
    limits: { ...DEFAULT_DATAPLANE_CONFIG.limits, ...options.limits },
    http2: { ...DEFAULT_DATAPLANE_CONFIG.http2, ...options.http2 },
  };
  const running = await startServe({
    manifests: dir,
    dataplane,
    compile: { ...DEFAULT_COMPILE_OPTIONS, ...options.compile },
    workers: options.workers ?? 1,
    adminBind: options.adminBind ?? '127.0.0.1',
    adminPort: 0,
    debug: options.debug === undefined ? { bind: '127.0.0.1', port: 0, tokenFile: null } : options.debug,
    drainMs: options.drainMs ?? 0,
    graceMs: options.graceMs ?? 2_000,
    log: createLogger({ level: 'silent' }),
    ...(options.editTable === undefined ? {} : { tableStage: checkedEdit(options.editTable) }),
  });
  const { http, https, admin, debug } = running.ports;
  // Like a load balancer would, wait for readiness: every worker serves the first table.
  await running.whenApplied(running.current()?.version ?? 0);
  return {
    ...running,
    http: `http://127.0.0.1:${http}`,
    https: `https://127.0.0.1:${https}`,
    admin: `http://127.0.0.1:${admin}`,
    debug: debug === null ? '' : `http://127.0.0.1:${debug}`,
    nextTable() {
      const version = (running.current()?.version ?? 0) + 1;
      return running.whenApplied(version);
    },
  };
}

/** A table stage applying `edit` to a copy of each table, refusing one that breaks an invariant. */
function checkedEdit(edit: (table: RoutingTable) => RoutingTable): (result: CompileResult) => CompileResult {
  return (result) => {
    const table = edit(structuredClone(result.table) as RoutingTable);
    const violations = checkTable(table);
    if (violations.length > 0) throw new Error(`the edited table breaks invariants: ${JSON.stringify(violations, null, 2)}`);
    return { ...result, table };
  };
}
