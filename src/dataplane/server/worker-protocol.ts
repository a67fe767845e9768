import type { DataplaneConfig } from '../../config/dataplane-config.ts';
import type { PublishedTable } from '../../model/table.ts';
import type { ScriptStatus } from '../../script/index.ts';

/** What a data-plane worker thread is started with (its `workerData`). */
export interface WorkerInit {
  readonly index: number;
  /** Configuration with `defaultCertificate` filled in, so every worker serves the same one. */
  readonly config: DataplaneConfig;
  /** Ports to bind: the first worker may get 0 (any free port); the rest get the port it bound. */
  readonly ports: { readonly http: number; readonly https: number | null };
  /** Check first that no other process holds the ports (the first worker at start-up only). */
  readonly claim: boolean;
}

/** Messages from the control plane to a worker. */
export type ToWorker =
  | { readonly type: 'table'; readonly published: PublishedTable }
  | { readonly type: 'metrics'; readonly id: number }
  /** The endpoints (`cluster|address|port`) that fail their active health checks now. */
  | { readonly type: 'health'; readonly unhealthy: readonly string[] }
  /** Shutdown has begun: keep serving, but let clients go (Connection: close, GOAWAY). */
  | { readonly type: 'drain' }
  /** Stop accepting connections (the workers still listening get them), keeping the open ones. */
  | { readonly type: 'unlisten' }
  | { readonly type: 'stop'; readonly graceMs: number };

/** Messages from a worker to the control plane. */
export type FromWorker =
  | { readonly type: 'listening'; readonly ports: { readonly http: number; readonly https: number | null } }
  | { readonly type: 'table-applied'; readonly version: number }
  | { readonly type: 'metrics'; readonly id: number; readonly data: unknown }
  /** A RouteScript started failing (backing off) or recovered in this worker. */
  | { readonly type: 'script-status'; readonly status: ScriptStatus }
  /** The worker's heap is nearly full: replace it, then drain and stop it (worker-pool.ts). */
  | { readonly type: 'retiring'; readonly usedBytes: number; readonly limitBytes: number }
  | { readonly type: 'stopped' }
  | { readonly type: 'fatal'; readonly message: string };
