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
  /** Set while the response waits for its next bytes to be due. */
  #timer: NodeJS.Timeout | null = null;
  /** The end of the response, when it came before its last bytes' time was over. */
  #end: (() => void) | null = null;

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

  /** Whether the response waits for its next bytes to be due. */
  get waiting(): boolean {
    return this.#timer !== null;
  }

  /**
   * Waits `ms` before `due` runs (or, when the end came meanwhile, the end instead). Held chunks
   * written in a row each ask for a wait: the latest, the longest, stands.
   */
  wait(ms: number, due: () => void): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const end = this.#end;
      this.#end = null;
      (end ?? due)();
    }, ms);
  }

  /** A response ends once its last bytes are due, not sooner: true when `end` is held for that. */
  deferEnd(end: () => void): boolean {
    if (this.#timer === null) return false;
    this.#end = end;
    return true;
  }

  /** The response is over: nothing waits any more. */
  cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#end = null;
  }
}
