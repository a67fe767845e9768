import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { errors, type Dispatcher } from 'undici';
import { headerRecord, keepAliveMs, responseParser, type NativeParser } from './h1-response-parser.ts';
import { writeBody, type BodyWriter } from './h1-request-body.ts';

/** A dispatch handler, with the two request-side events the Attempt listens to. */
export type H1Handler = Dispatcher.DispatchHandler;

/** One request waiting for, or on, a connection. */
export interface H1Request {
  readonly options: Dispatcher.DispatchOptions;
  readonly handler: H1Handler;
  /** Whether it already went out once on a kept-alive connection that closed before any answer. */
  replayed: boolean;
  /**
   * How that connection failed: reported instead of a failed connect for the second try, since
   * the request was sent and what the upstream did to it is the news (an endpoint that died with
   * requests in flight is a reset, which the exchange retries elsewhere as such).
   */
  lost: Error | null;
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** The connection finished a response and may take another request. */
  released(conn: H1Connection): void;
  /** The connection is gone; `replay` is a request to send again on a fresh connection. */
  closed(conn: H1Connection, replay: H1Request | null): void;
  readonly keepAliveMs: number;
  readonly keepAliveMaxMs: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Bytes of a field value that would split or end the head (CR, LF, NUL): never written. */
const UNSAFE_VALUE = /[\r\n\0]/;

/**
 * One keep-alive HTTP/1.1 connection to an endpoint: one request at a time (no pipelining), its
 * response read with the strict llhttp parser. It is handed back to its pool only when the response
 * was read to its end, the request was written whole, and neither side asked to close; anything
 * else (an abort, a parse error, unread bytes, an early answer to an unsent body) closes it.
 */
export class H1Connection implements Dispatcher.DispatchController {
  readonly socket: Socket;
  readonly #owner: ConnectionOwner;
  readonly #parser: NativeParser;
  /** Requests this connection completed; a failure on a used one may be a stale keep-alive. */
  served = 0;
  #req: H1Request | null = null;
  #body: BodyWriter | null = null;
  /** Whether the final (non-1xx) response head arrived, and any of its bytes did. */
  #started = false;
  #gotBytes = false;
  #keepAlive = true;
  #reuseMs = 0;
  #trailers: string[] = [];
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;
  #requestSent = false;
  #responseDone = false;
  #timer: NodeJS.Timeout | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #dead = false;
  #skipBody = false;

  constructor(socket: Socket, owner: ConnectionOwner) {
    this.socket = socket;
    this.#owner = owner;
    this.#parser = responseParser({
      onMessageBegin: () => {
        // Bytes after a finished response, unasked for: this connection cannot be trusted again.
        if (this.#req === null) this.#fail(new errors.SocketError('unexpected data from the upstream'));
      },
      onHeaders: (fields) => {
        for (const f of fields) this.#trailers.push(f);
      },
      onHeadersComplete: (status, fields, text, keepAlive) => this.#onHead(status, fields, text, keepAlive),
      onBody: (chunk) => this.#onBody(chunk),
      onMessageComplete: () => this.#onComplete(),
    });
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  get aborted(): boolean {
    return this.#aborted;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get reason(): Error | null {
    return this.#reason;
  }

  /** Whether the connection is open and idle. */
  get usable(): boolean {
    return !this.#dead && this.#req === null && !this.socket.destroyed && this.socket.readyState === 'open';
  }

  /** Sends `req` on this (idle) connection. */
  run(req: H1Request): void {
    this.#clearIdle();
    this.#req = req;
    this.#started = this.#gotBytes = this.#requestSent = this.#responseDone = this.#aborted = this.#paused = false;
    this.#skipBody = req.options.method === 'HEAD';
    this.#keepAlive = true;
    this.#reason = null;
    this.#trailers = [];
    const { handler, options } = req;
    handler.onRequestStart?.(this, {});
    if (this.#req !== req || this.#aborted) return; // aborted from onRequestStart
    const head = requestHead(options);
    if (head instanceof Error) return this.#fail(head);
    this.#arm(options.headersTimeout ?? 300_000, 'headers');
    const body = options.body as Readable | null | undefined;
    if (body == null) {
      this.socket.write(head.text + (head.needsLength ? 'content-length: 0\r\n\r\n' : '\r\n'), 'latin1');
      this.#sent();
      return;
    }
    this.#body = writeBody(this.socket, body, head, {
      progress: (chunk) => {
        this.#timer?.refresh();
        handler.onBodySent?.(chunk);
      },
      done: () => {
        this.#body = null;
        this.#timer?.refresh();
        this.#sent();
      },
      failed: (err) => this.#fail(err),
    });
  }

  pause(): void {
    if (this.#paused || this.#req === null) return;
    this.#paused = true;
    this.socket.pause();
    // The body timeout measures the upstream's silence, not the client's slowness: off while paused.
    if (this.#started) this.#disarm();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#req === null) return;
    this.socket.resume();
    if (this.#started && !this.#responseDone) this.#arm(this.#req.options.bodyTimeout ?? 300_000, 'body');
  }

  abort(reason?: Error): void {
    if (this.#req === null || this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason ?? new errors.RequestAbortedError();
    this.#fail(this.#reason);
  }

  /** Closes the connection (idle or not); a request on it fails with `err`. */
  destroy(err: Error = new errors.ClientDestroyedError()): void {
    if (this.#req !== null) this.#fail(err);
    else this.#close(null);
  }

  /** Keeps the idle connection for `ms`, then closes it. */
  idle(ms: number): void {
    this.#clearIdle();
    this.#idleTimer = setTimeout(() => this.#close(null), ms);
    this.#idleTimer.unref();
  }

  #sent(): void {
    this.#requestSent = true;
    this.#req?.handler.onRequestSent?.();
    if (this.#responseDone) this.#finish();
  }

  #onHead(status: number, fields: string[], text: string, keepAlive: boolean): number {
    const req = this.#req;
    if (req === null) return 1;
    this.#gotBytes = true;
    if (status < 200) {
      if (status === 101) {
        this.#fail(new errors.SocketError('unexpected 101 Switching Protocols'));
        return 2;
      }
      return 1; // 1xx: the client got its 100 from expect-continue.ts; others are dropped.
    }
    this.#started = true;
    const headers = headerRecord(fields);
    this.#keepAlive = keepAlive;
    this.#reuseMs = keepAlive ? keepAliveMs(headers['keep-alive'], this.#owner.keepAliveMs, this.#owner.keepAliveMaxMs) : 0;
    this.#trailers = [];
    this.#arm(req.options.bodyTimeout ?? 300_000, 'body');
    req.handler.onResponseStart?.(this, status, headers, text);
    if (this.#paused) this.#disarm();
    return this.#skipBody ? 1 : 0;
  }

  #onBody(chunk: Buffer): void {
    const req = this.#req;
    if (req === null || this.#aborted) return;
    if (!this.#paused) this.#timer?.refresh();
    req.handler.onResponseData?.(this, chunk);
  }

  #onComplete(): void {
    if (!this.#started || this.#req === null) return; // the end of a 1xx
    this.#responseDone = true;
    this.#disarm();
    const req = this.#req;
    const trailers = this.#trailers.length === 0 ? {} : headerRecord(this.#trailers);
    if (!this.#requestSent) {
      // Answered before the request was written whole: the rest of its body is not sent, so the
      // connection is half-used and closes.
      this.#body?.stop();
      this.#body = null;
      this.#keepAlive = false;
      this.#requestSent = true;
    }
    req.handler.onResponseEnd?.(this, trailers);
    if (this.#req === req) this.#finish();
  }

  #finish(): void {
    this.#req = null;
    this.#disarm();
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    this.served++;
    if (!this.#keepAlive || this.#reuseMs === 0) return this.#close(null);
    this.#owner.released(this);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#dead) return;
    if (this.#req === null) return this.#fail(new errors.SocketError('unexpected data from the upstream'));
    if (this.#responseDone) return this.#fail(new errors.SocketError('data after the response'));
    const ret = this.#parser.execute(chunk);
    if (typeof ret !== 'number') this.#fail(ret);
  };

  readonly #onEnd = (): void => {
    if (this.#dead) return;
    if (this.#req !== null && this.#started) {
      // A body delimited by the close of the connection ends here; a cut-short one is an error.
      const err = this.#parser.finish();
      if (err !== undefined) return this.#fail(err);
      if (this.#req !== null && !this.#responseDone) return this.#fail(new errors.SocketError('other side closed'));
    }
    if (this.#req !== null) this.#fail(new errors.SocketError('other side closed'));
    else this.#close(null);
  };

  readonly #onError = (err: Error): void => {
    if (this.#req !== null) this.#fail(err);
    else this.#close(null);
  };

  readonly #onClose = (): void => {
    if (this.#req !== null) this.#fail(new errors.SocketError('other side closed'));
    else this.#close(null);
  };

  /** Fails the request in flight (if any) with `err` and closes the connection. */
  #fail(err: Error): void {
    const req = this.#req;
    if (req === null) return this.#close(null);
    this.#req = null;
    this.#body?.stop();
    this.#body = null;
    // The upstream closed a kept-alive connection just as the request went out, before a byte
    // of answer: the classic race, where nothing was processed. A request that can be repeated
    // (idempotent, no body) goes out again once, on a new connection, unseen by the handler.
    const stale = this.served > 0 && !this.#gotBytes && !this.#aborted && !req.replayed && req.options.body == null && IDEMPOTENT.has(req.options.method) && isConnectionLoss(err);
    if (stale) {
      req.replayed = true;
      req.lost = err;
      return this.#close(req);
    }
    this.#close(null);
    req.handler.onResponseError?.(this, err);
  }

  #close(replay: H1Request | null): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#disarm();
    this.#clearIdle();
    this.socket.off('data', this.#onData);
    this.socket.destroy();
    this.#parser.remove();
    this.#parser.free();
    this.#owner.closed(this, replay);
  }

  #arm(ms: number, kind: 'headers' | 'body'): void {
    this.#disarm();
    if (ms <= 0) return;
    this.#timer = setTimeout(kind === 'headers' ? this.#onHeadersTimeout : this.#onBodyTimeout, ms);
  }

  #disarm(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  #clearIdle(): void {
    if (this.#idleTimer === null) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  readonly #onHeadersTimeout = (): void => {
    this.#timer = null;
    this.#fail(new errors.HeadersTimeoutError());
  };

  readonly #onBodyTimeout = (): void => {
    this.#timer = null;
    if (!this.#paused) this.#fail(new errors.BodyTimeoutError());
  };
}

/** Whether `err` says the connection went away (rather than that its answer was malformed). */
function isConnectionLoss(err: Error): boolean {
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

/** The request head as written, and how its body is framed. */
export interface RequestHead {
  readonly text: string;
  /** The declared Content-Length; -1 when the body goes chunked. */
  readonly length: number;
  /** A request of a method that means a body, with neither length nor body: `content-length: 0`. */
  readonly needsLength: boolean;
}

/** Methods whose requests say `content-length: 0` when they have no body (as undici does). */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

/** The head of `options` (without its final empty line), or why it cannot be written. */
function requestHead(options: Dispatcher.DispatchOptions): RequestHead | Error {
  const headers = options.headers as readonly string[] | null | undefined;
  let text = `${options.method} ${options.path} HTTP/1.1\r\n`;
  let length = -1;
  if (headers != null) {
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      if (UNSAFE_VALUE.test(value) || UNSAFE_VALUE.test(name)) return new errors.InvalidArgumentError(`invalid ${name} header`);
      if (name.length === 14 && name.toLowerCase() === 'content-length') {
        length = Number(value);
        if (!/^\d+$/.test(value)) return new errors.InvalidArgumentError('invalid content-length header');
      }
      text += `${name}: ${value}\r\n`;
    }
  }
  const body = options.body != null;
  if (body && length < 0) text += 'transfer-encoding: chunked\r\n';
  return { text, length, needsLength: !body && length < 0 && PAYLOAD_METHODS.has(options.method) };
}
