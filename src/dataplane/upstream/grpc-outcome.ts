import { trailersOnlyStatus } from './grpc-retry.ts';
import type { Headers } from './exchange.ts';

/**
 * Passive outlier detection for gRPC calls, as Envoy does it: a call's `grpc-status` stands for the
 * HTTP status Google's API design guide gives it (Envoy's grpcToHttpStatus), and the call failed
 * at the endpoint when that is a 5xx — UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
 * UNAVAILABLE, DATA_LOSS, or a code outside gRPC's. OK, CANCELLED (499) and the statuses that
 * blame the caller (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED…) are
 * answers, not failures: an endpoint that says NOT_FOUND is healthy.
 */
const SERVER_FAILURES: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/** Whether a gRPC status counts as a failure of the endpoint that answered it. */
export function grpcStatusFails(code: number): boolean {
  return code > 16 || SERVER_FAILURES.has(code);
}

/**
 * What a gRPC call's response head says about the endpoint: true or false when it decides (a
 * Trailers-Only head, or a non-200 status, judged as any HTTP response), null when the head is a
 * 200 whose status comes in the trailers, after the messages.
 */
export function grpcHeadOutcome(statusCode: number, headers: Headers): boolean | null {
  const status = trailersOnlyStatus(headers);
  if (status !== null) return grpcStatusFails(status);
  if (statusCode !== 200) return statusCode >= 500;
  return null;
}

/**
 * Whether a gRPC call whose head was a 200 failed at the endpoint, by its trailers: a status that
 * is a failure, or none at all (the stream ended without saying how the call went).
 */
export function grpcTrailersFail(trailers: Headers): boolean {
  const status = trailersOnlyStatus(trailers);
  return status === null || grpcStatusFails(status);
}
