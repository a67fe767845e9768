import type { Duplex } from 'node:stream';

/**
 * How long a plain-HTTP connection over the cap may take to send the request that is answered 503:
 * a client sends its request as soon as it is connected, so a second is plenty, and it keeps the
 * sockets of refused connections — which the cap is there to bound — few and short-lived.
 */
export const REFUSED_REQUEST_MS = 1_000;

/**
 * Most refused plain-HTTP connections waiting for their 503 at once. A flood of new connections
 * would otherwise make as many sockets as it opens in a second; past this, refused connections are
 * closed at once, as on the HTTPS listener.
 */
export const REFUSED_WAITING_MAX = 1_024;

/**
 * The cap on the client connections one worker holds open (`--max-connections`), shared by its
 * HTTP and HTTPS listeners. A connection counts from its accept to its close, once, whatever it
 * carries: one HTTP/1.1 request at a time or an HTTP/2 session of many streams.
 *
 * A connection over the cap is refused: on the HTTPS listener it is closed at once, before the TLS
 * handshake (a handshake per refused connection would spend the CPU that an overloaded worker has
 * least of, only to say no); on the HTTP listener it is kept just long enough to answer its first
 * request 503 `too-many-connections` with `connection: close` ({@link isRefused}), and closed after
 * {@link REFUSED_REQUEST_MS} in any case (at most {@link REFUSED_WAITING_MAX} at a time; beyond that
 * they too are closed at once). Refused connections do not count against the cap.
 */
export class ConnectionLimit {
  /** The cap; 0 for none. */
  readonly max: number;
  #open = 0;
  readonly #refused = new WeakSet<Duplex>();
  #waiting = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Connections counted now. */
  get open(): number {
    return this.#open;
  }

  /** Counts `socket` until it closes and returns true; false, counting nothing, when the worker is full. */
  admit(socket: Duplex): boolean {
    if (this.max > 0 && this.#open >= this.max) return false;
    this.#open++;
    socket.once('close', this.#release);
    return true;
  }

  /**
   * Marks a plain-HTTP connection over the cap, whose request is to be answered 503, and closes it
   * after {@link REFUSED_REQUEST_MS} regardless; false, marking nothing, when too many wait already.
   */
  refuse(socket: Duplex): boolean {
    if (this.#waiting >= REFUSED_WAITING_MAX) return false;
    this.#waiting++;
    this.#refused.add(socket);
    const timer = setTimeout(() => socket.destroy(), REFUSED_REQUEST_MS).unref();
    socket.once('close', () => {
      this.#waiting--;
      clearTimeout(timer);
    });
    return true;
  }

  /** Whether `socket` was refused (see {@link refuse}). */
  isRefused(socket: Duplex | null | undefined): boolean {
    return socket != null && this.#refused.has(socket);
  }

  readonly #release = (): void => {
    this.#open--;
  };
}
