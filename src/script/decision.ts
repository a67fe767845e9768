import { isHeaderName, isHeaderValue, RESERVED_HEADERS } from './http-syntax.ts';
import type { Decision, PauseDecision, RedirectDecision, RespondDecision, ResponseDecision, RewriteDecision } from './types.ts';

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
/** Longest `rewrite.path` and `redirect.location`. */
export const MAX_URL_LENGTH = 8 * 1024;
/** Longest `rewrite.host` (with its port). */
export const MAX_HOST_LENGTH = 261;
/** The statuses a `redirect` may have. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * The kinds of a request decision: its possible keys, which are also the `decision` label of
 * `signalbox_script_decisions_total` (one count per key present; `default` for none).
 */
export const DECISION_KINDS = ['backend', 'setHeaders', 'removeHeaders', 'hashKey', 'rewrite', 'respond', 'redirect', 'pause'] as const;
/** The kinds of a response decision (`onResponse`). */
export const RESPONSE_DECISION_KINDS = ['setHeaders', 'removeHeaders', 'respond'] as const;

const DECISION_KEYS: ReadonlySet<string> = new Set(DECISION_KINDS);
const RESPONSE_DECISION_KEYS: ReadonlySet<string> = new Set(RESPONSE_DECISION_KINDS);
const RESPOND_KEYS: ReadonlySet<string> = new Set(['status', 'headers', 'body']);
const PAUSE_KEYS: ReadonlySet<string> = new Set(['until', 'maxWaitMs']);
const REWRITE_KEYS: ReadonlySet<string> = new Set(['path', 'host']);
const REDIRECT_KEYS: ReadonlySet<string> = new Set(['status', 'location']);
/** The decisions that answer the request at the proxy: nothing else of a decision could apply. */
const ANSWERS = ['respond', 'redirect'] as const;

/** The result of {@link validateDecision}. */
export type DecisionCheck = { ok: true; decision: Decision | null } | { ok: false; message: string };
/** The result of {@link validateResponseDecision}. */
export type ResponseDecisionCheck = { ok: true; decision: ResponseDecision | null } | { ok: false; message: string };

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

/**
 * Checks what a script's `onResponse` returned, like {@link validateDecision}: only `setHeaders`,
 * `removeHeaders` (edits of the response's headers) and `respond` (standing alone) are allowed.
 * Whether `respond` may replace the response at hand (only an error response: status 400 or more)
 * is the engine's check, since it depends on the response and not on the decision.
 */
export function validateResponseDecision(value: unknown): ResponseDecisionCheck {
  if (value === null || value === undefined) return { ok: true, decision: null };
  try {
    const input = plainObject(value, 'the response decision', RESPONSE_DECISION_KEYS);
    const decision: { -readonly [K in keyof ResponseDecision]: ResponseDecision[K] } = {};
    if (input.setHeaders !== undefined) decision.setHeaders = headerMap(input.setHeaders, 'setHeaders', false);
    if (input.removeHeaders !== undefined) decision.removeHeaders = headerList(input.removeHeaders, false);
    if (input.respond !== undefined) decision.respond = respond(input.respond);
    checkCombination(decision);
    return { ok: true, decision: Object.freeze(decision) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, message: error.message };
    throw error;
  }
}

/** `respond` and `redirect` stand alone; a header may not be both set and removed. */
function checkCombination(decision: Readonly<Record<string, unknown>> & Pick<Decision, 'setHeaders' | 'removeHeaders'>): void {
  for (const answer of ANSWERS) {
    if (decision[answer] === undefined) continue;
    // An answer from the proxy replaces everything else, so nothing else in the decision could apply.
    const others = Object.keys(decision).filter((key) => key !== answer);
    if (others.length > 0) throw new Invalid(`${answer} cannot be combined with ${others.join(', ')}`);
  }
  if (decision.setHeaders && decision.removeHeaders) {
    const both = decision.removeHeaders.find((name) => Object.hasOwn(decision.setHeaders!, name));
    if (both !== undefined) throw new Invalid(`header ${JSON.stringify(both)} is both set and removed`);
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
  if (input.removeHeaders !== undefined) decision.removeHeaders = headerList(input.removeHeaders, true);
  if (input.hashKey !== undefined) {
    const hashKey = string(input.hashKey, 'hashKey');
    if (hashKey.length > MAX_HASH_KEY_LENGTH) throw new Invalid(`hashKey is longer than ${MAX_HASH_KEY_LENGTH} characters`);
    decision.hashKey = hashKey;
  }
  if (input.rewrite !== undefined) decision.rewrite = rewrite(input.rewrite);
  if (input.respond !== undefined) decision.respond = respond(input.respond);
  if (input.redirect !== undefined) decision.redirect = redirect(input.redirect);
  if (input.pause !== undefined) decision.pause = pause(input.pause);
  checkCombination(decision);
  return Object.freeze(decision);
}

/**
 * A path as it goes on the request line: `/` first, then printable ASCII without space, `?` or `#`
 * (the query is the request's own; anything else must be percent-encoded), so that a script can
 * neither split the request line nor smuggle a query or fragment in.
 */
const REWRITE_PATH = /^\/[\x21-\x7e]*$/;
/** A DNS name (letters, digits, `-`, `.`), an IPv4 address or a bracketed IPv6 address, then an optional port. */
const HOST_PORT = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;

function rewrite(value: unknown): RewriteDecision {
  const input = plainObject(value, 'rewrite', REWRITE_KEYS);
  const result: { -readonly [K in keyof RewriteDecision]: RewriteDecision[K] } = {};
  if (input.path !== undefined) {
    const path = string(input.path, 'rewrite.path');
    if (path.length > MAX_URL_LENGTH) throw new Invalid(`rewrite.path is longer than ${MAX_URL_LENGTH} characters`);
    if (!REWRITE_PATH.test(path) || path.includes('?') || path.includes('#')) {
      throw new Invalid(`rewrite.path must start with / and hold only printable ASCII without spaces, ? or # (percent-encode the rest), not ${describe(path)}`);
    }
    result.path = path;
  }
  if (input.host !== undefined) {
    const host = string(input.host, 'rewrite.host').toLowerCase();
    const match = host.length <= MAX_HOST_LENGTH ? HOST_PORT.exec(host) : null;
    const port = match?.[1] === undefined ? 1 : Number(match[1]);
    if (match === null || port < 1 || port > 65_535) throw new Invalid(`rewrite.host must be a host name or address with an optional :port, not ${describe(input.host)}`);
    result.host = host;
  }
  if (result.path === undefined && result.host === undefined) throw new Invalid('rewrite must give a path, a host or both');
  return Object.freeze(result);
}

function redirect(value: unknown): RedirectDecision {
  const input = plainObject(value, 'redirect', REDIRECT_KEYS);
  const status = input.status;
  if (typeof status !== 'number' || !REDIRECT_STATUSES.has(status)) {
    throw new Invalid(`redirect.status must be one of ${[...REDIRECT_STATUSES].join(', ')}, not ${describe(status)}`);
  }
  const location = string(input.location, 'redirect.location');
  // Control characters would split the response; the proxy sends the Location as written otherwise.
  if (location.length === 0 || location.length > MAX_URL_LENGTH || /[\x00-\x1f\x7f]/.test(location) || !isHeaderValue(location)) {
    throw new Invalid(`redirect.location must be 1 to ${MAX_URL_LENGTH} characters without control characters, not ${describe(location)}`);
  }
  return Object.freeze({ status: status as RedirectDecision['status'], location });
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

function headerList(value: unknown, request: boolean): readonly string[] {
  if (!Array.isArray(value)) throw new Invalid(`removeHeaders must be an array of header names, not ${describe(value)}`);
  if (value.length > MAX_HEADERS) throw new Invalid(`removeHeaders has more than ${MAX_HEADERS} names`);
  const result = new Set<string>();
  for (const name of value as unknown[]) {
    if (typeof name !== 'string') throw new Invalid(`removeHeaders must hold strings, not ${describe(name)}`);
    result.add(headerName(name, 'removeHeaders', request));
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
