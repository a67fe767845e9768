/**
 * Whether a script's calls run on the worker's own thread (synchronous) or on isolated-vm's
 * thread pool (asynchronous). An asynchronous call leaves the event loop free while the script
 * runs — the only way a script that burns its budget cannot hold up other routes — but costs far
 * more: measured ~200 µs of CPU per call on the loaded 2-core VM against ~50 µs for a synchronous
 * one carrying the same batch, and every `ctx.state` call from the pool waits for the event loop.
 * So a script earns synchronous calls by being cheap, and loses them the first time it is not:
 *
 * - every version starts asynchronous, and its module top level always runs on the pool;
 * - after {@link PROMOTE_AFTER} requests in a row whose calls each used under {@link SYNC_CALL_MAX_MS} of CPU,
 *   its calls become synchronous;
 * - two calls in a row over {@link SYNC_CALL_MAX_MS} make them asynchronous again (one alone may be
 *   the isolate's garbage collection or compiler: measured 5–9 ms of CPU for a call of 40–50 cheap
 *   requests now and then, right after a promotion); after
 *   {@link MAX_DEMOTIONS} such returns they stay asynchronous for the life of this version.
 *
 * What that leaves a hostile script, worst case: a script that behaves for {@link PROMOTE_AFTER}
 * requests and then spins blocks its worker's event loop for two calls — each at most its enforced
 * deadline (budget.ts) — up to {@link MAX_DEMOTIONS} times per version per worker; every edit is a
 * new version. A script that is slow from the start never runs on the event loop at all.
 */

/**
 * A call that uses more CPU than this, in ms, would be noticed by other routes if it ran on the event
 * loop. CPU rather than wall time: on a busy machine a cheap call's thread may be descheduled for
 * longer, and that must not cost it its synchronous calls for good. 5 ms, not less: a call of a few
 * cheap requests now and then uses 2–4 ms of CPU (measured: the isolate's garbage collection and
 * compilation), and a script must not lose its synchronous calls to that.
 */
export const SYNC_CALL_MAX_MS = 5;
/** Requests in a row, each in a call under {@link SYNC_CALL_MAX_MS}, that earn synchronous calls. */
export const PROMOTE_AFTER = 1000;
/** Slow calls in a row that send a synchronous script back to the pool. */
export const SLOW_CALLS_TO_DEMOTE = 2;
/** Returns to asynchronous calls after which a version never runs synchronously again. */
export const MAX_DEMOTIONS = 2;

/** One script version's call mode in one worker; see the file's comment. */
export class CallMode {
  #fast = 0;
  #slowInARow = 0;
  #demotions = 0;
  #sync = false;

  /** True while the script's calls are made synchronously on the worker's thread. */
  get sync(): boolean {
    return this.#sync;
  }

  /** Records one call of `requests` requests that used `ms` of CPU inside the isolate. */
  observe(ms: number, requests: number): void {
    if (ms > SYNC_CALL_MAX_MS) {
      this.#fast = 0;
      // One slow call may be the isolate's garbage collection; two in a row are the script.
      if (this.#sync && ++this.#slowInARow >= SLOW_CALLS_TO_DEMOTE) {
        this.#slowInARow = 0;
        this.#sync = false;
        this.#demotions++;
      }
      return;
    }
    this.#slowInARow = 0;
    if (this.#sync || this.#demotions >= MAX_DEMOTIONS) return;
    this.#fast += requests;
    if (this.#fast >= PROMOTE_AFTER) this.#sync = true;
  }
}
