/**
 * Per-endpoint counters and the peak-EWMA latency estimate (Finagle's and linkerd's "peak EWMA"):
 * - a sample above the current estimate replaces it at once, so an endpoint that slows down is
 *   avoided after one slow response;
 * - a sample below it is blended in with weight `1 - exp(-Δt / τ)`, Δt being the time since the
 *   previous sample, so the estimate forgets at the same speed whatever the request rate;
 * - while no sample arrives the estimate, as read by the balancer, decays toward zero with the
 *   same τ, so an endpoint that was slow is eventually tried again and can prove it recovered.
 *   Reading never writes: the stored value only changes when a request ends.
 */
import type { EndpointStats } from './types.ts';

/** τ, the EWMA's time constant: a sample's influence falls to 1/e after this long. */
export const EWMA_DECAY_MS = 10_000;

/**
 * The latest `now` given to `requestEnded` in this worker. EWMA reads it by default instead of a
 * clock: `performance.now()` costs about 40 ns and allocates a heap number per call, while the
 * proxy already reads the clock at every response end. With τ = 10 s, a clock as stale as the
 * last response is accurate enough.
 */
const clock = new Float64Array(1);

/** Counters for a new endpoint: nothing in flight, no latency sample. */
export function newStats(): EndpointStats {
  return { active: 0, ewmaMs: -1, ewmaStamp: 0 };
}

/** Call when a request is sent to an endpoint. */
export function requestStarted(stats: EndpointStats): void {
  stats.active++;
}

/**
 * Call exactly once for every `requestStarted`, when the response ends or the request fails.
 * @param latencyMs time to the response headers (or to the failure); a negative or NaN value
 *   only ends the request, without a sample.
 * @param now milliseconds on a monotonic clock (e.g. `performance.now()`), the same for every
 *   call in this worker and for any balancer `now` option.
 */
export function requestEnded(stats: EndpointStats, latencyMs: number, now: number): void {
  if (stats.active > 0) stats.active--;
  if (now > clock[0]!) clock[0] = now;
  if (!(latencyMs >= 0)) return;
  const current = stats.ewmaMs;
  if (current < 0 || latencyMs >= current) {
    stats.ewmaMs = latencyMs;
  } else {
    const decay = Math.exp(-Math.max(0, now - stats.ewmaStamp) / EWMA_DECAY_MS);
    stats.ewmaMs = current * decay + latencyMs * (1 - decay);
  }
  stats.ewmaStamp = now;
}

/** The latest `now` any `requestEnded` call in this worker was given (0 before the first): EWMA's default clock. */
export function lastRequestEnd(): number {
  return clock[0]!;
}

/** The latency estimate at `now`: the stored EWMA decayed toward zero since its last sample; negative if none. */
export function ewmaAt(stats: EndpointStats, now: number): number {
  const ewma = stats.ewmaMs;
  const idle = now - stats.ewmaStamp;
  return idle > 0 && ewma > 0 ? ewma * Math.exp(-idle / EWMA_DECAY_MS) : ewma;
}
