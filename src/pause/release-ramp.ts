/**
 * How held requests are let go once their gate opens: in arrival order, at a rate that starts low
 * and doubles at a fixed interval, so a backend that has just started (cold caches, connection
 * pools being filled, JIT warming) is not hit by the whole backlog at once.
 *
 * A ramp of the rate, not an adaptive limit: right after a deploy there is no latency history
 * worth adapting to — the first responses of a cold backend are slow anyway — and a ramp is
 * predictable (an operator can tell from the numbers how long a backlog takes to drain) and needs
 * no feedback path from the upstream. Requests released this way still go through the cluster's
 * circuit breaker and retries, which do watch the upstream.
 */

/** Settings of a {@link ReleaseRamp}. */
export interface RampSettings {
  /** Release rate at the start, in requests per second. */
  readonly initialPerSecond: number;
  /** The rate doubles every this many milliseconds. */
  readonly doublingMs: number;
  /** The rate stops growing here (requests per second). */
  readonly maxPerSecond: number;
}

/**
 * The default ramp: 20 requests per second, doubling every 250 ms, up to 20,000 per second. A
 * backlog of 1,000 requests drains in about 1.8 s, one of 100 in about 0.8 s.
 */
export const DEFAULT_RAMP: RampSettings = Object.freeze({ initialPerSecond: 20, doublingMs: 250, maxPerSecond: 20_000 });

/**
 * A token bucket whose fill rate grows exponentially from the moment the ramp starts. The number
 * of requests that may have been released `t` ms after the start is 1 (the first goes at once)
 * plus the integral of the rate over `[0, t]`.
 */
export class ReleaseRamp {
  readonly #settings: RampSettings;
  readonly #startedAt: number;
  #released = 0;

  constructor(settings: RampSettings, startedAt: number) {
    if (!(settings.initialPerSecond > 0) || !(settings.doublingMs > 0) || !(settings.maxPerSecond >= settings.initialPerSecond)) {
      throw new RangeError('ReleaseRamp: rates and the doubling interval must be positive, the maximum at least the initial rate');
    }
    this.#settings = settings;
    this.#startedAt = startedAt;
  }

  /** The release rate at `now`, in requests per second. */
  rateAt(now: number): number {
    const { initialPerSecond, doublingMs, maxPerSecond } = this.#settings;
    return Math.min(maxPerSecond, initialPerSecond * 2 ** (Math.max(0, now - this.#startedAt) / doublingMs));
  }

  /** How many more requests may go at `now`; call {@link took} with the number actually released. */
  available(now: number): number {
    return Math.max(0, Math.floor(this.#allowance(now)) - this.#released);
  }

  /** Records `n` releases. */
  took(n: number): void {
    this.#released += n;
  }

  /** Requests allowed by `now` since the start, fractional. */
  #allowance(now: number): number {
    const { initialPerSecond: r0, doublingMs: d, maxPerSecond: max } = this.#settings;
    const t = Math.max(0, now - this.#startedAt);
    const k = Math.LN2 / d; // per ms
    const capAt = Math.log2(max / r0) * d;
    // Integral of r0·2^(t/d) per second over ms: (r0/1000)·(e^{kt} − 1)/k, then linear at the cap.
    if (t <= capAt) return 1 + ((r0 / 1000) * (Math.exp(k * t) - 1)) / k;
    return 1 + ((r0 / 1000) * (Math.exp(k * capAt) - 1)) / k + ((t - capAt) * max) / 1000;
  }
}
