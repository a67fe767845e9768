/**
 * Parsing annotation values, one parser per kind of the table in annotations.ts. Annotation values
 * are strings written by hand, so each parser is strict about the form (a typo must not pass for a
 * different value) and says what is wrong with a value it refuses. Leading and trailing white space
 * is ignored (a YAML block scalar ends in a newline), and so is white space around list separators.
 */
import { isIP } from 'node:net';
import { grpcStatusCode } from '../../model/grpc-status.ts';
import type { HashOn } from '../../model/policy.ts';
import {
  allowedValues,
  formatDuration,
  type AnnotationSpec,
  type AnnotationValues,
  type DurationAnnotation,
  type StatusRange,
  type WeightsAnnotation,
} from './annotations.ts';
import type { ObjectKeyRef } from './annotation-kinds.ts';
import { cipherListProblem } from './cipher-list.ts';
import { isDns1123Subdomain as isDnsSubdomain } from './guards.ts';
import { addressSortKey, compareStrings } from './order.ts';

/** A parsed value, or why the text is not one. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (problem: string): Parsed<never> => ({ ok: false, problem });

/**
 * Parses `text` as a value of annotation `spec`. The value's type follows `spec.kind` as
 * {@link AnnotationValues} describes; a refusal says what is wrong and what is allowed.
 */
export function parseAnnotationValue(spec: AnnotationSpec, text: string): Parsed<AnnotationValues[AnnotationSpec['kind']]> {
  const value = text.trim();
  const parsed = value === '' ? fail('it is empty') : parseKind(spec, value);
  return parsed.ok ? parsed : fail(`${parsed.problem}; expected ${allowedValues(spec)}`);
}

function parseKind(spec: AnnotationSpec, value: string): Parsed<AnnotationValues[AnnotationSpec['kind']]> {
  switch (spec.kind) {
    case 'enum': {
      const word = spec.anyCase === true ? value.toLowerCase() : value;
      const lower = spec.values.every((v) => v === v.toLowerCase());
      return spec.values.includes(word) ? ok(word) : fail(spec.anyCase === true || !lower ? 'it is not one of the allowed words' : 'it is not one of the allowed words (they are lower-case)');
    }
    case 'duration':
      return parseBoundedDuration(spec, value);
    case 'int':
      return parseInteger(value, spec.min, spec.max);
    case 'percent':
      return parseInteger(value.endsWith('%') ? value.slice(0, -1) : value, 0, 100);
    case 'status-list':
      return parseStatusList(value, spec.min, spec.max);
    case 'grpc-status-list':
      return parseGrpcStatusList(value);
    case 'hash-on':
      return parseHashOn(value);
    case 'path':
      return parsePath(value);
    case 'token':
      return isToken(value) ? ok(value) : fail('it is not an HTTP token');
    case 'token-list':
      return parseTokenList(value);
    case 'weights':
      return parseWeights(spec, value);
    case 'object-ref':
      return parseObjectRef(value);
    case 'object-name':
      return isDnsSubdomain(value) ? ok(value) : fail(`${JSON.stringify(value)} is not a valid object name`);
    case 'cipher-list': {
      const problem = cipherListProblem(value);
      return problem === null ? ok(value) : fail(problem);
    }
  }
}

/** A Secret's key for a CA bundle, as cert-manager and Kubernetes write it. */
const CA_KEY = 'ca.crt';
/** A ConfigMap or Secret data key: letters, digits, `-`, `_`, `.`. */
const DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

function parseObjectRef(value: string): Parsed<ObjectKeyRef> {
  const parts = value.split('/');
  const [first, name, key] = parts.length === 1 ? ['secret', parts[0]!, CA_KEY] : [parts[0]!.toLowerCase(), parts[1] ?? '', parts[2] ?? (parts[0]!.toLowerCase() === 'secret' ? CA_KEY : '')];
  if (parts.length > 3 || (first === 'secret' && parts.length > 2)) return fail('it has too many parts');
  if (first !== 'secret' && first !== 'configmap') return fail(`${JSON.stringify(parts[0])} is neither secret nor configmap`);
  if (!isDnsSubdomain(name)) return fail(`${JSON.stringify(name)} is not a valid object name`);
  if (!DATA_KEY.test(key)) return fail(key === '' ? 'a configmap needs a key: configmap/NAME/KEY' : `${JSON.stringify(key)} is not a valid data key`);
  return ok({ kind: first === 'secret' ? 'Secret' : 'ConfigMap', name, key });
}

/** At most 9 digits: large enough for any bound, small enough to stay an exact integer. */
const INTEGER = /^[0-9]{1,9}$/;

function parseInteger(value: string, min: number, max: number): Parsed<number> {
  if (!INTEGER.test(value)) return fail('it is not a whole number');
  const n = Number(value);
  return n >= min && n <= max ? ok(n) : fail(`${n} is out of range`);
}

const DURATION = /^([0-9]{1,9})(?:\.([0-9]{1,9}))?(ms|s|m|h)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A number and a unit (`ms`, `s`, `m`, `h`): `500ms`, `5s`, `1.5m`; or `0`. A unit is required
 * otherwise — `30` could mean seconds or milliseconds. The result must be whole milliseconds.
 */
export function parseDuration(value: string): Parsed<number> {
  if (value === '0') return ok(0);
  const m = DURATION.exec(value);
  if (m === null) return fail('it is not a duration such as 500ms, 5s, 2m or 1h (a unit is required)');
  const unit = UNIT_MS[m[3]!]!;
  const fraction = m[2] ?? '';
  // Integer arithmetic, so that 1.1s is exactly 1100ms.
  const scaled = Number(m[1]) * unit + (Number(fraction || '0') * unit) / 10 ** fraction.length;
  return Number.isInteger(scaled) ? ok(scaled) : fail('it is not a whole number of milliseconds');
}

function parseBoundedDuration(spec: DurationAnnotation, value: string): Parsed<number> {
  const parsed = parseDuration(value);
  if (!parsed.ok) return parsed;
  const ms = parsed.value;
  if (ms === 0) return spec.zero === undefined ? fail('0 is not allowed') : parsed;
  if (ms < spec.minMs || ms > spec.maxMs) return fail(`${formatDuration(ms)} is out of range`);
  if (spec.wholeSeconds === true && ms % 1_000 !== 0) return fail('it is not a whole number of seconds');
  return parsed;
}

const STATUS_ENTRY = /^([0-9]{3})(?:-([0-9]{3}))?$/;

/** `200,204,300-399`: sorted ranges, overlapping or adjacent ones merged. */
function parseStatusList(value: string, min: number, max: number): Parsed<readonly StatusRange[]> {
  const ranges: [number, number][] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const m = STATUS_ENTRY.exec(entry);
    if (m === null) return fail(entry === '' ? 'it has an empty entry' : `"${entry}" is not a status or a range of statuses`);
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (low < min || high > max) return fail(`"${entry}" is out of range`);
    if (low > high) return fail(`"${entry}" is an empty range`);
    ranges.push([low, high]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return ok(merged);
}

/** Every status of sorted, merged ranges, ascending. */
export function expandStatuses(ranges: readonly StatusRange[]): number[] {
  return ranges.flatMap(([low, high]) => Array.from({ length: high - low + 1 }, (_, i) => low + i));
}

/** `unavailable, RESOURCE_EXHAUSTED, 4`: the codes, ascending, repeats dropped; OK is no failure to retry. */
function parseGrpcStatusList(value: string): Parsed<readonly number[]> {
  const codes = new Set<number>();
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') return fail('it has an empty entry');
    const code = grpcStatusCode(entry);
    if (code === undefined) return fail(`"${entry}" is not a gRPC status`);
    if (code === 0) return fail(`"${entry}" (OK) is not a failure`);
    codes.add(code);
  }
  return ok([...codes].sort((a, b) => a - b));
}

/** RFC 9110 section 5.6.2 `token`: the characters of header names and cookie names. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Long enough for any real header or cookie name; bounded so that a mistake stays visible. */
const MAX_NAME = 256;

/** True for an HTTP token of at most 256 characters. */
export function isToken(value: string): boolean {
  return value.length <= MAX_NAME && TOKEN.test(value);
}

/** Longer lists are a mistake: a Service has a handful of protocols at most. */
const MAX_TOKENS = 32;

/** `websocket, My-Proto`: lower-cased (tokens of this kind ignore case), sorted, repeats dropped. */
function parseTokenList(value: string): Parsed<readonly string[]> {
  const tokens = new Set<string>();
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') return fail('it has an empty entry');
    if (!isToken(entry)) return fail(`"${entry}" is not an HTTP token`);
    tokens.add(entry.toLowerCase());
  }
  if (tokens.size > MAX_TOKENS) return fail(`it has more than ${MAX_TOKENS} entries`);
  return ok([...tokens].sort(compareStrings));
}

/**
 * Query parameter names as they appear in the query string: unreserved and sub-delimiter
 * characters (RFC 3986) other than the `&` and `=` that separate parameters, and `+`, which
 * form encoding reads as a space.
 */
const QUERY_NAME = /^[A-Za-z0-9\-._~!$'()*,;:@/?]+$/;

/** `header:NAME`, `cookie:NAME`, `query:NAME`, `client-ip` or `uri` (also checks a front end's hash key). */
export function parseHashOn(value: string): Parsed<HashOn> {
  if (value === 'client-ip' || value === 'uri') return ok({ source: value });
  const colon = value.indexOf(':');
  const source = colon === -1 ? value : value.slice(0, colon);
  const name = colon === -1 ? '' : value.slice(colon + 1);
  switch (source) {
    case 'header':
      if (name === '') return fail('header: needs a header name');
      return isToken(name) ? ok({ source, name: name.toLowerCase() }) : fail(`"${name}" is not a valid header name`);
    case 'cookie':
      if (name === '') return fail('cookie: needs a cookie name');
      return isToken(name) ? ok({ source, name }) : fail(`"${name}" is not a valid cookie name`);
    case 'query':
      if (name === '') return fail('query: needs a parameter name');
      return name.length <= MAX_NAME && QUERY_NAME.test(name) ? ok({ source, name }) : fail(`"${name}" is not a valid query parameter name`);
    default:
      return fail(`"${source}" is not something to hash on`);
  }
}

/** `/` then visible ASCII: no spaces or controls, and no `#` (a fragment) or `;` (ends a cookie attribute). */
const PATH = /^\/[!-~]*$/;
const MAX_PATH = 1024;

/** A cookie path: `/` then visible ASCII without `#` or `;`. */
export function parsePath(value: string): Parsed<string> {
  if (!value.startsWith('/')) return fail('it does not start with /');
  if (value.length > MAX_PATH) return fail(`it is longer than ${MAX_PATH} characters`);
  if (!PATH.test(value) || value.includes('#') || value.includes(';')) return fail('it contains a space, a control character, a non-ASCII character, # or ;');
  return ok(value);
}

/**
 * `10.0.0.1=3, 2001:db8::1=1`: one weight per IP address. Any bad entry refuses the whole value:
 * applying part of a list would leave the weights in proportions nobody wrote.
 */
function parseWeights(spec: WeightsAnnotation, value: string): Parsed<ReadonlyMap<string, number>> {
  const weights = new Map<string, number>();
  const entries = value.split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!.trim();
    const where = `entry ${i + 1} ("${entry}")`;
    const eq = entry.lastIndexOf('=');
    if (eq === -1) return fail(entry === '' ? `entry ${i + 1} is empty` : `${where} has no =weight`);
    const address = entry.slice(0, eq).trim();
    if (isIP(address) === 0) return fail(`${where}: "${address}" is not an IP address`);
    const weight = parseInteger(entry.slice(eq + 1).trim(), spec.min, spec.max);
    if (!weight.ok) return fail(`${where}: the weight is not an integer from ${spec.min} to ${spec.max}`);
    const key = addressSortKey(address);
    if (weights.has(key)) return fail(`${where}: the address is listed twice`);
    weights.set(key, weight.value);
  }
  return ok(weights);
}
