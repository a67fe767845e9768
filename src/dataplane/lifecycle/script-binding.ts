import type { CounterCell, HistogramCell } from '../../metrics/hot-metrics.ts';
import type { DataplaneMetrics } from '../../metrics/metrics.ts';
import type { CompiledScript } from '../../model/table.ts';
import type { Decision, FailureCause, LoadedScript, ResponseDecision, RouteState } from '../../script/index.ts';
import type { RouteContext } from './route-context.ts';

/**
 * A RouteScript bound to one route of one prepared table: the engine's handle, the route's
 * `ctx.state`, the route contexts of its named backends, its failure policy and its metric cells —
 * everything the script phase needs, computed once per table swap.
 */
export class ScriptBinding {
  /** `namespace/name` of the RouteScript. */
  readonly id: string;
  /** The engine's handle; null for an invalid RouteScript that fails closed (nothing to run). */
  readonly loaded: LoadedScript | null;
  readonly state: RouteState;
  /** `fallback`: a failed run leaves the request to the route; `reject`: answer {@link rejectStatus}. */
  readonly failurePolicy: CompiledScript['failurePolicy'];
  readonly rejectStatus: number;
  /** The operator's pause of the RouteScript (`spec.pause`), or null. */
  readonly pause: CompiledScript['pause'];
  /** The route served through each declared backend: same route, that backend's cluster. */
  readonly backends: ReadonlyMap<string, RouteContext>;
  readonly invocations: CounterCell;
  readonly duration: HistogramCell;
  readonly #metrics: DataplaneMetrics;
  /** Decisions are frozen and reused by the engine (one per distinct answer), so their kinds are counted by identity. */
  readonly #kinds = new WeakMap<Decision, readonly CounterCell[]>();
  #defaultCell: CounterCell | null = null;
  readonly #errors = new Map<FailureCause, CounterCell>();
  readonly #responseKinds = new Map<string, CounterCell>();

  constructor(script: CompiledScript, loaded: LoadedScript | null, state: RouteState, backends: ReadonlyMap<string, RouteContext>, metrics: DataplaneMetrics) {
    this.id = script.name;
    this.loaded = loaded;
    this.state = state;
    this.failurePolicy = script.failurePolicy;
    this.rejectStatus = script.rejectStatus;
    this.pause = script.pause;
    this.backends = backends;
    this.#metrics = metrics;
    this.invocations = metrics.scriptInvocations.cell(script.name);
    this.duration = metrics.scriptDuration.cell(script.name);
  }

  /** Counts a decision by kind: each field it sets, or `default` when it sets none. */
  countDecision(decision: Decision | null): void {
    if (decision === null) {
      (this.#defaultCell ??= this.#metrics.scriptDecisions.cell(this.id, 'default')).inc();
      return;
    }
    let cells = this.#kinds.get(decision);
    if (cells === undefined) {
      const kinds = Object.keys(decision);
      cells = (kinds.length === 0 ? ['default'] : kinds).map((kind) => this.#metrics.scriptDecisions.cell(this.id, kind));
      this.#kinds.set(decision, cells);
    }
    for (const cell of cells) cell.inc();
  }

  /** Counts an `onResponse` decision by kind, each prefixed `response-` (`response-default` when it sets none). */
  countResponseDecision(decision: ResponseDecision | null): void {
    const kinds = decision === null ? [] : Object.keys(decision);
    for (const kind of kinds.length === 0 ? ['default'] : kinds) {
      const label = `response-${kind}`;
      let cell = this.#responseKinds.get(label);
      if (cell === undefined) this.#responseKinds.set(label, (cell = this.#metrics.scriptDecisions.cell(this.id, label)));
      cell.inc();
    }
  }

  /** Counts a failed run by cause. */
  countError(cause: FailureCause): void {
    let cell = this.#errors.get(cause);
    if (cell === undefined) {
      cell = this.#metrics.scriptErrors.cell(this.id, cause);
      this.#errors.set(cause, cell);
    }
    cell.inc();
  }
}
