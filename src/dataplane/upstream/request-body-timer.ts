/** Which of a request body's two limits ran out. */
export type BodyTimeout = 'idle' | 'total';

/**
 * The two clocks of a request body being streamed upstream: the longest gap between two chunks
 * (`idleMs`, as nginx's `client_body_timeout`) and the longest time for the whole body (`totalMs`),
 * either 0 for off. Both run only while the proxy reads the body — from {@link start}, when the
 * request has an upstream connection — so time spent held by a pause or waiting for a free
 * connection is the proxy's, not the client's, and never counts.
 *
 * One timer per body, and nothing per chunk but a clock read: {@link progress} only notes the time,
 * and when the timer fires it either expires or sleeps again until the nearer of the two deadlines.
 */
export class RequestBodyTimer {
  readonly #idleMs: number;
  readonly #totalMs: number;
  readonly #onExpire: (which: BodyTimeout) => void;
  #timer: NodeJS.Timeout | null = null;
  #started = 0;
  #last = 0;

  constructor(idleMs: number, totalMs: number, onExpire: (which: BodyTimeout) => void) {
    this.#idleMs = idleMs;
    this.#totalMs = totalMs;
    this.#onExpire = onExpire;
  }

  /** Whether either limit is set (when neither is, no timer is ever armed). */
  get enabled(): boolean {
    return this.#idleMs > 0 || this.#totalMs > 0;
  }

  /** Starts both clocks; a second call (another attempt of the same request) changes nothing. */
  start(): void {
    if (this.#started !== 0 || !this.enabled) return;
    this.#started = this.#last = performance.now();
    this.#arm(this.#started);
  }

  /** A chunk went upstream: the idle clock starts again. */
  progress(): void {
    this.#last = performance.now();
  }

  /** The whole body went upstream, or the request ended otherwise: no more deadlines. */
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#started = -1;
  }

  #arm(now: number): void {
    const wait = Math.max(1, this.#nextDeadline() - now);
    this.#timer = setTimeout(this.#fire, wait);
    this.#timer.unref();
  }

  #nextDeadline(): number {
    const idle = this.#idleMs > 0 ? this.#last + this.#idleMs : Infinity;
    const total = this.#totalMs > 0 ? this.#started + this.#totalMs : Infinity;
    return Math.min(idle, total);
  }

  readonly #fire = (): void => {
    this.#timer = null;
    const now = performance.now();
    if (this.#totalMs > 0 && now >= this.#started + this.#totalMs) return this.#expire('total');
    if (this.#idleMs > 0 && now >= this.#last + this.#idleMs) return this.#expire('idle');
    this.#arm(now);
  };

  #expire(which: BodyTimeout): void {
    this.#started = -1;
    this.#onExpire(which);
  }
}
