import { isGrpcRequest } from './error-responses.ts';

/** The units of a `grpc-timeout` value, in milliseconds (gRPC over HTTP/2: `TimeoutValue TimeoutUnit`). */
const GRPC_TIMEOUT_UNITS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/**
 * The request's deadline from its arrival, in milliseconds (0: none): the route's `requestMs`, or a
 * gRPC call's own `grpc-timeout` (at most 8 digits and a unit) when it is shorter, so that a call
 * its client has given up on is answered DEADLINE_EXCEEDED rather than left to run upstream.
 */
export function deadlineMs(routeMs: number, headers: Readonly<Record<string, string | string[] | undefined>>): number {
  const raw = headers['grpc-timeout'];
  if (typeof raw !== 'string' || !isGrpcRequest(headers)) return routeMs;
  const m = /^([0-9]{1,8})([HMSmun])$/.exec(raw);
  if (m === null) return routeMs;
  const ms = Math.max(1, Math.ceil(Number(m[1]) * GRPC_TIMEOUT_UNITS[m[2]!]!));
  return routeMs > 0 && routeMs < ms ? routeMs : ms;
}
