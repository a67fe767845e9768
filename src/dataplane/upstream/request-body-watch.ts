/**
 * What an exchange watches while the request body is read upstream: its idle and total deadlines
 * (RequestBodyTimer, and the socket's `--idle-timeout` mid-body), the route's BodyLimit counted as
 * the chunks arrive, and the URL mirrors' copies teed from it. Either limit hands the exchange a
 * refusal (408 or 413, see Exchange's refuseBody); the watch itself answers nothing.
 */
import type { ClientRequest } from '../lifecycle/proxy-state.ts';
import type { ErrorReason } from '../lifecycle/error-responses.ts';
import type { MirrorBody } from './mirror-body.ts';
import { RequestBodyTimer, type BodyTimeout } from './request-body-timer.ts';

/** How the exchange refuses the rest of a body: the reason it answers and the error it aborts the upstream request with. */
export type RefuseBody = (reason: ErrorReason, cause: Error) => void;

/** One request body's deadlines, limit and mirror copies. */
export class RequestBodyWatch {
  readonly #req: ClientRequest;
  readonly #refuse: RefuseBody;
  /** The idle and total deadlines; null with both turned off. */
  readonly #timer: RequestBodyTimer | null;
  /** The route's BodyLimit; 0 without one. */
  readonly #limit: number;
  /** Bytes read from the client so far (counted only under a limit). */
  #bytes = 0;
  /** Whether the body is being read upstream now (from the first attempt's start to its last byte). */
  #reading = false;
  /** The bodies of the request's URL mirror copies; null without any. */
  #mirrors: MirrorBody[] | null = null;

  constructor(req: ClientRequest, deadlines: { readonly idleMs: number; readonly totalMs: number }, limit: number, refuse: RefuseBody) {
    this.#req = req;
    this.#refuse = refuse;
    this.#limit = limit;
    this.#timer = deadlines.idleMs > 0 || deadlines.totalMs > 0 ? new RequestBodyTimer(deadlines.idleMs, deadlines.totalMs, this.#onTimeout) : null;
  }

  /** Whether the body is being read now. */
  get reading(): boolean {
    return this.#reading;
  }

  /** The body is read upstream from now on (once: later attempts read on). */
  start(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#timer?.start();
    // Counted as the client's chunks arrive, before the transport sees them: the transports attach
    // their own reader in this same tick, after this one, so a chunk past the limit never goes
    // upstream from signalbox's HTTP/1.1 client (undici's HTTP/2 client may send that one chunk
    // before the abort).
    if (this.#limit !== 0) this.#req.on('data', this.#count);
    if (this.#mirrors !== null) for (const copy of this.#mirrors) copy.tap(this.#req);
    // --idle-timeout mid-body: Node would close the connection without a word; answer 408 instead.
    this.#req.once('timeout', this.#onSocketIdle);
  }

  /** A chunk went upstream. */
  progress(): void {
    this.#timer?.progress();
  }

  /** The whole body went upstream, or nobody reads it any more: deadlines and counting stop, mirror copies end. */
  stop(): void {
    this.untapMirrors();
    if (!this.#reading) return;
    this.#reading = false;
    this.#timer?.stop();
    this.#req.off('timeout', this.#onSocketIdle);
    if (this.#limit !== 0) this.#req.off('data', this.#count);
  }

  /** Adds the body of a URL mirror's copy, fed from the client's body as the original reads it. */
  addMirror(copy: MirrorBody): void {
    (this.#mirrors ??= []).push(copy);
  }

  /** The original is done with the body: copies that got all of it end, the others are cut off. */
  untapMirrors(): void {
    const copies = this.#mirrors;
    if (copies === null) return;
    this.#mirrors = null;
    for (const copy of copies) copy.untap();
  }

  readonly #onSocketIdle = (): void => this.#onTimeout('idle');

  /** The client is too slow with its body: 408. */
  readonly #onTimeout = (which: BodyTimeout): void => this.#refuse('request-timeout', new RequestBodyTimeoutError(which));

  /**
   * Past the route's BodyLimit as the body streams (chunked, or HTTP/2 without content-length):
   * 413, and the upstream request is aborted — it never sees the body end, so it never takes a
   * truncated body for a whole one.
   */
  readonly #count = (chunk: Buffer): void => {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#limit) this.#refuse('body-too-large', new BodyTooLargeError(this.#limit));
  };
}

/** Why an upstream request was aborted when its client was too slow with the body. */
class RequestBodyTimeoutError extends Error {
  readonly code = 'SIGNALBOX_REQUEST_BODY_TIMEOUT';
  constructor(which: BodyTimeout) {
    super(which === 'idle' ? 'request body idle timeout' : 'request body timeout');
  }
}

/** Why an upstream request was aborted when its body went past the route's BodyLimit. */
class BodyTooLargeError extends Error {
  readonly code = 'SIGNALBOX_REQUEST_BODY_TOO_LARGE';
  constructor(maxBytes: number) {
    super(`request body over the route's limit of ${maxBytes} bytes`);
  }
}
