/**
 * The sample requests of `signalbox script test`: partial {@link ScriptRequest}s written by hand,
 * completed with defaults and checked strictly, so that a typo in a field name is an error rather
 * than a request the script never sees the way the user meant it.
 */
import { isIP } from 'node:net';
import YAML from 'yaml';
import { ConfigError } from '../errors.ts';
import { isHeaderName, isHeaderValue } from '../script/http-syntax.ts';
import type { ScriptRequest } from '../script/index.ts';

/** The fields a sample request may set; every one is optional. */
export const REQUEST_FIELDS: readonly string[] = ['method', 'host', 'path', 'query', 'headers', 'cookies', 'clientIp', 'sni', 'response'];

/** What a field left out becomes. */
export const REQUEST_DEFAULTS = Object.freeze({ method: 'GET', host: 'example.com', path: '/', clientIp: '127.0.0.1', sni: null });

/** One sample request in the raw, and where it came from for error messages. */
export interface RawRequest {
  readonly value: unknown;
  /** E.g. `reqs.json item 2`; null for a `--request` flag. */
  readonly origin: string | null;
}

/**
 * The `--request` flags (in order) followed by the requests of the `--requests` file, parsed but
 * not checked; a flag that is not JSON fails here, naming its position.
 */
export function rawRequests(flags: readonly string[], file: { readonly name: string; readonly text: string } | null): RawRequest[] {
  const out: RawRequest[] = flags.map((text, i) => {
    try {
      return { value: JSON.parse(text) as unknown, origin: null };
    } catch (error) {
      throw new ConfigError(`request #${i + 1}: --request is not JSON (${(error as Error).message})`);
    }
  });
  if (file !== null) {
    parseRequestsFile(file.name, file.text).forEach((item) => out.push(item));
  }
  return out;
}

/**
 * A requests file: a JSON array, JSON lines (one object per line) or a YAML list. JSON is tried
 * first so that a JSON file's errors are not reported in YAML's terms.
 */
function parseRequestsFile(name: string, text: string): RawRequest[] {
  const lines = text.split('\n').map((line, i) => ({ line: line.trim(), number: i + 1 })).filter((l) => l.line !== '');
  if (lines.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (lines.length > 1 && lines.every((l) => l.line.startsWith('{'))) {
      return lines.map(({ line, number }) => {
        try {
          return { value: JSON.parse(line) as unknown, origin: `${name} line ${number}` };
        } catch (error) {
          throw new ConfigError(`--requests ${name}: line ${number} is not JSON (${(error as Error).message})`);
        }
      });
    }
    try {
      parsed = YAML.parse(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 100 });
    } catch (error) {
      throw new ConfigError(`--requests ${name}: neither JSON, JSON lines nor YAML (${(error as Error).message.split('\n')[0]})`);
    }
  }
  if (!Array.isArray(parsed)) throw new ConfigError(`--requests ${name}: must hold a list of requests, got ${kindOf(parsed)}`);
  return (parsed as unknown[]).map((value, i) => ({ value, origin: `${name} item ${i + 1}` }));
}

/**
 * A complete request from a partial one, or a {@link ConfigError} naming the request (`#index`, 1-based)
 * and the field. Header names come out lower case, the host lower case without its port; a `?` in
 * `path` splits off the query; a `cookie` header fills `cookies` unless `cookies` is given; `host`
 * falls back to the `host` header before the default, as the proxy reads it from there.
 */
export function completeRequest(raw: RawRequest, index: number): ScriptRequest {
  const label = `request #${index}${raw.origin === null ? '' : ` (${raw.origin})`}`;
  // Typed on the binding so that a call narrows like a throw does.
  const fail: (message: string) => never = (message) => {
    throw new ConfigError(`${label}: ${message}`);
  };
  const value = raw.value;
  if (!isPlainObject(value)) return fail(`must be a JSON object, got ${kindOf(value)}`);
  for (const key of Object.keys(value)) {
    if (!REQUEST_FIELDS.includes(key)) fail(`unknown field "${key}" (the fields are ${REQUEST_FIELDS.join(', ')})`);
  }
  const text = (key: string, fallback: string): string => {
    const v = value[key];
    if (v === undefined) return fallback;
    return typeof v === 'string' ? v : fail(`${key} must be a string, got ${kindOf(v)}`);
  };
  const record = (key: string): Record<string, unknown> | undefined => {
    const v = value[key];
    if (v === undefined) return undefined;
    return isPlainObject(v) ? v : fail(`${key} must be an object, got ${kindOf(v)}`);
  };

  const method = text('method', REQUEST_DEFAULTS.method);
  if (!isHeaderName(method)) fail(`method must be an HTTP method token, got ${JSON.stringify(method)}`);

  // Maps, turned into records at the end, so that a key such as `__proto__` stays an own key.
  const headers = new Map<string, string>();
  for (const [name, v] of Object.entries(record('headers') ?? {})) {
    const lower = name.toLowerCase();
    if (!isHeaderName(name)) fail(`headers: ${JSON.stringify(name)} is not a valid header name`);
    if (typeof v !== 'string') fail(`headers.${name} must be a string, got ${kindOf(v)}`);
    if (!isHeaderValue(v)) fail(`headers.${name}: the value has characters a header cannot carry (control characters, line breaks) or is too long`);
    if (headers.has(lower)) fail(`headers: ${JSON.stringify(name)} is given twice (names are compared lower case)`);
    headers.set(lower, v);
  }

  const host = normaliseHost(text('host', headers.get('host') ?? REQUEST_DEFAULTS.host));

  let path = text('path', REQUEST_DEFAULTS.path);
  let pathQuery: Map<string, string | string[]> | null = null;
  const q = path.indexOf('?');
  if (q !== -1) {
    pathQuery = parseQuery(path.slice(q + 1));
    path = path.slice(0, q);
  }
  if (!path.startsWith('/')) fail(`path must start with /, got ${JSON.stringify(path)}`);

  const rawQuery = record('query');
  if (rawQuery !== undefined && pathQuery !== null) fail('give the query either in path (after ?) or as query, not both');
  const query = pathQuery ?? new Map<string, string | string[]>();
  for (const [name, v] of Object.entries(rawQuery ?? {})) {
    if (typeof v === 'string') query.set(name, v);
    else if (Array.isArray(v) && v.every((item) => typeof item === 'string')) query.set(name, [...(v as string[])]);
    else fail(`query.${name} must be a string or a list of strings, got ${kindOf(v)}`);
  }

  const rawCookies = record('cookies');
  const cookies = rawCookies === undefined ? parseCookieHeader(headers.get('cookie')) : new Map<string, string>();
  for (const [name, v] of Object.entries(rawCookies ?? {})) {
    if (typeof v !== 'string') fail(`cookies.${name} must be a string, got ${kindOf(v)}`);
    cookies.set(name, v);
  }

  const clientIp = text('clientIp', REQUEST_DEFAULTS.clientIp);
  if (isIP(clientIp) === 0) fail(`clientIp must be an IPv4 or IPv6 address, got ${JSON.stringify(clientIp)}`);

  const rawSni = value.sni;
  let sni: string | null = REQUEST_DEFAULTS.sni;
  if (rawSni !== undefined && rawSni !== null) {
    if (typeof rawSni !== 'string' || rawSni === '') fail(`sni must be a non-empty string or null, got ${kindOf(rawSni)}`);
    sni = rawSni;
  }
  return { method, host, path, query: Object.fromEntries(query), headers: Object.fromEntries(headers), cookies: Object.fromEntries(cookies), clientIp, sni };
}

/** The host as the proxy gives it to scripts: lower case, without a port (IPv6 literals keep their brackets). */
function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    return end === -1 ? lower : lower.slice(0, end + 1);
  }
  const colon = lower.lastIndexOf(':');
  return colon !== -1 && lower.indexOf(':') === colon && /^\d*$/.test(lower.slice(colon + 1)) ? lower.slice(0, colon) : lower;
}

/** Decoded query parameters; a repeated one becomes a list, as the proxy hands them over. */
function parseQuery(text: string): Map<string, string | string[]> {
  const out = new Map<string, string | string[]>();
  for (const [name, v] of new URLSearchParams(text)) {
    const had = out.get(name);
    out.set(name, had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v]);
  }
  return out;
}

/** `a=1; b=2` as a record; the first occurrence of a name wins, pairs without `=` are skipped. */
function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (name !== '' && !out.has(name)) out.set(name, pair.slice(eq + 1).trim());
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A value's JSON kind, for messages. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The upstream response a request's `onResponse` run sees when the request went upstream. */
export interface SampleResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** The upstream response of a request without a `response` field. */
export const RESPONSE_DEFAULTS: SampleResponse = Object.freeze({ status: 200, headers: Object.freeze({}) });

/**
 * The request's `response` field — `{status?, headers?}`, the upstream's answer its script's
 * `onResponse` sees — checked like the request's own fields; the defaults without one.
 */
export function completeResponse(raw: RawRequest, index: number): SampleResponse {
  const label = `request #${index}${raw.origin === null ? '' : ` (${raw.origin})`}`;
  const fail: (message: string) => never = (message) => {
    throw new ConfigError(`${label}: response: ${message}`);
  };
  const value = isPlainObject(raw.value) ? raw.value.response : undefined;
  if (value === undefined) return RESPONSE_DEFAULTS;
  if (!isPlainObject(value)) return fail(`must be an object, got ${kindOf(value)}`);
  for (const key of Object.keys(value)) if (key !== 'status' && key !== 'headers') fail(`unknown field "${key}" (the fields are status, headers)`);
  const status = value.status ?? RESPONSE_DEFAULTS.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) fail(`status must be an integer from 100 to 599, got ${kindOf(status)}`);
  const rawHeaders = value.headers ?? {};
  if (!isPlainObject(rawHeaders)) return fail(`headers must be an object, got ${kindOf(rawHeaders)}`);
  const headers = new Map<string, string>();
  for (const [name, v] of Object.entries(rawHeaders)) {
    if (!isHeaderName(name)) fail(`headers: ${JSON.stringify(name)} is not a valid header name`);
    if (typeof v !== 'string' || !isHeaderValue(v)) fail(`headers.${name} must be a string a header can carry`);
    headers.set(name.toLowerCase(), v);
  }
  return { status: status as number, headers: Object.fromEntries(headers) };
}
