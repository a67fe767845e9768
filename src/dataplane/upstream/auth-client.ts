import { Agent, request, type Dispatcher } from 'undici';

/** undici's error codes of a subrequest that ran out of time. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** What an ExternalAuth subrequest came to. */
export type AuthAnswer =
  /** The service answered (any status); its fields by lower-case name, repeated ones as arrays. */
  | { readonly kind: 'answer'; readonly status: number; readonly headers: Readonly<Record<string, string | string[] | undefined>> }
  /** No usable answer: `timeout`, `unreachable` (refused, reset, DNS, TLS), `too-large`, or `aborted` (the client left). */
  | { readonly kind: 'failed'; readonly cause: 'timeout' | 'unreachable' | 'too-large' | 'aborted' };

/** One subrequest, as the ExternalAuth step builds it. */
export interface AuthCall {
  readonly url: string;
  readonly method: string;
  /** Flat `[name, value, …]`, `host` among them. */
  readonly headers: readonly string[];
  readonly timeoutMs: number;
  /** Aborted when the client leaves: the subrequest is cancelled. */
  readonly signal: AbortSignal;
}

/** Options of {@link AuthClient}; the defaults suit a worker. */
export interface AuthClientOptions {
  /** Connections kept per auth service origin. Default 64. */
  readonly connections?: number;
  /** How long an idle connection is kept for reuse. Default 30 s. */
  readonly keepAliveMs?: number;
  /** Largest answer head, in bytes. Default 16 KiB. */
  readonly maxHeaderBytes?: number;
  /** Largest answer body read (and discarded) so the connection can be reused. Default 64 KiB. */
  readonly maxBodyBytes?: number;
  /** The dispatcher to use; by default one owned (and closed) by this client. */
  readonly dispatcher?: Dispatcher;
}

/**
 * The data plane's client for ExternalAuth services: one undici Agent per worker, so subrequests
 * to one service reuse its connections (a keep-alive pool per origin) instead of paying a TCP — or
 * TLS — handshake per request, as ingress-nginx does without `auth-keepalive`. An answer is its
 * status and head only; its body (a login page, a JSON error) is read up to a bound and dropped,
 * and a larger one fails the subrequest. Nothing here throws: every failure is an {@link AuthAnswer}.
 */
export class AuthClient {
  readonly #dispatcher: Dispatcher;
  readonly #owns: boolean;
  readonly #maxBodyBytes: number;

  constructor(options: AuthClientOptions = {}) {
    this.#owns = options.dispatcher === undefined;
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
    this.#dispatcher = options.dispatcher ?? new Agent({
      connections: options.connections ?? 64,
      keepAliveTimeout: options.keepAliveMs ?? 30_000,
      maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
    });
  }

  /** Sends `call` without a body and waits for its answer's head and the end of its (bounded) body. */
  async send(call: AuthCall): Promise<AuthAnswer> {
    const timeout = AbortSignal.timeout(call.timeoutMs);
    const signal = AbortSignal.any([call.signal, timeout]);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(call.url, {
        method: call.method as Dispatcher.HttpMethod,
        headers: call.headers as string[],
        dispatcher: this.#dispatcher,
        signal,
        headersTimeout: call.timeoutMs,
        bodyTimeout: call.timeoutMs,
      });
    } catch (error) {
      return failed(error, call.signal, timeout);
    }
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > this.#maxBodyBytes) {
          response.body.destroy();
          return { kind: 'failed', cause: 'too-large' };
        }
      }
    } catch (error) {
      return failed(error, call.signal, timeout);
    }
    return { kind: 'answer', status: response.statusCode, headers: response.headers };
  }

  /** Closes the connections at once (the worker is stopping: subrequests still pending fail). */
  async close(): Promise<void> {
    if (this.#owns) await this.#dispatcher.destroy();
  }
}

/** The cause of a subrequest that threw: the client's abort, the timeout, a head too large, or the network. */
function failed(error: unknown, client: AbortSignal, timeout: AbortSignal): AuthAnswer {
  if (client.aborted) return { kind: 'failed', cause: 'aborted' };
  const code = (error as { code?: unknown } | null)?.code;
  if (timeout.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code))) return { kind: 'failed', cause: 'timeout' };
  if (code === 'UND_ERR_HEADERS_OVERFLOW') return { kind: 'failed', cause: 'too-large' };
  return { kind: 'failed', cause: 'unreachable' };
}
