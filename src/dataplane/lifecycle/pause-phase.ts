import type { PauseGate } from '../../pause/pause-gate.ts';
import { account, type RequestNote } from './accounting.ts';
import { answerError } from './answers.ts';
import { clientGone } from './client-gone.ts';
import type { RouteContext } from './route-context.ts';
import type { ClientRequest, ClientResponse, ProxyState } from './proxy-state.ts';

/** How long a request has been held so far, across gates: the first hold's start and the deadline. */
export interface Waited {
  /** `performance.now()` ms when the request was first held. */
  readonly since: number;
  /** The earliest deadline of every gate that held it: the total wait never grows past the first bound. */
  readonly deadline: number;
}

/** Where to hold a request and what to do when the wait ends. */
export interface Hold {
  readonly gate: PauseGate;
  readonly maxWaitMs: number;
  /** The gate opened: the request goes on (usually: through the lifecycle again, on the newest table). */
  readonly onRelease: (waited: Waited) => void;
  /** The wait ran out; by default 503 with Retry-After. */
  readonly onExpire?: (waited: Waited) => void;
  /** The deadline is the normal end (a script's delay): counted as released. */
  readonly delay?: boolean;
}

/**
 * Declared body size a held request counts against the gate's byte bound. Bodies are not read
 * while held — TCP (or HTTP/2 flow control) pushes back on the client — so what is held is at most
 * what Node has already buffered; the declared length bounds what the gate lets in. A chunked body
 * of unknown length counts as 64 KiB.
 */
export function declaredBodyBytes(req: ClientRequest): number {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) || 0;
  const stream = (req as { stream?: { endAfterHeaders: boolean } }).stream;
  if (stream !== undefined) return stream.endAfterHeaders ? 0 : 64 * 1024;
  return req.headers['transfer-encoding'] !== undefined ? 64 * 1024 : 0;
}

/**
 * Holds a request at `hold.gate`: refused at once (503, Retry-After) when the gate's queue is full;
 * otherwise waiting until the gate releases it or its deadline passes. A client that disconnects
 * while held leaves the queue at once (accounted as 499).
 */
export function holdRequest(state: ProxyState, req: ClientRequest, res: ClientResponse, started: number, ctx: RouteContext, waited: Waited | null, note: RequestNote, hold: Hold): void {
  const pauses = state.pauses!;
  const now = performance.now();
  const since = waited?.since ?? now;
  const deadline = Math.min(waited?.deadline ?? Infinity, now + hold.maxWaitMs);
  const after: Waited = { since, deadline };
  const expire = hold.onExpire ?? ((w: Waited) => answerError(state, req, res, started, 'pause-expired', ctx, undefined, { ...note, pausedMs: performance.now() - w.since }));
  if (deadline <= now || pauses.stopped) return expire(after);
  // A response whose client is already gone never emits 'close' again (an HTTP/2 stream closed
  // before its response existed): it must not take a place in the queue it would never leave.
  if (clientGone(res)) return account(state, req, 499, 0, started, ctx, null, 'client-closed', note);
  const onClose = (): void => {
    if (admission.held) admission.cancel();
    account(state, req, 499, 0, started, ctx, null, 'client-closed', { ...note, pausedMs: performance.now() - since });
  };
  const admission = hold.gate.admit({
    bytes: declaredBodyBytes(req),
    deadline,
    delay: hold.delay === true,
    release: () => {
      res.off('close', onClose);
      hold.onRelease(after);
    },
    expire: () => {
      res.off('close', onClose);
      expire(after);
    },
  });
  if (!admission.held) {
    pauses.rejected(hold.gate, admission.bound);
    return answerError(state, req, res, started, 'pause-queue-full', ctx, undefined, note);
  }
  res.once('close', onClose);
}
