/**
 * A token bucket: `capacity` tokens to start with, refilled at `perSecond`, never above capacity.
 * Used per HTTP/2 connection for the things a client may do now and then but not in a loop (reset
 * streams, send SETTINGS or PING). The refill is computed when a token is taken, so an idle
 * connection costs nothing.
 */
export class RateBudget {
  readonly #capacity: number;
  readonly #perMs: number;
  #tokens: number;
  #at: number;

  constructor(capacity: number, perSecond: number, now = performance.now()) {
    this.#capacity = capacity;
    this.#perMs = perSecond / 1000;
    this.#tokens = capacity;
    this.#at = now;
  }

  /** Takes one token; false when none is left (the caller's limit is exceeded). */
  take(now = performance.now()): boolean {
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
