import { BudgetWatch } from './budget-watch.ts';
import { CallMode } from './call-mode.ts';
import { scriptHooks, type ScriptHooks } from './check-script.ts';
import { FailureTracker, type FailurePolicy } from './failure-tracker.ts';
import { LogLimiter } from './log-limiter.ts';
import type { ScriptIsolate } from './script-isolate.ts';
import type { DecisionCache, ResponseDecisionCache } from './script-result.ts';
import type { RouteState } from './route-state.ts';
import type { Decision, Outcome, ResponseDecision, ScriptSource, ScriptStatus } from './types.ts';

/** @internal The outcome of a run of either hook. */
export type AnyOutcome = Outcome<Decision> | Outcome<ResponseDecision>;

/** @internal A request waiting for its script's next isolate call. */
export interface QueuedRun {
  /** The request or response, encoded for its hook (request-encoding.ts). */
  readonly payload: string;
  /** The status of the response, for a run of `onResponse`; null for `onRequest`. */
  readonly responseStatus: number | null;
  readonly state: RouteState;
  readonly resolve: (outcome: AnyOutcome) => void;
  /** Admitted as the trial run of a failing script; set when it is admitted, kept if it is put off. */
  trial: boolean;
}

/**
 * A script as loaded into one {@link ScriptEngine}: the handle the proxy keeps in its prepared table
 * and passes to `run`. Its isolate comes and goes (disposed at the memory limit, evicted from the
 * pool, recreated on demand); the handle, its failure record and its log budget stay.
 */
export class LoadedScript {
  /** The source as loaded (frozen by the engine). */
  readonly source: ScriptSource;
  /** See content-key.ts. */
  readonly key: string;
  /** The declared backends, for validating decisions. */
  readonly backends: ReadonlySet<string>;
  /** The request budget in whole milliseconds (at least 1), as isolated-vm takes it. */
  readonly timeoutMs: number;
  /**
   * The hooks the module exports, read from its text when it is loaded (check-script.ts), so that
   * the proxy skips the phase of a hook the script does not have; null when the text is no
   * RouteScript module (then it fails to load, and every run is `unavailable`).
   */
  readonly hooks: ScriptHooks | null;
  /** @internal checked decisions by their JSON text */
  readonly decisions: DecisionCache = new Map();
  /** @internal checked `onResponse` decisions by their JSON text */
  readonly responseDecisions: ResponseDecisionCache = new Map();
  /** @internal engine state */
  readonly tracker: FailureTracker;
  /** @internal engine state */
  readonly logLimiter: LogLimiter;
  /** @internal the warm isolate, if any */
  isolate: ScriptIsolate | null = null;
  /** @internal runs queued or in flight */
  active = 0;
  /** @internal requests waiting for the next isolate call */
  queue: QueuedRun[] = [];
  /** @internal no longer in the table: dispose the isolate once idle */
  retired = false;
  /** @internal an isolate call of this script is running (one at a time; the queue waits for it) */
  calling = false;
  /** @internal the isolate being set up, off the event loop */
  setup: Promise<ScriptIsolate> | null = null;
  /**
   * `loading` until the first isolate of this version is set up, then `ready`; `failed` when that
   * first setup failed (its top level threw, ran out of time or memory).
   */
  loadState: 'loading' | 'ready' | 'failed' = 'loading';
  /** Settles (never rejects) once {@link loadState} has left `loading`. */
  readonly ready: Promise<void>;
  /** @internal settles {@link ready} */
  markReady!: () => void;
  /**
   * @internal the previous version of the same RouteScript, which keeps serving while this one
   * loads, or has failed to load; null once this one is ready, or when there was none
   */
  predecessor: LoadedScript | null = null;
  /** @internal how many loading versions serve through this one: its isolate is kept while any does */
  standingIn = 0;
  /** @internal synchronous or asynchronous calls (call-mode.ts) */
  readonly mode = new CallMode();
  /** @internal the share of its budget each recent run used */
  readonly budget = new BudgetWatch();

  /** @internal made by the engine only */
  constructor(source: ScriptSource, key: string, policy: FailurePolicy, logLinesPerSecond: number, now: () => number) {
    this.source = source;
    this.key = key;
    this.backends = new Set(source.backends);
    this.hooks = scriptHooks(source.code);
    this.timeoutMs = Math.max(1, Math.ceil(source.limits.timeoutMs));
    this.tracker = new FailureTracker(policy, now);
    this.logLimiter = new LogLimiter(logLinesPerSecond, now);
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  /** The script's id, `namespace/name`. */
  get id(): string {
    return this.source.id;
  }

  /** The script's health now. */
  get status(): ScriptStatus {
    return {
      id: this.source.id,
      state: this.tracker.failing ? 'failing' : 'ok',
      consecutiveFailures: this.tracker.consecutiveFailures,
      lastFailure: this.tracker.lastFailure,
      retryAt: this.tracker.retryAt,
      logLinesDropped: this.logLimiter.dropped,
      slow: this.budget.slow,
      budgetUsedP90: this.budget.p90(),
      previousVersionServing: this.predecessor !== null,
    };
  }
}
