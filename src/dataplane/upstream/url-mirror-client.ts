import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';

/** How long a copy may take, from connecting to the end of its answer, before it is dropped. */
const COPY_TIMEOUT_MS = 60_000;

/** One copy of a request, as the UrlMirror filter builds it. */
export interface MirrorCopy {
  /** Absolute http or https URL, variables expanded. */
  readonly url: string;
  readonly method: string;
  /** Flat `[name, value, …]`, `host` among them. */
  readonly headers: readonly string[];
  /** The teed body; null for a copy without one. */
  readonly body: Readable | null;
}

/**
 * The data plane's client for UrlMirror copies: one undici Agent per worker, so copies to one
 * mirror reuse its connections. Fire and forget: an answer is read to its end and dropped, a
 * failure (refused, reset, timed out, a body cut off) is ignored. Nothing here throws.
 */
export class UrlMirrorClient {
  readonly #dispatcher: Dispatcher;

  constructor(dispatcher?: Dispatcher) {
    this.#dispatcher = dispatcher ?? new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  }

  /** Sends `copy` and forgets it. */
  send(copy: MirrorCopy): void {
    request(copy.url, {
      method: copy.method as Dispatcher.HttpMethod,
      headers: copy.headers as string[],
      body: copy.body,
      dispatcher: this.#dispatcher,
      headersTimeout: COPY_TIMEOUT_MS,
      bodyTimeout: COPY_TIMEOUT_MS,
      signal: AbortSignal.timeout(COPY_TIMEOUT_MS),
    }).then(
      (response) => response.body.dump({ limit: Number.MAX_SAFE_INTEGER }).catch(() => {}),
      // The copy failed (or its body was cut off): the original never learns of it.
      () => {
        copy.body?.destroy();
      },
    );
  }

  /** Closes the connections at once (the worker is stopping). */
  async close(): Promise<void> {
    await this.#dispatcher.destroy();
  }
}
