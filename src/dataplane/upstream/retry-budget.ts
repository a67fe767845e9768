/** How long the budget remembers requests and retries (Linkerd's and Finagle's default TTL). */
export const RETRY_BUDGET_WINDOW_MS = 10_000;

/** The window is kept in this many slices; what falls out of the window, falls out a slice at a time. */
const SLICES = 10;

/** What a cluster's policy allows: a floor of retries per second, plus a share of its requests. */
export interface RetryAllowance {
  /** Retries always allowed per second of the window, however few requests came. */
  readonly minRetriesPerSecond: number;
  /** Retries allowed as a percentage of the requests of the window. */
  readonly budgetPercent: number;
}

/**
 * The retry budget of one cluster in one worker, as Linkerd and Finagle keep it: every request
 * deposits into a window of the last {@link RETRY_BUDGET_WINDOW_MS}, and a retry is allowed while
 * the retries of that window stay under `minRetriesPerSecond` × the window's seconds plus
 * `budgetPercent` % of its requests.
 *
 * A budget over the window, not over the requests in flight, is what lets a crash be absorbed:
 * when an endpoint dies, every request it held fails at the same instant, a burst far above any
 * share of what is in flight at that moment — but small against the traffic of the last seconds,
 * which earned the retries it needs. A sustained failure cannot do the same: once the window's
 * allowance is spent, further retries are refused until older ones age out, so retries never add
 * more than the percentage (plus the floor) to the load on the cluster.
 *
 * The counts, not the policy, are kept here: a new routing table that changes the percentage
 * applies it at once to the traffic already seen.
 */
export class RetryBudget {
  readonly #now: () => number;
  readonly #sliceMs: number;
  readonly #requests = new Float64Array(SLICES);
  readonly #retries = new Float64Array(SLICES);
  /** The slice number (time / slice length) the newest slot holds. */
  #current: number;
  #requestSum = 0;
  #retrySum = 0;

  /** `now` is a clock in milliseconds (monotonic in production; the tests' mocked one in tests). */
  constructor(now: () => number = () => performance.now(), windowMs = RETRY_BUDGET_WINDOW_MS) {
    if (!(windowMs > 0)) throw new RangeError(`retry budget window must be positive, got ${windowMs}`);
    this.#now = now;
    this.#sliceMs = windowMs / SLICES;
    this.#current = Math.floor(now() / this.#sliceMs);
  }

  /** The window's length in seconds. */
  get windowSeconds(): number {
    return (this.#sliceMs * SLICES) / 1000;
  }

  /** Records a request to the cluster (a first try, not a retry): it earns part of a retry. */
  deposit(): void {
    this.#requests[this.#slot()]!++;
    this.#requestSum++;
  }

  /** Takes one retry from the budget; false, and nothing taken, when the window's allowance is spent. */
  tryWithdraw(allowance: RetryAllowance): boolean {
    const slot = this.#slot();
    if (this.#retrySum >= this.allowed(allowance)) return false;
    this.#retries[slot]!++;
    this.#retrySum++;
    return true;
  }

  /** Retries the window allows in all under `allowance` (spent or not). */
  allowed(allowance: RetryAllowance): number {
    this.#slot();
    return Math.floor(allowance.minRetriesPerSecond * this.windowSeconds + (this.#requestSum * allowance.budgetPercent) / 100);
  }

  /** Requests and retries the window holds now. */
  counts(): { readonly requests: number; readonly retries: number } {
    this.#slot();
    return { requests: this.#requestSum, retries: this.#retrySum };
  }

  /** The slot of the current slice, after clearing the slices that fell out of the window. */
  #slot(): number {
    const slice = Math.floor(this.#now() / this.#sliceMs);
    const gap = slice - this.#current;
    if (gap > 0) {
      if (gap >= SLICES) {
        this.#requests.fill(0);
        this.#retries.fill(0);
        this.#requestSum = 0;
        this.#retrySum = 0;
      } else {
        for (let s = this.#current + 1; s <= slice; s++) {
          const i = s % SLICES;
          this.#requestSum -= this.#requests[i]!;
          this.#retrySum -= this.#retries[i]!;
          this.#requests[i] = 0;
          this.#retries[i] = 0;
        }
      }
      this.#current = slice;
    }
    return slice % SLICES;
  }
}
