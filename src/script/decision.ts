import { isHeaderName, isHeaderValue, RESERVED_HEADERS } from './http-syntax.ts';
import type { Decision, PauseDecision, RespondDecision } from './types.ts';

/** Largest `respond.body`, in UTF-8 bytes. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Longest `hashKey`. */
export const MAX_HASH_KEY_LENGTH = 1024;
/** Longest `pause.until`. */
export const MAX_PAUSE_CONDITION_LENGTH = 256;
/** Largest `pause.maxWaitMs` a script may ask for (the pause gate may cap it further). */
export const MAX_PAUSE_WAIT_MS = 10 * 60 * 1000;
/** Most headers one decision may set or remove (each list). */
export const MAX_HEADERS = 64;

const DECISION_KEYS: ReadonlySet<string> = new Set(['backend', 'setHeaders', 'removeHeaders', 'hashKey', 'respond', 'pause']);
const RESPOND_KEYS: ReadonlySet<string> = new Set(['status', 'headers', 'body']);
const PAUSE_KEYS: ReadonlySet<string> = new Set(['until', 'maxWaitMs']);

/** The result of {@link validateDecision}. */
export type DecisionCheck = { ok: true; decision: Decision | null } | { ok: false; message: string };

/** Thrown inside validation only, to unwind with a message. */
class Invalid extends Error {}

/**
 * Checks what a script returned (already copied out of the isolate and parsed as JSON) and builds
 * the frozen {@link Decision} the proxy acts on. Strict on purpose: an unknown key, a wrong type, a
 * backend the script did not declare or a header that is not valid HTTP rejects the whole decision,
 * because acting on half of a decision is worse than the route's failure policy.
 * @param backends the script's declared backend names.
 */
export function validateDecision(value: unknown, backends: ReadonlySet<string>): DecisionCheck {
  if (value === null || value === undefined) return { ok: true, decision: null };
  try {
    return { ok: true, decision: buildDecision(value, backends) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, message: error.message };
    throw error;
  }
}

function buildDecision(value: unknown, backends: ReadonlySet<string>): Decision {
  const input = plainObject(value, 'the decision', DECISION_KEYS);
  const decision: { -readonly [K in keyof Decision]: Decision[K] } = {};
  if (input.backend !== undefined) {
    const backend = string(input.backend, 'backend');
    if (!backends.has(backend)) {
      const declared = [...backends].join(', ') || 'none';
      throw new Invalid(`backend ${JSON.stringify(backend)} is not one of the script's backends (${declared})`);
    }
    decision.backend = backend;
  }
  if (input.setHeaders !== undefined) decision.setHeaders = headerMap(input.setHeaders, 'setHeaders', true);
  if (input.removeHeaders !== undefined) decision.removeHeaders = headerList(input.removeHeaders);
  if (input.hashKey !== undefined) {
    const hashKey = string(input.hashKey, 'hashKey');
    if (hashKey.length > MAX_HASH_KEY_LENGTH) throw new Invalid(`hashKey is longer than ${MAX_HASH_KEY_LENGTH} characters`);
    decision.hashKey = hashKey;
  }
  if (input.respond !== undefined) decision.respond = respond(input.respond);
  if (input.pause !== undefined) decision.pause = pause(input.pause);
  if (decision.respond) {
    // An answer from the proxy never goes upstream, so nothing else in the decision could apply.
    const others = Object.keys(decision).filter((key) => key !== 'respond');
    if (others.length > 0) throw new Invalid(`respond cannot be combined with ${others.join(', ')}`);
  }
  if (decision.setHeaders && decision.removeHeaders) {
    const both = decision.removeHeaders.find((name) => Object.hasOwn(decision.setHeaders!, name));
    if (both !== undefined) throw new Invalid(`header ${JSON.stringify(both)} is both set and removed`);
  }
  return Object.freeze(decision);
}

function respond(value: unknown): RespondDecision {
  const input = plainObject(value, 'respond', RESPOND_KEYS);
  const status = input.status;
  // 1xx is not a final status: a proxy cannot answer a request with one.
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new Invalid(`respond.status must be an integer from 200 to 599, not ${describe(status)}`);
  }
  const result: { -readonly [K in keyof RespondDecision]: RespondDecision[K] } = { status };
  if (input.headers !== undefined) result.headers = headerMap(input.headers, 'respond.headers', false);
  if (input.body !== undefined) {
    const body = string(input.body, 'respond.body');
    if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) throw new Invalid(`respond.body is larger than ${MAX_BODY_BYTES} bytes`);
    result.body = body;
  }
  return Object.freeze(result);
}

function pause(value: unknown): PauseDecision {
  const input = plainObject(value, 'pause', PAUSE_KEYS);
  const result: { -readonly [K in keyof PauseDecision]: PauseDecision[K] } = {};
  if (input.until !== undefined) {
    const until = string(input.until, 'pause.until');
    if (until.length === 0 || until.length > MAX_PAUSE_CONDITION_LENGTH) {
      throw new Invalid(`pause.until must have 1 to ${MAX_PAUSE_CONDITION_LENGTH} characters`);
    }
    result.until = until;
  }
  if (input.maxWaitMs !== undefined) {
    const wait = input.maxWaitMs;
    if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > MAX_PAUSE_WAIT_MS) {
      throw new Invalid(`pause.maxWaitMs must be an integer from 0 to ${MAX_PAUSE_WAIT_MS}, not ${describe(wait)}`);
    }
    result.maxWaitMs = wait;
  }
  return Object.freeze(result);
}

/** Header names are lower-cased so the proxy can compare them without caring about case. */
function headerMap(value: unknown, what: string, request: boolean): Readonly<Record<string, string>> {
  const input = plainObject(value, what, null);
  const names = Object.keys(input);
  if (names.length > MAX_HEADERS) throw new Invalid(`${what} has more than ${MAX_HEADERS} headers`);
  const result: Record<string, string> = {};
  for (const name of names) {
    const lower = headerName(name, what, request);
    if (Object.hasOwn(result, lower)) throw new Invalid(`${what} names ${JSON.stringify(lower)} twice`);
    const headerValue = input[name];
    if (typeof headerValue !== 'string') throw new Invalid(`${what}[${JSON.stringify(name)}] must be a string, not ${describe(headerValue)}`);
    if (!isHeaderValue(headerValue)) throw new Invalid(`${what}[${JSON.stringify(name)}] is not a valid header value`);
    // defineProperty, not assignment: a header named `__proto__` must stay an ordinary own key.
    Object.defineProperty(result, lower, { value: headerValue, enumerable: true, writable: true, configurable: true });
  }
  return Object.freeze(result);
}

function headerList(value: unknown): readonly string[] {
  if (!Array.isArray(value)) throw new Invalid(`removeHeaders must be an array of header names, not ${describe(value)}`);
  if (value.length > MAX_HEADERS) throw new Invalid(`removeHeaders has more than ${MAX_HEADERS} names`);
  const result = new Set<string>();
  for (const name of value as unknown[]) {
    if (typeof name !== 'string') throw new Invalid(`removeHeaders must hold strings, not ${describe(name)}`);
    result.add(headerName(name, 'removeHeaders', true));
  }
  return Object.freeze([...result]);
}

function headerName(name: string, what: string, request: boolean): string {
  if (!isHeaderName(name)) throw new Invalid(`${what}: ${JSON.stringify(name)} is not a valid header name`);
  const lower = name.toLowerCase();
  if (RESERVED_HEADERS.has(lower)) throw new Invalid(`${what}: ${lower} is managed by the proxy`);
  // The request target's authority is the route's business; a script rewriting it bypasses routing.
  if (request && lower === 'host') throw new Invalid(`${what}: host is managed by the proxy`);
  return lower;
}

/**
 * `value` as a record, refusing arrays and unknown keys.
 * @param keys the allowed keys, or null for any (a header map).
 */
function plainObject(value: unknown, what: string, keys: ReadonlySet<string> | null): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Invalid(`${what} must be an object, not ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  if (keys) {
    for (const key of Object.keys(record)) {
      if (!keys.has(key)) throw new Invalid(`${what} has an unknown key ${JSON.stringify(key)}`);
    }
  }
  return record;
}

function string(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Invalid(`${what} must be a string, not ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number') return String(value);
  return `a value of type ${typeof value}`;
}
