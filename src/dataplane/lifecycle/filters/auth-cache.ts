/**
 * The answers an ExternalAuth filter keeps (`auth-cache-key`, `auth-cache-duration`): per route,
 * per worker, gone with the route's plan when a new table is swapped in. Keys are hashed (a key
 * holds `Authorization` or a session cookie, which need not sit in memory in the clear, and a
 * hash bounds each entry's size); at most {@link MAX_KEYS} are kept, the oldest dropped first.
 */
import { createHash } from 'node:crypto';
import type { ExternalAuthCache } from '../../../model/table.ts';
import type { AuthAnswer } from '../../upstream/auth-client.ts';
import type { LifecycleRequest } from '../request.ts';
import { hostName } from '../script-request.ts';

/** How many answers one filter keeps. */
export const MAX_KEYS = 10_000;

const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
/** Cache-Control directives that keep nginx's proxy_cache from storing an answer. */
const UNCACHEABLE = /(?:^|[\s,])(?:no-store|no-cache|private)(?:$|[\s,=])/i;

/** An answer the service gave, with its status and fields. */
type Answer = AuthAnswer & { readonly kind: 'answer' };

/** See the module comment; `now` is injectable for tests. */
export class AuthCache {
  readonly #spec: ExternalAuthCache;
  readonly #now: () => number;
  readonly #entries = new Map<string, { readonly answer: Answer; readonly expires: number }>();

  constructor(spec: ExternalAuthCache, now: () => number = performance.now.bind(performance)) {
    this.#spec = spec;
    this.#now = now;
  }

  /**
   * The key of `r` asking `url`: the hash of both, the key expanded, or null when its variables all expand to
   * nothing (an anonymous request must not share the answer of another).
   */
  keyOf(r: LifecycleRequest, url: string): string | null {
    let variables = '';
    const text = this.#spec.key.replace(VARIABLE, (_whole, braced: string | undefined, bare: string | undefined) => {
      const value = variableOf(r, braced ?? bare ?? '');
      variables += value;
      return value;
    });
    // The auth URL may hold variables too (`https://$host/…`): a different service, a different answer.
    return variables === '' ? null : createHash('sha256').update(url).update('\n').update(text).digest('base64');
  }

  /** The answer kept under `key`, if it is still fresh. */
  get(key: string): Answer | null {
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    if (entry.expires > this.#now()) return entry.answer;
    this.#entries.delete(key);
    return null;
  }

  /** Keeps `answer` under `key` when a rule names its status and nothing in it forbids keeping it. */
  put(key: string, answer: Answer): void {
    const rule = this.#spec.rules.find((r) => r.statuses.includes(answer.status));
    if (rule === undefined || answer.headers['set-cookie'] !== undefined) return;
    const control = answer.headers['cache-control'];
    if (control !== undefined && UNCACHEABLE.test(typeof control === 'string' ? control : control.join(','))) return;
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_KEYS) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { answer, expires: this.#now() + rule.ttlMs });
  }

  /** How many answers are kept (expired ones included until they are looked up or pushed out). */
  get size(): number {
    return this.#entries.size;
  }
}

/** The value of one nginx variable for `r` (checkTable admitted only these names). */
function variableOf(r: LifecycleRequest, name: string): string {
  const routed = r.routed!;
  const headers = r.req.headers;
  switch (name) {
    case 'remote_user':
      return basicUser(headers.authorization);
    case 'remote_addr':
      return r.state.clientIpOf(r.req);
    case 'host':
      return hostName(routed.host);
    case 'uri':
      return routed.path;
    case 'request_uri':
      return routed.target.path + routed.target.query;
  }
  if (name.startsWith('http_')) {
    const value = headers[name.slice(5).toLowerCase().replace(/_/g, '-')];
    return value === undefined ? '' : typeof value === 'string' ? value : value.join(', ');
  }
  if (name.startsWith('cookie_')) return cookie(headers.cookie, name.slice(7));
  if (name.startsWith('arg_')) return arg(routed.target.query, name.slice(4));
  return '';
}

/** nginx's $remote_user: the user name of a Basic `Authorization`, '' for any other. */
function basicUser(authorization: string | undefined): string {
  const m = authorization === undefined ? null : /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (m === null) return '';
  const decoded = Buffer.from(m[1]!, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  return colon === -1 ? '' : decoded.slice(0, colon);
}

/** nginx's $cookie_<name>: the first cookie of that name, compared case-insensitively as nginx does. */
function cookie(header: string | undefined, name: string): string {
  if (header === undefined) return '';
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim().toLowerCase() === name.toLowerCase()) return pair.slice(eq + 1).trim();
  }
  return '';
}

/** nginx's $arg_<name>: the first query parameter of that name, as sent (not decoded). */
function arg(query: string, name: string): string {
  for (const pair of query.slice(1).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (key.toLowerCase() === name.toLowerCase()) return eq === -1 ? '' : pair.slice(eq + 1);
  }
  return '';
}
