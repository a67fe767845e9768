/**
 * The kinds of value a `signalbox.dev/*` annotation takes, the shape of a table entry of each kind
 * (annotations.ts holds the table), and how each kind's allowed values are described in error
 * messages and in the reference.
 */

/** Milliseconds in a second, a minute and an hour: the units of durations in the table. */
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** How a value is spelled; decides the parser used and the text of "allowed values". */
export type AnnotationKind = 'enum' | 'duration' | 'int' | 'percent' | 'status-list' | 'grpc-status-list' | 'hash-on' | 'path' | 'token' | 'token-list' | 'weights' | 'object-ref' | 'object-name' | 'cipher-list';

/** The kinds of object that carry signalbox annotations. */
export type AnnotatedKind = 'Service' | 'EndpointSlice';

interface Common<K extends AnnotationKind> {
  /** Full name, `signalbox.dev/...`. */
  readonly name: string;
  /** The object the annotation is read from. */
  readonly on: AnnotatedKind;
  readonly kind: K;
  /** The default, as documented; when it parses as a value it must equal the compiled default (tested). */
  readonly default: string;
  /** A valid, non-default value (tested). */
  readonly example: string;
  /** One line for the reference. */
  readonly description: string;
}

/** One of a fixed list of words. */
export interface EnumAnnotation extends Common<'enum'> {
  readonly values: readonly string[];
  /** True when the words may be written in any case (they compile lower-case), as other controllers spell them upper-case. */
  readonly anyCase?: boolean;
}

/**
 * A duration with a unit: `500ms`, `5s`, `1.5m`, `1h` (a bare `0` is allowed too), compiled to
 * milliseconds. It must lie in `minMs..maxMs`, or be 0 when `zero` says what 0 means.
 */
export interface DurationAnnotation extends Common<'duration'> {
  readonly minMs: number;
  readonly maxMs: number;
  /** What 0 means, when 0 is allowed besides the range (`a session cookie`, `no timeout`). */
  readonly zero?: string;
  /** True when the value is kept in seconds, so milliseconds would be lost. */
  readonly wholeSeconds?: boolean;
}

/** A decimal integer in `min..max`. */
export interface IntAnnotation extends Common<'int'> {
  readonly min: number;
  readonly max: number;
}

/** An integer percentage, 0 to 100, with or without a `%` sign. */
export type PercentAnnotation = Common<'percent'>;

/** Comma-separated HTTP statuses and inclusive ranges (`200,204,300-399`), each in `min..max`. */
export interface StatusListAnnotation extends Common<'status-list'> {
  readonly min: number;
  readonly max: number;
}

/**
 * Comma-separated gRPC status codes other than OK, by name in any case (`unavailable`,
 * `RESOURCE_EXHAUSTED`, `deadline-exceeded`) or by number (`14`); compiled to the codes, sorted,
 * without repeats.
 */
export type GrpcStatusListAnnotation = Common<'grpc-status-list'>;

/** `header:NAME`, `cookie:NAME`, `query:NAME`, `client-ip` or `uri`. */
export type HashOnAnnotation = Common<'hash-on'>;

/** An absolute path: `/` then visible ASCII without `#` or `;`. */
export type PathAnnotation = Common<'path'>;

/** An HTTP token (RFC 9110 section 5.6.2), as used for header and cookie names. */
export type TokenAnnotation = Common<'token'>;

/** Comma-separated HTTP tokens, compared without regard to case (compiled lower-case, sorted, without repeats). */
export type TokenListAnnotation = Common<'token-list'>;

/** Comma-separated `address=weight` pairs; weights are integers in `min..max`. */
export interface WeightsAnnotation extends Common<'weights'> {
  readonly min: number;
  readonly max: number;
}

/** An OpenSSL cipher list (`ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256`) that OpenSSL matches a cipher with. */
export type CipherListAnnotation = Common<'cipher-list'>;

/** One supported annotation. */
export type AnnotationSpec =
  | EnumAnnotation
  | DurationAnnotation
  | IntAnnotation
  | PercentAnnotation
  | StatusListAnnotation
  | GrpcStatusListAnnotation
  | HashOnAnnotation
  | PathAnnotation
  | TokenAnnotation
  | TokenListAnnotation
  | WeightsAnnotation
  | ObjectRefAnnotation
  | ObjectNameAnnotation
  | CipherListAnnotation;

/**
 * A key of a Secret or ConfigMap in the annotated object's namespace: `secret/NAME` (key
 * `ca.crt`), `configmap/NAME/KEY`, or a bare `NAME` for the Secret.
 */
export type ObjectRefAnnotation = Common<'object-ref'>;

/** The name of an object (a DNS subdomain) in the annotated object's namespace. */
export type ObjectNameAnnotation = Common<'object-name'>;

/** What an `object-ref` annotation names. */
export interface ObjectKeyRef {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly name: string;
  readonly key: string;
}

/** One entry of a status list: an inclusive range, `[n, n]` for a single status. */
export type StatusRange = readonly [number, number];

/**
 * A short description of the values annotation `spec` accepts, for error messages and the
 * reference: `an integer from 0 to 10`, `a duration from 1s to 5m`…
 */
export function allowedValues(spec: AnnotationSpec): string {
  switch (spec.kind) {
    case 'enum':
      return spec.values.length === 1 ? `only ${spec.values[0]}` : `one of ${spec.values.join(', ')}${spec.anyCase === true ? ' (in any case)' : ''}`;
    case 'duration': {
      const range = `a duration from ${formatDuration(spec.minMs)} to ${formatDuration(spec.maxMs)}`;
      const whole = spec.wholeSeconds === true ? ' in whole seconds' : '';
      return spec.zero === undefined ? `${range}${whole}` : `${range}${whole}, or 0 for ${spec.zero}`;
    }
    case 'int':
      return `an integer from ${spec.min} to ${spec.max}`;
    case 'percent':
      return 'a percentage from 0 to 100';
    case 'status-list':
      return `comma-separated statuses and low-high ranges, from ${spec.min} to ${spec.max}`;
    case 'grpc-status-list':
      return 'comma-separated gRPC status names (unavailable, resource-exhausted…, in any case) or codes from 1 to 16';
    case 'hash-on':
      return 'header:NAME, cookie:NAME, query:NAME, client-ip or uri';
    case 'path':
      return 'a path starting with /, without spaces, # or ;';
    case 'token':
      return 'an HTTP token: letters, digits and !#$%&\'*+-.^_`|~';
    case 'token-list':
      return 'comma-separated HTTP tokens (letters, digits and !#$%&\'*+-.^_`|~)';
    case 'weights':
      return `comma-separated address=weight pairs, weights from ${spec.min} to ${spec.max}`;
    case 'object-ref':
      return 'secret/NAME (its ca.crt key), configmap/NAME/KEY, or NAME for the Secret';
    case 'object-name':
      return 'an object name: lower-case letters, digits, - and .';
    case 'cipher-list':
      return 'an OpenSSL cipher list: cipher names separated by :';
  }
}

/** Milliseconds in the largest unit that shows them exactly: `500ms`, `5s`, `2m`, `8760h`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  if (ms % SECOND === 0) return `${ms / SECOND}s`;
  return `${ms}ms`;
}
