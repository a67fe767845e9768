import { compile } from '../compile/compile.ts';
import { compileGuarded } from '../compile/guarded-compile.ts';
import type { Logger } from '../log.ts';
import type { ControlMetrics } from '../metrics/metrics.ts';
import type { CompileOptions, Snapshot } from '../model/snapshot.ts';
import { deepFreeze } from '../model/freeze.ts';
import type { CompileResult, Diagnostic, PublishedTable } from '../model/table.ts';

/**
 * A last, pure compile stage after the front ends, for programs that embed the runtime (and for
 * tests that need routes no front end writes yet): it gets each compile result and returns the one
 * to publish.
 */
export type TableStage = (result: CompileResult) => CompileResult;

/**
 * Turns snapshots into published tables: compiles (guarded by the table's invariants:
 * guarded-compile.ts), skips a table identical to the one already
 * published, stamps a version, freezes it, logs each diagnostic once (when it first appears), and
 * keeps the diagnostics gauge current. Level-triggered: it always compiles the whole snapshot.
 */
export class TableBuilder {
  readonly #options: CompileOptions;
  readonly #log: Logger;
  readonly #metrics: ControlMetrics;
  #version = 0;
  #lastJson = '';
  #current: PublishedTable | null = null;
  #lastResult: CompileResult | null = null;
  #reported = new Set<string>();

  readonly #stage: TableStage | null;
  readonly #compile: typeof compile;

  /** `compileFn` is for tests: a front end with a bug on demand. */
  constructor(options: CompileOptions, log: Logger, metrics: ControlMetrics, stage: TableStage | null = null, compileFn: typeof compile = compile) {
    this.#compile = compileFn;
    this.#options = options;
    this.#stage = stage;
    this.#log = log;
    this.#metrics = metrics;
  }

  /** The table published last, or null before the first. */
  get current(): PublishedTable | null {
    return this.#current;
  }

  /** The full result of the last compile (statuses included), or null before the first. */
  get lastResult(): CompileResult | null {
    return this.#lastResult;
  }

  /**
   * Compiles `snapshot`; returns the new published table, or null when it equals the current one.
   * `extra` diagnostics (from the source, e.g. files that do not parse) are published alongside;
   * `locate` lets the source add what only it knows to the compile's diagnostics (file lines).
   */
  build(snapshot: Snapshot, extra: readonly Diagnostic[] = [], locate: (diagnostics: readonly Diagnostic[]) => Diagnostic[] = (d) => [...d]): PublishedTable | null {
    const started = performance.now();
    const { unsafe, ...compiled } = compileGuarded(snapshot, this.#options, this.#compile);
    const result = this.#stage === null ? compiled : this.#stage(compiled);
    this.#metrics.compileDuration.observe((performance.now() - started) / 1000);
    this.#lastResult = result;
    const diagnostics = [...extra, ...locate(result.diagnostics)];
    this.#report(diagnostics);
    if (unsafe.length > 0) {
      // A bug no object can be blamed for: the workers keep the table they have.
      this.#metrics.tableRefusals.inc();
      this.#log.error({ violations: unsafe.slice(0, 20), count: unsafe.length }, 'the compiled routing table breaks its invariants and is not published; the one before keeps serving (a bug in signalbox: please report it)');
      return null;
    }
    const json = JSON.stringify([result.table, diagnostics]);
    if (json === this.#lastJson) return null;
    this.#lastJson = json;
    this.#version++;
    const published: PublishedTable = deepFreeze({ version: this.#version, table: result.table, diagnostics });
    this.#current = published;
    this.#metrics.tableVersion.set(this.#version);
    this.#metrics.tablePublishes.inc();
    this.#log.info(
      { version: this.#version, virtualHosts: result.table.virtualHosts.length, clusters: Object.keys(result.table.clusters).length, diagnostics: diagnostics.length, ms: Math.round((performance.now() - started) * 10) / 10 },
      'routing table published',
    );
    return published;
  }

  /**
   * Counts every diagnostic, and logs each new one once. The same problem of one object reported at
   * several places (a missing Service, for every route of the Ingress that names it) is one line
   * listing those places: one line per cause, not per route.
   */
  #report(diagnostics: readonly Diagnostic[]): void {
    const groups = new Map<string, { diagnostic: Diagnostic; paths: string[] }>();
    this.#metrics.diagnostics.reset();
    for (const d of diagnostics) {
      this.#metrics.diagnostics.labels(d.severity, d.code).inc();
      const key = `${d.kind}/${d.namespace}/${d.name}/${d.code}/${d.severity}/${d.message}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { diagnostic: d, paths: d.path === undefined ? [] : [d.path] });
      else if (d.path !== undefined) group.paths.push(d.path);
    }
    for (const [key, { diagnostic: d, paths }] of groups) {
      if (this.#reported.has(key)) continue;
      const where = paths.length > 1 ? { paths } : { path: paths[0] };
      const fields = { kind: d.kind, namespace: d.namespace, name: d.name, code: d.code, ...where };
      if (d.severity === 'error') this.#log.error(fields, d.message);
      else this.#log.warn(fields, d.message);
    }
    this.#reported = new Set(groups.keys());
  }
}
