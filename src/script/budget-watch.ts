/**
 * Which scripts keep using most of their budget: a script that never fails but runs to 90% of its
 * `timeoutMs` on some requests is a problem before it is a failure (it holds its requests, and one
 * of isolated-vm's threads, that long), and its owner should hear of it from the proxy first.
 */

/** Runs remembered per script (per worker). */
export const BUDGET_WINDOW = 50;
/** A run that takes at least this share of `timeoutMs` (a timeout counts as all of it) is a heavy one. */
export const HEAVY_SHARE = 0.5;
/** Heavy runs among the last {@link BUDGET_WINDOW} that make a script slow: its p90 is then at least {@link HEAVY_SHARE}. */
export const SLOW_AT = Math.ceil(BUDGET_WINDOW * 0.1);

/**
 * The share of its budget each of a script's last {@link BUDGET_WINDOW} runs used. The script
 * becomes slow when {@link SLOW_AT} of them (10%: its p90 is at or above half the budget) were
 * heavy, and stops being slow once a whole window passes without a heavy run: the hysteresis keeps
 * a script near the line from flapping its status (each change is a status write).
 */
export class BudgetWatch {
  readonly #shares = new Float64Array(BUDGET_WINDOW);
  #next = 0;
  #count = 0;
  #heavy = 0;
  #slow = false;

  /** True while the script is slow (see the class). */
  get slow(): boolean {
    return this.#slow;
  }

  /** Records one run that used `share` of its budget; true when that changes {@link slow}. O(1). */
  observe(share: number): boolean {
    if (this.#count === BUDGET_WINDOW && this.#shares[this.#next]! >= HEAVY_SHARE) this.#heavy--;
    this.#shares[this.#next] = share;
    this.#next = (this.#next + 1) % BUDGET_WINDOW;
    if (this.#count < BUDGET_WINDOW) this.#count++;
    if (share >= HEAVY_SHARE) this.#heavy++;
    const slow = this.#slow ? this.#heavy > 0 : this.#heavy >= SLOW_AT;
    if (slow === this.#slow) return false;
    this.#slow = slow;
    return true;
  }

  /** The 90th percentile of the remembered shares, rounded to a hundredth; null before any run. */
  p90(): number | null {
    if (this.#count === 0) return null;
    const sorted = Array.from(this.#shares.subarray(0, this.#count)).sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)]! * 100) / 100;
  }
}
