/**
 * Coalesces bursts of change notifications into few rebuilds: a rebuild runs `holdoffMs` after the
 * last change, but never later than `maxDelayMs` after the first change of a burst, so a steady
 * trickle of changes still publishes regularly. Rebuilds never overlap: changes during a rebuild
 * schedule one more.
 */
export class Debouncer {
  readonly #run: () => Promise<void> | void;
  readonly #holdoffMs: number;
  readonly #maxDelayMs: number;
  #timer: NodeJS.Timeout | null = null;
  #firstChange = 0;
  #running = false;
  #pendingAfterRun = false;
  #stopped = false;

  constructor(run: () => Promise<void> | void, holdoffMs = 100, maxDelayMs = 1_000) {
    this.#run = run;
    this.#holdoffMs = holdoffMs;
    this.#maxDelayMs = maxDelayMs;
  }

  /** Notes a change; a rebuild follows. */
  trigger(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#pendingAfterRun = true;
      return;
    }
    const now = Date.now();
    if (this.#timer === null) this.#firstChange = now;
    else clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.#holdoffMs, this.#firstChange + this.#maxDelayMs - now));
    this.#timer = setTimeout(() => void this.#fire(), wait);
  }

  /** Cancels any pending rebuild and ignores later triggers. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #fire(): Promise<void> {
    this.#timer = null;
    this.#running = true;
    try {
      await this.#run();
    } finally {
      this.#running = false;
      if (this.#pendingAfterRun) {
        this.#pendingAfterRun = false;
        this.trigger();
      }
    }
  }
}
