import type { RouteState } from './route-state.ts';
import type { ScriptIsolate } from './script-isolate.ts';
import type { AnyOutcome, LoadedScript, QueuedRun } from './loaded-script.ts';
import { messageOf } from './outcome-recorder.ts';
import { failure } from './script-result.ts';

/**
 * One run of a script for one request, from the call of its hook (`onRequest` or `onResponse`) to its outcome. Its id is the
 * one the prelude bakes into that request's `ctx`, so host calls from the isolate find their request
 * (and its route's state) even when several async runs of one script interleave.
 */
export class Invocation {
  readonly id: number;
  readonly script: LoadedScript;
  readonly isolate: ScriptIsolate;
  readonly state: RouteState;
  /** `performance.now()` by which the run must have ended. */
  readonly deadline: number;
  /** Admitted as the trial run of a failing script. */
  readonly trial: boolean;
  /** Time spent inside the isolate on this request's behalf. */
  cpuMs = 0;
  /** `ctx.lookup` calls made (the isolate must forget them when the run ends). */
  lookups = 0;
  /** The tagged result, once an async `onRequest` has settled. */
  settled: string | null = null;
  /** True once the outcome is decided; later host calls for this id are refused. */
  done = false;
  /** Hands the outcome to the request's `run`. */
  readonly resolve: (outcome: AnyOutcome) => void;
  /**
   * Calls into the isolate that may settle this run and have not returned yet (its batch, lookup
   * deliveries): a settling that arrives while one runs is finished when it returns.
   */
  calls = 0;
  /** The deadline timer of an async script. */
  timer: NodeJS.Timeout | null = null;

  /** The status of the response a run of `onResponse` sees; null for a run of `onRequest`. */
  readonly responseStatus: number | null;

  constructor(id: number, script: LoadedScript, isolate: ScriptIsolate, run: QueuedRun, deadline: number) {
    this.id = id;
    this.script = script;
    this.isolate = isolate;
    this.state = run.state;
    this.deadline = deadline;
    this.trial = run.trial;
    this.resolve = run.resolve;
    this.responseStatus = run.responseStatus;
  }

  /** Milliseconds left of the budget, at least 1 so an isolate call still gets a valid timeout. */
  remainingMs(): number {
    return Math.max(1, Math.ceil(this.deadline - performance.now()));
  }
}

/** The message of a run that ran out of its budget. */
export function budgetMessage(inv: Invocation): string {
  return `the script exceeded its ${inv.script.source.limits.timeoutMs} ms budget`;
}

/**
 * The outcome of a call into the run's isolate that threw: the memory limit when V8 disposed the
 * isolate, the budget when isolated-vm timed it out, else what the script threw.
 */
export function isolateFailure(error: unknown, inv: Invocation): AnyOutcome {
  const limits = inv.script.source.limits;
  if (inv.isolate.disposed) return failure('memory', `the script exceeded its memory limit of ${limits.memoryMiB} MiB; its isolate was disposed`);
  const message = messageOf(error);
  if (/timed out/i.test(message)) return failure('timeout', budgetMessage(inv));
  return failure('throw', message);
}
