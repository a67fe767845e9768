import type { Logger } from '../log.ts';
import type { LoadedScript } from './loaded-script.ts';
import type { Outcome, ScriptStatus } from './types.ts';

/**
 * Records how a run of a script ended, in its failure record and its budget watch, and says so
 * when its health changes: a log line, and the engine's `onStatus` callback. Shared by the loading
 * side (a setup that fails) and the calling side (each run) of the engine.
 */
export class OutcomeRecorder {
  readonly #log: Logger;
  readonly #onStatus: ((status: ScriptStatus) => void) | undefined;

  constructor(log: Logger, onStatus: ((status: ScriptStatus) => void) | undefined) {
    this.#log = log;
    this.#onStatus = onStatus;
  }

  /**
   * Records `outcome` of a run of `script`. An `unavailable` outcome (the script was not run)
   * counts as a failure only when `immediate` (a setup that failed): a run refused while the
   * script backs off must not extend its backoff.
   * @param trial the run was the trial after a backoff.
   */
  record(script: LoadedScript, outcome: Outcome, trial: boolean, immediate = false): void {
    let changed: boolean;
    if (outcome.ok) changed = script.tracker.succeeded(trial);
    else if (outcome.cause !== 'unavailable' || immediate) changed = script.tracker.failed(outcome.cause, outcome.message, trial, immediate);
    else changed = false;
    // The share of the budget a run used: a timeout used all of it; runs that never ran (cpuMs 0) say nothing.
    const share = outcome.ok ? (outcome.cpuMs > 0 ? outcome.cpuMs / script.timeoutMs : -1) : outcome.cause === 'timeout' ? 1 : -1;
    const slowChanged = share >= 0 && script.budget.observe(share);
    if (!changed && !slowChanged) return;
    const status = script.status;
    if (changed && status.state === 'failing') this.#log.warn({ script: script.id, lastFailure: status.lastFailure, retryAt: status.retryAt }, 'RouteScript is failing; not running it until its backoff ends');
    else if (changed) this.#log.info({ script: script.id }, 'RouteScript recovered');
    if (slowChanged && status.slow) this.#log.warn({ script: script.id, budgetUsedP90: status.budgetUsedP90, timeoutMs: script.source.limits.timeoutMs }, 'RouteScript keeps using most of its time budget');
    else if (slowChanged) this.#log.info({ script: script.id }, 'RouteScript no longer uses most of its time budget');
    try {
      this.#onStatus?.(status);
    } catch (error) {
      this.#log.error({ err: error }, 'RouteScript status callback threw');
    }
  }
}

/** The message of a thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
