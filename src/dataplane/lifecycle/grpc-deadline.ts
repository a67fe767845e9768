import { isGrpcRequest } from './error-responses.ts';

/** The units of a `grpc-timeout` value, in milliseconds (gRPC over HTTP/2: `TimeoutValue TimeoutUnit`). */
const GRPC_TIMEOUT_UNITS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/** The largest TimeoutValue: at most 8 digits. */
const MAX_TIMEOUT_VALUE = 99_999_999;

/** A gRPC call's own `grpc-timeout` in milliseconds (at least 1), or 0 when it has none (or not a valid one). */
export function grpcTimeoutMs(headers: Readonly<Record<string, string | string[] | undefined>>): number {
  const raw = headers['grpc-timeout'];
  if (typeof raw !== 'string' || !isGrpcRequest(headers)) return 0;
  const m = /^([0-9]{1,8})([HMSmun])$/.exec(raw);
  if (m === null) return 0;
  return Math.max(1, Math.ceil(Number(m[1]) * GRPC_TIMEOUT_UNITS[m[2]!]!));
}

/**
 * The request's deadline from its arrival, in milliseconds (0: none): the route's `requestMs`, or a
 * gRPC call's own `grpc-timeout` (at most 8 digits and a unit) when it is shorter, so that a call
 * its client has given up on is answered DEADLINE_EXCEEDED rather than left to run upstream.
 */
export function deadlineMs(routeMs: number, headers: Readonly<Record<string, string | string[] | undefined>>): number {
  const ms = grpcTimeoutMs(headers);
  if (ms === 0) return routeMs;
  return routeMs > 0 && routeMs < ms ? routeMs : ms;
}

/**
 * A `grpc-timeout` value for `ms` milliseconds (at least 1): in milliseconds while they fit the 8
 * digits, else in whole seconds, rounded down — a retried call must never get more time upstream
 * than its client has left.
 */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.floor(ms));
  if (whole <= MAX_TIMEOUT_VALUE) return `${whole}m`;
  return `${Math.min(MAX_TIMEOUT_VALUE, Math.floor(whole / 1_000))}S`;
}
