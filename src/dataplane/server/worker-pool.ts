import { Worker } from 'node:worker_threads';
import type { DataplaneConfig } from '../../config/dataplane-config.ts';
import { ListenError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ControlMetrics } from '../../metrics/metrics.ts';
import type { PublishedTable } from '../../model/table.ts';
import type { ScriptStatus } from '../../script/index.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';

const WORKER_URL = new URL('./worker.ts', import.meta.url);
/** How long a worker replaced for its heap gets to finish its requests before it is stopped. */
const RETIRE_GRACE_MS = 10_000;
/**
 * How long it serves the connections it has, answering with Connection: close, after it stopped
 * accepting and before it closes the idle ones: a keep-alive client that sends its next request
 * just as the server closes the connection sees a reset, so the busy connections first end on a response.
 */
const RETIRE_DRAIN_MS = 1_000;

interface Slot {
  worker: Worker | null;
  appliedVersion: number;
  restarts: number;
}

/**
 * The data-plane worker threads, seen from the control plane: starts them on shared ports, sends each
 * new table to all of them, gathers their metrics, restarts one that crashes (with backoff, and with
 * the current table), and stops them gracefully.
 */
export class WorkerPool {
  readonly #config: DataplaneConfig;
  readonly #count: number;
  readonly #log: Logger;
  readonly #metrics: ControlMetrics;
  readonly #slots: Slot[] = [];
  #ports: { http: number; https: number | null } | null = null;
  #latest: PublishedTable | null = null;
  #unhealthy: readonly string[] = [];
  #stopping = false;
  #nextMetricsId = 1;
  readonly #pendingMetrics = new Map<number, (data: unknown) => void>();
  readonly #appliedWaiters = new Set<() => void>();
  /** The latest health each worker reported for each RouteScript (only scripts that changed state). */
  readonly #scriptStatuses = new Map<string, Map<number, ScriptStatus>>();
  /** Workers replaced for their heap that are still finishing their requests. */
  readonly #retiring = new Set<Worker>();

  constructor(config: DataplaneConfig, count: number, log: Logger, metrics: ControlMetrics) {
    this.#config = config;
    this.#count = count;
    this.#log = log;
    this.#metrics = metrics;
  }

  /** Starts every worker; resolves with the bound ports once all listen. */
  async start(): Promise<{ http: number; https: number | null }> {
    // The first worker binds the configured ports (maybe 0), after making sure that no other process
    // holds them; the rest join the ports it got.
    const first = await this.#spawn(0, { http: this.#config.httpPort, https: this.#config.httpsPort }, true);
    this.#ports = first;
    await Promise.all(Array.from({ length: this.#count - 1 }, (_, i) => this.#spawn(i + 1, first, false)));
    return first;
  }

  /** Sends `published` to every worker; it becomes the table each serves. */
  publish(published: PublishedTable): void {
    this.#latest = published;
    for (const slot of this.#slots) this.#post(slot, { type: 'table', published });
  }

  /** Sends the active health checks' verdict (failed `cluster|address|port` keys) to every worker. */
  setUnhealthy(keys: readonly string[]): void {
    this.#unhealthy = keys;
    for (const slot of this.#slots) this.#post(slot, { type: 'health', unhealthy: keys });
  }

  /** True once every running worker serves a table (and at least one is running). */
  get ready(): boolean {
    const live = this.#slots.filter((s) => s.worker !== null);
    return this.#slots.length === this.#count && live.length > 0 && live.every((s) => s.appliedVersion > 0);
  }

  /** Resolves when every worker serves version `version` or newer. */
  whenApplied(version: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#slots.every((s) => s.worker === null || s.appliedVersion >= version)) {
          this.#appliedWaiters.delete(check);
          resolve();
        }
      };
      this.#appliedWaiters.add(check);
      check();
    });
  }

  /** Each worker's metrics as prom-client JSON, for aggregation. */
  async collectMetrics(): Promise<unknown[]> {
    const live = this.#slots.filter((s) => s.worker !== null);
    return Promise.all(
      live.map(
        (slot) =>
          new Promise<unknown>((resolve) => {
            const id = this.#nextMetricsId++;
            const timer = setTimeout(() => {
              this.#pendingMetrics.delete(id);
              resolve([]);
            }, 2_000);
            this.#pendingMetrics.set(id, (data) => {
              clearTimeout(timer);
              resolve(data);
            });
            this.#post(slot, { type: 'metrics', id });
          }),
      ),
    );
  }

  /**
   * What the workers last reported about each RouteScript that has started failing at least once:
   * by script id, the status per worker index. A script never reported has never failed.
   */
  scriptStatuses(): ReadonlyMap<string, ReadonlyMap<number, ScriptStatus>> {
    return this.#scriptStatuses;
  }

  /** Tells every worker that shutdown has begun: responses close their connections from now on. */
  drain(): void {
    for (const slot of this.#slots) this.#post(slot, { type: 'drain' });
  }

  /** Stops every worker: no new connections, requests in flight get up to `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const retiring = [...this.#retiring].map((worker) => exitOf(worker, graceMs + 2_000));
    await Promise.all(retiring);
    await Promise.all(
      this.#slots.map(async (slot) => {
        const worker = slot.worker;
        if (worker === null) return;
        const exited = exitOf(worker, graceMs + 2_000);
        this.#post(slot, { type: 'stop', graceMs });
        await exited;
      }),
    );
  }

  /**
   * Replaces a worker whose heap is nearly full: a new one joins the ports in its slot, and once it
   * listens the old one drains (Connection: close, GOAWAY), stops accepting — the kernel gives new
   * connections to the workers still listening — and finishes its requests within the grace.
   */
  #retire(index: number, slot: Slot, worker: Worker): void {
    if (this.#stopping || this.#ports === null || slot.worker !== worker) return;
    this.#metrics.workerRecycles.inc();
    this.#log.warn({ worker: index }, 'replacing a data-plane worker whose heap is nearly full');
    const stopOld = (): void => {
      worker.postMessage({ type: 'drain' } satisfies ToWorker);
      worker.postMessage({ type: 'unlisten' } satisfies ToWorker);
      setTimeout(() => worker.postMessage({ type: 'stop', graceMs: RETIRE_GRACE_MS } satisfies ToWorker), RETIRE_DRAIN_MS).unref();
      setTimeout(() => void worker.terminate(), RETIRE_DRAIN_MS + RETIRE_GRACE_MS + 2_000).unref();
    };
    this.#retiring.add(worker);
    worker.once('exit', () => this.#retiring.delete(worker));
    this.#spawn(index, this.#ports, false).then(stopOld, (err: unknown) => {
      // Keep the old one serving: it is still better than no worker in this slot.
      this.#log.error({ worker: index, err }, 'the replacement worker failed to start; keeping the old one');
      this.#retiring.delete(worker);
      slot.worker = worker;
    });
  }

  #post(slot: Slot, message: ToWorker): void {
    slot.worker?.postMessage(message);
  }

  #spawn(index: number, ports: { http: number; https: number | null }, claim: boolean): Promise<{ http: number; https: number | null }> {
    const init: WorkerInit = { index, config: this.#config, ports, claim };
    const heap = this.#config.workerHeapMiB;
    const worker = new Worker(WORKER_URL, { workerData: init, name: `signalbox-dataplane-${index}`, ...(heap === null ? {} : { resourceLimits: { maxOldGenerationSizeMb: heap } }) });
    const slot: Slot = this.#slots[index] ?? { worker: null, appliedVersion: 0, restarts: 0 };
    slot.worker = worker;
    slot.appliedVersion = 0;
    this.#slots[index] = slot;
    this.#metrics.workers.set(this.#slots.filter((s) => s.worker !== null).length);
    return new Promise((resolve, reject) => {
      let listening = false;
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'listening':
            listening = true;
            if (this.#unhealthy.length > 0) this.#post(slot, { type: 'health', unhealthy: this.#unhealthy });
            if (this.#latest) this.#post(slot, { type: 'table', published: this.#latest });
            resolve(message.ports);
            break;
          case 'table-applied':
            if (slot.worker !== worker) break; // a worker being retired: its slot has another
            slot.appliedVersion = Math.max(slot.appliedVersion, message.version);
            for (const waiter of [...this.#appliedWaiters]) waiter();
            break;
          case 'metrics':
            this.#pendingMetrics.get(message.id)?.(message.data);
            this.#pendingMetrics.delete(message.id);
            break;
          case 'fatal':
            // Before it listens, the failure is the caller's to report (start-up stops with it as
            // its one-line error; a restart logs it).
            if (listening) this.#log.error({ worker: index, err: message.message }, 'data-plane worker failed');
            else reject(new ListenError(message.message));
            break;
          case 'script-status': {
            let byWorker = this.#scriptStatuses.get(message.status.id);
            if (byWorker === undefined) this.#scriptStatuses.set(message.status.id, (byWorker = new Map()));
            byWorker.set(index, message.status);
            break;
          }
          case 'retiring':
            this.#retire(index, slot, worker);
            break;
          case 'stopped':
            break;
        }
      });
      worker.on('error', (err) => {
        this.#log.error({ worker: index, err }, 'data-plane worker crashed');
        if (!listening) reject(err);
      });
      worker.on('exit', (code) => {
        if (slot.worker !== worker) return; // retired: its replacement holds the slot
        slot.worker = null;
        this.#metrics.workers.set(this.#slots.filter((s) => s.worker !== null).length);
        for (const waiter of [...this.#appliedWaiters]) waiter();
        if (this.#stopping || !listening) return;
        slot.restarts++;
        this.#metrics.workerRestarts.inc();
        const delay = Math.min(5_000, 100 * 2 ** Math.min(slot.restarts, 6));
        this.#log.warn({ worker: index, code, delayMs: delay }, 'restarting data-plane worker');
        setTimeout(() => {
          if (this.#stopping || this.#ports === null) return;
          this.#spawn(index, this.#ports, false).catch((err) => this.#log.error({ worker: index, err }, 'worker restart failed'));
        }, delay).unref();
      });
    });
  }
}

/** How long a terminated worker may take to exit before stop gives up waiting for it. */
const TERMINATE_WAIT_MS = 3_000;

/**
 * Resolves when `worker` exits: by itself, else terminated after `terminateMs`. A worker that does
 * not exit even then (a thread stuck in native code ignores termination) is let go — unreferenced,
 * so that it does not keep the process alive — after {@link TERMINATE_WAIT_MS} more: stopping must
 * end, or a pod's shutdown would hang until it is killed.
 */
function exitOf(worker: Worker, terminateMs: number): Promise<void> {
  return new Promise((resolve) => {
    const terminate = setTimeout(() => void worker.terminate(), terminateMs);
    const giveUp = setTimeout(() => {
      worker.unref();
      resolve();
    }, terminateMs + TERMINATE_WAIT_MS);
    giveUp.unref();
    worker.once('exit', () => {
      clearTimeout(terminate);
      clearTimeout(giveUp);
      resolve();
    });
  });
}
