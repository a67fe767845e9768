/** How long a script may run: the time limits the engine gives isolated-vm. */

/**
 * Budget of the module's top-level code and of the prelude, which run once per isolate and may build
 * tables from the data: ten request budgets, at least 100 ms.
 */
export function setupTimeoutMs(timeoutMs: number): number {
  return Math.max(100, timeoutMs * 10);
}

/**
 * The wall time at which a run is stopped: twice the budget plus 10 ms. Time is measured on the
 * wall clock (isolated-vm's timeout), and on a busy machine a thread can be descheduled for longer
 * than a budget of a few ms: without the slack a healthy sharding script would fail — and its
 * requests fall back to the wrong backend — whenever the machine is loaded. A runaway script is
 * still stopped within a bounded time.
 */
export function enforcedMs(budgetMs: number): number {
  return budgetMs * 2 + 10;
}

/** The grid, in ms, that synchronous runs' deadlines are rounded up to; see {@link alignedTimeoutMs}. */
export const DEADLINE_GRID_MS = 10;

/**
 * The timeout to give isolated-vm for a run starting at `now` that may take `limitMs`: the deadline
 * rounded up to the next multiple of {@link DEADLINE_GRID_MS} on the monotonic clock.
 *
 * isolated-vm arms a timer on its own thread for every call with a timeout, and that thread wakes
 * at each deadline even when the call finished long before — one wake-up and context switch per
 * request, measured at ~17 µs of CPU per call at a few thousand calls a second on 2 cores, more
 * than the script itself. Deadlines that fall on a shared grid expire together, so the timer thread
 * wakes about once per grid step instead of once per request (measured: ~2 µs per call). A runaway
 * script runs at most one grid step longer.
 */
export function alignedTimeoutMs(now: number, limitMs: number): number {
  return Math.ceil((now + limitMs) / DEADLINE_GRID_MS) * DEADLINE_GRID_MS - Math.floor(now);
}
