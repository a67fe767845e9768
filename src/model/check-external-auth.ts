/**
 * The invariants of an {@link ExternalAuthFilter}, for checkRoute: a URL the data plane can send
 * to as it is, a method it can send without a body, field names it can set, a sign-in URL whose
 * variables it knows how to expand. ingress-nginx would expand any nginx variable in `auth-url`;
 * signalbox expands none there, so a front end must report such a URL instead of writing it.
 */
import type { ExternalAuthFilter, Provenance } from './table.ts';

/** How the check reports: where, about which node, what (as in check-routes.ts). */
type Report = (at: string, provenance: Provenance, message: string) => void;

/** ingress-nginx's own list (authreq's methodsRegex) without CONNECT and TRACE, which cannot carry a proxy's subrequest. */
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
// RFC 9110 §5.6.2: a token, lower case as the table keeps field names.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// A field value: visible characters, spaces and tabs, no line break (RFC 9110 §5.5).
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Fields the subrequest sets itself, or that describe a body or a connection: a request header may not replace them. */
const RESERVED_REQUEST = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'expect']);
/** Fields that may not be copied into the upstream request: its framing and routing are the proxy's. */
const RESERVED_COPY = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade']);
/** The nginx variables an auth or sign-in URL may hold (signin-url.ts expands them). */
const SIGNIN_VARIABLES = new Set(['scheme', 'pass_access_scheme', 'host', 'http_host', 'best_http_host', 'request_uri', 'escaped_request_uri', 'request_method']);
const VARIABLE = /\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)/g;
const MAX_TIMEOUT_MS = 3_600_000;

/** Reports every problem of `f`, the filter of the route whose provenance is `p`. */
export function checkExternalAuth(at: string, f: ExternalAuthFilter, p: Provenance, report: Report): void {
  // `https://$host/oauth2/auth` (oauth2-proxy's own instructions): the same variables as signin.
  const unknownInUrl = [...f.url.matchAll(VARIABLE)].map((m) => m[1]!.replace(/[{}]/g, '')).find((name) => !SIGNIN_VARIABLES.has(name));
  if (unknownInUrl !== undefined) report(at, p, `auth url ${JSON.stringify(f.url)} holds the variable $${unknownInUrl}; only $${[...SIGNIN_VARIABLES].join(', $')} are expanded`);
  else {
    const problem = urlProblem(f.url.replace(VARIABLE, 'x'));
    if (problem !== null) report(at, p, `auth url ${JSON.stringify(f.url)} ${problem}`);
  }
  if (!METHODS.has(f.method)) report(at, p, `auth method ${JSON.stringify(f.method)} is not one of ${[...METHODS].join(', ')}`);
  const copied = new Set<string>();
  for (const name of f.responseHeaders) {
    if (!TOKEN.test(name)) report(at, p, `auth response header ${JSON.stringify(name)} is not a lower-case field name`);
    else if (RESERVED_COPY.has(name)) report(at, p, `auth response header ${name} cannot be copied into the upstream request`);
    if (copied.has(name)) report(at, p, `auth response header ${name} is listed twice`);
    copied.add(name);
  }
  const set = new Set<string>();
  for (const { name, value } of f.requestHeaders) {
    if (!TOKEN.test(name)) report(at, p, `auth request header ${JSON.stringify(name)} is not a lower-case field name`);
    else if (RESERVED_REQUEST.has(name)) report(at, p, `auth request header ${name} cannot be set: the subrequest sets it itself`);
    if (set.has(name)) report(at, p, `auth request header ${name} is set twice`);
    set.add(name);
    if (!FIELD_VALUE.test(value)) report(at, p, `auth request header ${name} has a value with a line break or a control character`);
  }
  if (f.requestRedirect !== null && !FIELD_VALUE.test(f.requestRedirect)) report(at, p, 'auth requestRedirect has a line break or a control character');
  if (f.signin !== null) {
    const { url, redirectParam } = f.signin;
    const unknown = [...url.matchAll(VARIABLE)].map((m) => m[1]!.replace(/[{}]/g, '')).find((name) => !SIGNIN_VARIABLES.has(name));
    if (unknown !== undefined) report(at, p, `signin url ${JSON.stringify(url)} holds the variable $${unknown}; only $${[...SIGNIN_VARIABLES].join(', $')} are expanded`);
    else {
      const problem = urlProblem(url.replace(VARIABLE, 'x'));
      if (problem !== null) report(at, p, `signin url ${JSON.stringify(url)} ${problem}`);
    }
    if (redirectParam === '' || !/^[A-Za-z0-9._~-]+$/.test(redirectParam)) report(at, p, `signin redirectParam ${JSON.stringify(redirectParam)} is not a plain query parameter name`);
  }
  if (typeof f.alwaysSetCookie !== 'boolean') report(at, p, 'auth alwaysSetCookie is not true or false');
  if (!Number.isInteger(f.timeoutMs) || f.timeoutMs < 1 || f.timeoutMs > MAX_TIMEOUT_MS) report(at, p, `auth timeoutMs ${f.timeoutMs} is not a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`);
  if (f.cache !== undefined) checkCache(at, f.cache, p, report);
}

/** The variables an auth cache key may hold, by name or by prefix (auth-cache.ts expands them). */
export const CACHE_KEY_VARIABLES: readonly string[] = ['remote_user', 'remote_addr', 'host', 'uri', 'request_uri'];
/** Prefixes of a cache key's variables: a request field, a cookie, a query parameter. */
export const CACHE_KEY_PREFIXES: readonly string[] = ['http_', 'cookie_', 'arg_'];

/** The first variable of `key` the data plane cannot expand, or null. */
export function unknownCacheKeyVariable(key: string): string | null {
  for (const m of key.matchAll(VARIABLE)) {
    const name = m[1]!.replace(/[{}]/g, '');
    if (CACHE_KEY_VARIABLES.includes(name)) continue;
    if (CACHE_KEY_PREFIXES.some((prefix) => name.startsWith(prefix) && name.length > prefix.length)) continue;
    return name;
  }
  return null;
}

function checkCache(at: string, cache: NonNullable<ExternalAuthFilter['cache']>, p: Provenance, report: Report): void {
  // A key without a variable would give every request the first one's answer.
  if (!/\$\{?[A-Za-z_]/.test(cache.key)) report(at, p, `auth cache key ${JSON.stringify(cache.key)} holds no variable: every request would share one answer`);
  const unknown = unknownCacheKeyVariable(cache.key);
  if (unknown !== null) report(at, p, `auth cache key holds the variable $${unknown}; only $${CACHE_KEY_VARIABLES.join(', $')}, $http_<name>, $cookie_<name> and $arg_<name> are expanded`);
  if (cache.rules.length === 0) report(at, p, 'auth cache has no rule: nothing would be kept');
  for (const rule of cache.rules) {
    if (rule.statuses.length === 0) report(at, p, 'an auth cache rule names no status');
    for (const status of rule.statuses) if (!Number.isInteger(status) || status < 100 || status > 599) report(at, p, `auth cache status ${status} is not an HTTP status from 100 to 599`);
    if (!Number.isSafeInteger(rule.ttlMs) || rule.ttlMs < 1) report(at, p, `auth cache ttlMs ${rule.ttlMs} is not a positive whole number of milliseconds`);
  }
}

/** Why `text` is not an absolute http(s) URL the proxy can send to, or null. */
function urlProblem(text: string): string | null {
  if (/[\s\u0000-\u001f\u007f]/u.test(text)) return 'contains whitespace or a control character';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'is not an http or https URL';
  if (url.hostname === '') return 'names no host';
  if (url.username !== '' || url.password !== '') return 'holds credentials (send them as a request header instead)';
  if (url.hash !== '') return 'has a fragment';
  return null;
}
