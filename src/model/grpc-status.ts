/**
 * gRPC status codes by name (grpc/doc/statuscodes.md), as a retry policy names them: gRPC's own
 * service config spells them `UNAVAILABLE`, Envoy's `retry-on` spells them `unavailable`, and
 * either may use the code's number.
 */

/** Every gRPC status code by its canonical name. */
export const GRPC_STATUS_CODES: Readonly<Record<string, number>> = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});

/**
 * The code `word` names: a canonical name in any case, with `-` or `_` between its words
 * (`unavailable`, `RESOURCE_EXHAUSTED`, `deadline-exceeded`), or the code's decimal number;
 * undefined for anything else.
 */
export function grpcStatusCode(word: string): number | undefined {
  if (/^[0-9]{1,2}$/.test(word)) {
    const n = Number(word);
    return n <= 16 ? n : undefined;
  }
  return GRPC_STATUS_CODES[word.toUpperCase().replaceAll('-', '_')];
}
