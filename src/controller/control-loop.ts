/**
 * The control loop: source → debounce → compile (TableBuilder) → publish → hooks. Level-triggered:
 * a change only schedules a rebuild, and each rebuild compiles every object the source holds now.
 * The first table is built once the source has loaded (never before the initial sync); later
 * changes are debounced, so a burst of them compiles once.
 */
import { snapshotFromObjects } from '../compile/snapshot-from-objects.ts';
import type { Logger } from '../log.ts';
import type { ControlMetrics } from '../metrics/metrics.ts';
import type { CompileOptions } from '../model/snapshot.ts';
import type { CompileResult, PublishedTable } from '../model/table.ts';
import type { ObjectSource } from '../source/object-source.ts';
import { withDefaultNamespace } from '../source/namespace-defaults.ts';
import { Debouncer } from './debouncer.ts';
import { TableBuilder, type TableStage } from './table-builder.ts';

/** The debounce of rebuilds when none is given: 50 ms of quiet, at most 500 ms after a first change. */
export const DEFAULT_DEBOUNCE = Object.freeze({ holdoffMs: 50, maxDelayMs: 500 });

/** What the source-specific side (the controller's status writer) hears of each build. */
export interface ControlLoopHooks {
  /** After each compile: its result, and the table published (null when it equals the current one). */
  readonly built?: (result: CompileResult, published: PublishedTable | null) => void;
}

/** How a {@link ControlLoop} compiles and where its tables go. */
export interface ControlLoopOptions {
  readonly compile: CompileOptions;
  /** Rebuild holdoff and longest delay after a change; {@link DEFAULT_DEBOUNCE} when absent. */
  readonly debounce?: { readonly holdoffMs: number; readonly maxDelayMs: number } | undefined;
  /** The `compile` component's logger: every new diagnostic is logged once. */
  readonly log: Logger;
  readonly metrics: ControlMetrics;
  /** A last compile stage (see TableStage); none in the commands. */
  readonly tableStage?: TableStage | undefined;
  /** Receives each new table (never one equal to the current): the worker pool, the health checker. */
  readonly publish: (table: PublishedTable) => void;
  readonly hooks?: ControlLoopHooks | undefined;
}

/** Compiles what `source` holds, now and after every change, and publishes each new table. */
export class ControlLoop {
  readonly #source: ObjectSource;
  readonly #options: ControlLoopOptions;
  readonly #builder: TableBuilder;
  readonly #debouncer: Debouncer;
  #watching = false;

  constructor(source: ObjectSource, options: ControlLoopOptions) {
    this.#source = source;
    this.#options = options;
    this.#builder = new TableBuilder(options.compile, options.log, options.metrics, options.tableStage ?? null);
    const { holdoffMs, maxDelayMs } = options.debounce ?? DEFAULT_DEBOUNCE;
    this.#debouncer = new Debouncer(() => this.rebuild(), holdoffMs, maxDelayMs);
  }

  /** The table published last, or null before the first. */
  get current(): PublishedTable | null {
    return this.#builder.current;
  }

  /** The full result of the last compile (statuses included), or null before the first. */
  get lastResult(): CompileResult | null {
    return this.#builder.lastResult;
  }

  /** Waits for the source's initial sync and builds the first table from it. */
  async load(): Promise<void> {
    await this.#source.load();
    this.rebuild();
  }

  /**
   * From now on, every change of the source schedules a debounced rebuild. Separate from
   * {@link load} so that the first table reaches the data plane before changes are listened to.
   */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#source.watch(() => this.#debouncer.trigger());
  }

  /** Compiles the source's objects now, publishes the table if it changed, and tells the hooks. */
  rebuild(): void {
    const source = this.#source;
    const { snapshot, diagnostics } = snapshotFromObjects(withDefaultNamespace(source.objects()));
    const published = this.#builder.build(snapshot, [...source.diagnostics(), ...diagnostics], source.locate === undefined ? undefined : (d) => source.locate!(d));
    if (published !== null) this.#options.publish(published);
    const result = this.#builder.lastResult;
    if (result !== null) this.#options.hooks?.built?.(result, published);
  }

  /** Stops watching the source and drops any pending rebuild. */
  async stop(): Promise<void> {
    await this.#source.close();
    this.#debouncer.stop();
  }
}
