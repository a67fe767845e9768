/**
 * Which failures of one exchange may be retried, and how many retries it has left: the cluster's
 * RetryPolicy applied to this request (its method, its body, whether it is a gRPC call), and the
 * body a gRPC call holds for a replay (grpc-retry.ts). The exchange asks before every retry; the
 * cluster's retry budget and the choice of another endpoint are the exchange's.
 */
import type { ClientRequest } from '../lifecycle/proxy-state.ts';
import type { ErrorReason } from '../lifecycle/error-responses.ts';
import type { RetryPolicy } from '../../model/policy.ts';
import { refusedByUpstream, ReplayableBody, trailersOnlyStatus } from './grpc-retry.ts';

/** Why an attempt is retried, as `signalbox_retries_total{reason}` says. */
export type RetryReason = 'connect-failure' | 'reset' | 'status' | 'refused' | 'grpc-status';

/** Response headers as the dispatch contract hands them over. */
type Headers = Record<string, string | string[] | undefined>;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** The retries one request may still make, and on what. */
export class RetryAllowance {
  readonly #policy: RetryPolicy;
  readonly #method: string;
  readonly #hasBody: boolean;
  readonly #grpc: boolean;
  /** A gRPC call's body, held for a replay; null when not a gRPC call, without a body, or without retries. */
  #replay: ReplayableBody | null = null;
  #left: number;

  constructor(policy: RetryPolicy, req: ClientRequest, method: string, hasBody: boolean, grpc: boolean) {
    this.#policy = policy;
    this.#method = method;
    this.#hasBody = hasBody;
    this.#grpc = grpc;
    if (grpc && hasBody && policy.attempts > 0) this.#replay = new ReplayableBody(req);
    // A streamed body cannot be sent twice: only a gRPC call's held one can.
    this.#left = !hasBody || this.#replay !== null ? policy.attempts : 0;
  }

  /** Whether an answer with `status` is retried (a listed 5xx, for a request that may be). */
  onStatus(status: number): boolean {
    return status >= 500 && this.#left > 0 && this.#policy.onStatuses.includes(status) && this.allows('status');
  }

  /** Whether a Trailers-Only answer to a gRPC call carries a status the policy retries (`retry-on-grpc-status`). */
  onGrpcStatus(headers: Headers): boolean {
    if (this.#replay === null || this.#left <= 0) return false;
    const statuses = this.#policy.onGrpcStatuses;
    if (statuses === undefined || statuses.length === 0) return false;
    const status = trailersOnlyStatus(headers);
    return status !== null && statuses.includes(status) && this.allows('grpc-status');
  }

  /**
   * Connect failures never reached the upstream, so any method may be retried; others only
   * idempotent ones, unless the policy says `nonIdempotent`. A gRPC call needs its body held whole so far; one the upstream refused may
   * be replayed while its body still streams, one it answered only once the body has ended.
   */
  allows(reason: RetryReason): boolean {
    if (this.#left <= 0) return false;
    const replay = this.#replay;
    if (replay !== null) {
      if (!replay.replayable) return false;
      if (reason === 'connect-failure' || reason === 'refused') return true;
      return reason === 'grpc-status' && replay.complete;
    }
    if (this.#grpc && this.#hasBody) return false;
    return reason === 'connect-failure' || IDEMPOTENT.has(this.#method) || this.#policy.nonIdempotent === true;
  }

  /**
   * A retry goes out: one fewer is left. Returns the body for it — a gRPC call's replay, taken
   * before the failed attempt is abandoned (which destroys its body) — or undefined to keep the
   * attempt's own.
   */
  spend(failedBody: unknown): unknown {
    this.#left--;
    return this.#replay === null ? undefined : this.#replay.next(failedBody);
  }

  /** Stops holding a gRPC call's body for a replay. */
  release(): void {
    if (this.#replay === null) return;
    this.#replay.release();
    this.#replay = null;
  }
}

/**
 * Which upstream failures of a gRPC call are safe to retry: those where the upstream never took
 * the call — its connection failed, or it refused the stream (REFUSED_STREAM, GOAWAY before it).
 * A reset of a call it took may have had effects, and its body may be partly read.
 */
export function grpcRetryReasonFor(reason: ErrorReason, err: Error, body: unknown): RetryReason | null {
  if (reason === 'upstream-refused' || reason === 'upstream-connect-timeout' || reason === 'upstream-tls') return 'connect-failure';
  return refusedByUpstream(err, body) ? 'refused' : null;
}

/** Which upstream failures a retry may help with: refused or timed-out connects, and resets. */
export function retryReasonFor(reason: ErrorReason, sent: boolean): RetryReason | null {
  // A TLS failure happens before the request is sent; another endpoint may hold a good certificate.
  if (reason === 'upstream-refused' || reason === 'upstream-connect-timeout' || reason === 'upstream-tls') return 'connect-failure';
  if (reason === 'upstream-reset') return sent ? 'reset' : 'connect-failure';
  return null;
}
