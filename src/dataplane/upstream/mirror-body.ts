/**
 * The request body of a URL mirror's copy, teed from the client's body as the original request
 * reads it: every chunk the original takes is written here too, and nothing here ever pauses the
 * client's body. A copy that falls more than {@link MAX_BEHIND} bytes behind (a mirror slower than
 * the original's upstream) is cut off — destroyed, so its request fails at the mirror — rather
 * than buffered without bound or allowed to slow the original.
 */
import { PassThrough, type Readable } from 'node:stream';

/** How far a copy's body may lag the original's before it is given up. */
export const MAX_BEHIND = 1024 * 1024;

/** One copy's body; see the module comment. */
export class MirrorBody extends PassThrough {
  #source: Readable | null = null;

  /** Starts copying `source`'s chunks; call in the same tick as the original's own reader attaches. */
  tap(source: Readable): void {
    if (this.#source !== null || this.destroyed) return;
    this.#source = source;
    source.on('data', this.#onData);
    source.once('end', this.#onEnd);
  }

  /**
   * The original is done with the body: a copy that got all of it ends, any other is cut off (the
   * original failed, or never read its body).
   */
  untap(): void {
    const source = this.#source;
    if (source === null) {
      this.destroy();
      return;
    }
    this.#detach();
    if (!source.readableEnded) this.destroy();
    else if (!this.writableEnded && !this.destroyed) this.end();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.writableLength > MAX_BEHIND) {
      this.#detach();
      this.destroy();
      return;
    }
    this.write(chunk);
  };

  readonly #onEnd = (): void => {
    this.#detach();
    this.end();
  };

  #detach(): void {
    const source = this.#source;
    if (source === null) return;
    source.off('data', this.#onData);
    source.off('end', this.#onEnd);
  }
}
