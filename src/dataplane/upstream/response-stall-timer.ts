/**
 * How long a client has taken none of the response the proxy holds for it. While a write to the
 * client is refused (backpressure), the exchange stops reading the upstream, so a client that never
 * reads would otherwise hold an upstream connection for as long as it likes. Node's own idle
 * timers do not end this for HTTP/2: a connection kept busy by other streams, or by pings, is never
 * idle, and a stream with a write pending is not timed out while its connection sends anything.
 *
 * One timer per exchange, armed at the first refused write and re-armed only when it fires early;
 * {@link blocked} and {@link drained} only note the time.
 */
export class ResponseStallTimer {
  readonly #idleMs: number;
  readonly #onExpire: () => void;
  #timer: NodeJS.Timeout | null = null;
  /** When the current stall began (performance.now()); -1 while the client keeps up. */
  #since = -1;

  constructor(idleMs: number, onExpire: () => void) {
    this.#idleMs = idleMs;
    this.#onExpire = onExpire;
  }

  /** A write to the client was refused: the stall clock runs until {@link drained}. */
  blocked(): void {
    if (this.#since >= 0) return;
    this.#since = performance.now();
    if (this.#timer === null) this.#arm(this.#idleMs);
  }

  /** The client took what was waiting. */
  drained(): void {
    this.#since = -1;
  }

  /** The exchange is over. */
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#since = -1;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#fire, Math.max(1, ms));
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = null;
    if (this.#since < 0) return;
    const stalled = performance.now() - this.#since;
    if (stalled < this.#idleMs) return this.#arm(this.#idleMs - stalled);
    this.#since = -1;
    this.#onExpire();
  };
}
