/**
 * The arithmetic of a ResponseRate filter (nginx's `limit_rate` after `limit_rate_after`): the
 * first `afterBytes` of a response are not paced; every byte after them is due `1 / bytesPerSecond`
 * seconds after the one before it, counted from the first byte written — so a client that took
 * the first bytes slowly has earned that time back, as with nginx, which reckons from the start of
 * the request. One pacer per response.
 */
export class ResponsePacer {
  readonly #bytesPerSecond: number;
  readonly #afterBytes: number;
  readonly #now: () => number;
  #start = -1;
  #sent = 0;

  constructor(bytesPerSecond: number, afterBytes: number, now: () => number = performance.now.bind(performance)) {
    this.#bytesPerSecond = bytesPerSecond;
    this.#afterBytes = afterBytes;
    this.#now = now;
  }

  /** Records `bytes` written to the client; returns how long to wait, in ms, before writing more (0: go on). */
  wrote(bytes: number): number {
    const now = this.#now();
    if (this.#start < 0) this.#start = now;
    this.#sent += bytes;
    const paced = this.#sent - this.#afterBytes;
    if (paced <= 0) return 0;
    return Math.max(0, this.#start + (paced * 1000) / this.#bytesPerSecond - now);
  }
}
