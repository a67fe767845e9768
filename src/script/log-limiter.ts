/**
 * A token bucket for `ctx.log`: a script logging on every request would otherwise turn the proxy's
 * log into its own, at request rate. Lines beyond the rate are counted, not written.
 */
export class LogLimiter {
  readonly #perSecond: number;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;
  #dropped = 0;
  #droppedSinceReport = 0;

  /**
   * @param perSecond lines per second, also the burst.
   * @param now clock in ms.
   */
  constructor(perSecond: number, now: () => number) {
    this.#perSecond = perSecond;
    this.#now = now;
    this.#tokens = perSecond;
    this.#refilledAt = now();
  }

  /** Lines dropped since this limiter was made. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Takes a token for one line. Returns -1 when the line must be dropped, otherwise how many lines
   * were dropped since the last admitted one (so the caller can say so once, next to a real line).
   */
  admit(): number {
    const now = this.#now();
    const elapsed = now - this.#refilledAt;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#perSecond, this.#tokens + (elapsed * this.#perSecond) / 1000);
      this.#refilledAt = now;
    }
    if (this.#tokens < 1) {
      this.#dropped++;
      this.#droppedSinceReport++;
      return -1;
    }
    this.#tokens -= 1;
    const skipped = this.#droppedSinceReport;
    this.#droppedSinceReport = 0;
    return skipped;
  }
}
