/**
 * An upstream handler that holds every request (answers none until told) and logs, from the
 * upstream's own side, when each request arrived and when its connection was closed under it: the
 * evidence that a cancelled request was aborted upstream, or never arrived.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request as the upstream saw it. */
export interface HeldRequest {
  readonly url: string;
  /** performance.now() when it arrived. */
  readonly at: number;
  /** performance.now() when its connection closed before it was answered; null while open or answered. */
  abortedAt: number | null;
  /** Resolves when the request is aborted (its connection closed before an answer). */
  readonly aborted: Promise<number>;
  /** Answers it now with 200 and its URL. */
  answer(): void;
}

/** The handler and its log. */
export interface HoldingUpstream {
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly log: HeldRequest[];
  /** Resolves with the n-th request (1-based) once it arrived. */
  arrival(n: number): Promise<HeldRequest>;
}

/** A handler that holds requests; those whose path starts with `/fast` are answered at once. */
export function holdingUpstream(): HoldingUpstream {
  const log: HeldRequest[] = [];
  const waiters: { n: number; resolve: (r: HeldRequest) => void }[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    if ((req.url ?? '').startsWith('/fast')) {
      res.end(`fast ${req.url}`);
      return;
    }
    let resolveAborted!: (at: number) => void;
    const entry: HeldRequest = {
      url: req.url ?? '',
      at: performance.now(),
      abortedAt: null,
      aborted: new Promise((resolve) => (resolveAborted = resolve)),
      answer: () => res.end(`answered ${req.url}`),
    };
    res.on('close', () => {
      if (res.writableFinished) return;
      entry.abortedAt = performance.now();
      resolveAborted(entry.abortedAt);
    });
    log.push(entry);
    for (const w of waiters.filter((x) => x.n <= log.length)) w.resolve(log[w.n - 1]!);
  };
  return {
    handler,
    log,
    arrival(n) {
      if (log.length >= n) return Promise.resolve(log[n - 1]!);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}
