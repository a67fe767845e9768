import type { FailureCause } from './types.ts';

/** When a script counts as failing, and for how long it is then left alone. */
export interface FailurePolicy {
  /** Consecutive failed runs that mark a script failing. */
  readonly threshold: number;
  /** First backoff in ms; each failed retry doubles it. */
  readonly initialBackoffMs: number;
  /** Longest backoff in ms. */
  readonly maxBackoffMs: number;
}

/** The defaults: 5 failures in a row, then 1 s, 2 s, 4 s … up to a minute between trials. */
export const DEFAULT_FAILURE_POLICY: FailurePolicy = Object.freeze({ threshold: 5, initialBackoffMs: 1_000, maxBackoffMs: 60_000 });

/**
 * A circuit breaker for one script. A failure fails only its request, but a script failing on every
 * request would still cost a full budget each time; after `threshold` failures in a row it is not
 * run until its backoff passes. Then one request runs it (any that arrive while that one runs are
 * turned away too): success closes the breaker, failure reopens it with twice the backoff. A script
 * that cannot be set up at all fails immediately into backoff, since loading it again would fail
 * the same way.
 */
export class FailureTracker {
  readonly #policy: FailurePolicy;
  readonly #now: () => number;
  #consecutive = 0;
  #backoffMs = 0;
  #retryAt: number | null = null;
  #trialRunning = false;
  #lastFailure: { cause: FailureCause; message: string } | null = null;

  constructor(policy: FailurePolicy, now: () => number) {
    this.#policy = policy;
    this.#now = now;
  }

  /** True while the script is backing off (`unavailable`). */
  get failing(): boolean {
    return this.#retryAt !== null;
  }

  get consecutiveFailures(): number {
    return this.#consecutive;
  }

  get retryAt(): number | null {
    return this.#retryAt;
  }

  get lastFailure(): { readonly cause: FailureCause; readonly message: string } | null {
    return this.#lastFailure;
  }

  /**
   * Whether a request may run the script now: `run`, `trial` (the first request after a backoff;
   * the others are refused until it reports) or `refuse`.
   */
  admit(): 'run' | 'trial' | 'refuse' {
    if (this.#retryAt === null) return 'run';
    if (this.#trialRunning || this.#now() < this.#retryAt) return 'refuse';
    this.#trialRunning = true;
    return 'trial';
  }

  /** Records a successful run; returns true when that ends a failing period. */
  succeeded(trial: boolean): boolean {
    this.#consecutive = 0;
    if (trial) this.#trialRunning = false;
    if (this.#retryAt === null) return false;
    this.#retryAt = null;
    this.#backoffMs = 0;
    return true;
  }

  /**
   * Records a failed run; returns true when it starts (or extends) a failing period.
   * @param trial the run was the one admitted as a trial.
   * @param immediate fail into backoff now (the script cannot be loaded).
   */
  failed(cause: FailureCause, message: string, trial: boolean, immediate = false): boolean {
    this.#consecutive++;
    this.#lastFailure = { cause, message };
    if (trial) this.#trialRunning = false;
    // A run admitted before the breaker opened may report after; it does not extend the backoff.
    if (!trial && !immediate && (this.#retryAt !== null || this.#consecutive < this.#policy.threshold)) return false;
    this.#backoffMs = this.#backoffMs === 0 ? this.#policy.initialBackoffMs : Math.min(this.#policy.maxBackoffMs, this.#backoffMs * 2);
    this.#retryAt = this.#now() + this.#backoffMs;
    return true;
  }
}
