/**
 * The invariants of routes, for {@link checkTable}: matches the router can run, backends and
 * filters that reference what the table holds, values in range, and no route that an earlier one
 * of its virtual host makes unreachable (a request takes the first route whose match holds, so a
 * route behind one that takes every request it would take is dead — a front end sorted wrongly).
 */
import { compilePattern } from '../regex/compile-pattern.ts';
import { checkBasicAuth } from './check-basic-auth.ts';
import { checkExternalAuth } from './check-external-auth.ts';
import { checkCors } from './check-cors.ts';
import { checkDefaultBackend } from './check-default-backend.ts';
import { checkResponseRewrite } from './check-response-rewrite.ts';
import { checkCompress } from './check-compress.ts';
import { normalizeCidr } from './cidr.ts';
import { checkRateLimit } from './check-rate-limit.ts';
import { checkUrlMirror } from './check-url-mirror.ts';
import type { Filter, HeaderEdits, PathModifier, Provenance, Route, RouteMatch, ValueMatch } from './table.ts';

/** How a route check reports: where, about which node, what. */
export type RouteReport = (at: string, provenance: Provenance, message: string) => void;

/** How a route check resolves a reference to a cluster or a script (and records the cluster as used). */
export interface RouteRefs {
  /** `anyNamespace`: a cluster the operator named (a flag), which any namespace may use. */
  readonly cluster: (at: string, provenance: Provenance, name: string, what: string, referenceGrant?: Provenance, anyNamespace?: boolean) => void;
  readonly script: (at: string, provenance: Provenance, name: string) => void;
}

// What a request path can never contain once the proxy has read and normalised it.
const UNMATCHABLE = /[\s?#\u0000-\u001f\u007f]/u;
// RFC 9110 §5.6.2: a token (header names lower case, as the table keeps them).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Z]+$/;
const REDIRECT_CODES: readonly number[] = [301, 302, 303, 307, 308];
const MAX_WEIGHT = 1_000_000;

/** Checks one route on its own (its position among the others is {@link checkRouteOrder}'s). */
export function checkRoute(at: string, route: Route, refs: RouteRefs, report: RouteReport): void {
  const p = route.provenance;
  checkMatch(at, route.match, p, report);
  route.backends.forEach((b, i) => {
    const bAt = `${at}.backends[${i}]`;
    if (b.cluster !== null) refs.cluster(bAt, p, b.cluster, 'backend cluster', b.referenceGrant);
    if (!inRange(b.weight, 0, MAX_WEIGHT)) report(bAt, p, `weight ${b.weight} is not an integer from 0 to ${MAX_WEIGHT}`);
    if (b.provenance === '') report(bAt, p, 'a backend has no provenance');
    b.filters?.forEach((f, j) => {
      if (f.type !== 'RequestHeaderModifier') report(`${bAt}.filters[${j}]`, p, `a backend's filter is ${JSON.stringify(f.type)}, not RequestHeaderModifier`);
      else checkEdits(`${bAt}.filters[${j}]`, f, p, report);
    });
  });
  route.filters.forEach((f, i) => checkFilter(`${at}.filters[${i}]`, f, route, refs, report));
  const scripts = route.filters.flatMap((f) => (f.type === 'RouteScript' ? [f.script] : []));
  if (new Set(scripts).size !== scripts.length) report(at, p, 'a RouteScript runs twice on this route');
  // A request carries one CORS decision (the origin it was allowed with): two filters would share it.
  if (route.filters.filter((f) => f.type === 'CORS').length > 1) report(at, p, 'a route has more than one CORS filter');
  if (route.satisfy !== undefined) checkSatisfyAny(at, route, report);
  if (route.stickyBackends !== undefined && route.stickyBackends !== true) report(at, p, 'stickyBackends is neither true nor absent');
  if (route.accessLog !== undefined && route.accessLog !== false) report(at, p, 'accessLog is neither false nor absent');
  if (route.originalUriHeader !== undefined && route.originalUriHeader !== true) report(at, p, 'originalUriHeader is neither true nor absent');
  if (route.accessLogSkip !== undefined) {
    if (route.accessLogSkip.length === 0) report(at, p, 'an empty accessLogSkip (absent when nothing is skipped)');
    if (route.accessLog === false) report(at, p, 'accessLogSkip on a route with accessLog: false');
    checkValueMatches(`${at}.accessLogSkip`, route.accessLogSkip, 'access log skip', p, report);
  }
  const t = route.timeouts;
  if (t !== undefined) {
    for (const [name, value] of Object.entries(t)) if (value !== undefined && !inRange(value, 1, Number.MAX_SAFE_INTEGER)) report(`${at}.timeouts`, p, `${name} ${value} is not a positive whole number of milliseconds`);
    if (t.requestMs !== undefined && t.backendRequestMs !== undefined && t.backendRequestMs > t.requestMs) report(`${at}.timeouts`, p, 'backendRequestMs is longer than requestMs');
  }
}

const ACCESS_CHECKS: ReadonlySet<string> = new Set(['ClientAddress', 'BasicAuth', 'ExternalAuth']);

/**
 * `satisfy: any` groups a route's access checks — ClientAddress filters, at most one BasicAuth and
 * at most one ExternalAuth, in that order, next to each other — and needs two kinds of them.
 */
function checkSatisfyAny(at: string, route: Route, report: RouteReport): void {
  const p = route.provenance;
  if (route.satisfy !== 'any') return report(at, p, `satisfy ${JSON.stringify(route.satisfy)} is not any`);
  const types = route.filters.map((f) => f.type).filter((t) => ACCESS_CHECKS.has(t));
  const at0 = route.filters.findIndex((f) => ACCESS_CHECKS.has(f.type));
  if (new Set(types).size < 2) report(at, p, 'satisfy any needs two kinds of access check (ClientAddress, BasicAuth, ExternalAuth)');
  if (types.filter((t) => t === 'BasicAuth').length > 1 || types.filter((t) => t === 'ExternalAuth').length > 1) report(at, p, 'satisfy any takes one BasicAuth and one ExternalAuth at most');
  const order = ['ClientAddress', 'BasicAuth', 'ExternalAuth'];
  const inOrder = types.every((t, i) => i === 0 || order.indexOf(types[i - 1]!) <= order.indexOf(t));
  const adjacent = route.filters.slice(at0, at0 + types.length).every((f) => ACCESS_CHECKS.has(f.type));
  if (!inOrder || !adjacent) report(at, p, 'satisfy any needs its ClientAddress, BasicAuth and ExternalAuth filters next to each other, in that order');
}

/** Reports every route of `routes` that an earlier one makes unreachable. */
export function checkRouteOrder(at: string, routes: readonly Route[], report: RouteReport): void {
  routes.forEach((route, j) => {
    const by = routes.slice(0, j).find((earlier) => shadows(earlier.match, route.match));
    if (by !== undefined) report(`${at}[${j}]`, route.provenance, `${describeMatch(route.match)} is never reached: the earlier route ${describeMatch(by.match)} (${by.provenance}) takes every request it would`);
  });
}

/** `Prefix /api`, `Exact /` with ` + GET + 2 headers` when it has conditions. */
export function describeMatch(m: RouteMatch): string {
  const parts = [`${m.path.type} ${m.path.value}`];
  if (m.method !== undefined) parts.push(m.method);
  if (m.headers !== undefined) parts.push(`${m.headers.length} header${m.headers.length === 1 ? '' : 's'}`);
  if (m.queryParams !== undefined) parts.push(`${m.queryParams.length} query parameter${m.queryParams.length === 1 ? '' : 's'}`);
  return parts.join(' + ');
}

function checkMatch(at: string, m: RouteMatch, p: Provenance, report: RouteReport): void {
  const { type, value } = m.path;
  if (type === 'Exact' || type === 'Prefix') {
    const problem = pathProblem(value);
    if (problem !== null) report(at, p, `path ${JSON.stringify(value)} ${problem}: no request could match it`);
    if (m.path.ignoreCase !== undefined) report(at, p, 'ignoreCase is for RegularExpression paths only');
  } else if (type === 'RegularExpression') {
    if (value === '') report(at, p, 'an empty path pattern');
    else patternProblem(at, p, 'path', value, m.path.ignoreCase === true, report);
  } else report(at, p, `path type ${JSON.stringify(type)} is not Exact, Prefix or RegularExpression`);
  if (m.method !== undefined && !METHOD.test(m.method)) report(at, p, `method ${JSON.stringify(m.method)} is not an upper-case token`);
  for (const [list, what] of [[m.headers, 'header'], [m.queryParams, 'query parameter']] as const) {
    if (list === undefined) continue;
    if (list.length === 0) report(at, p, `an empty list of ${what} matches (absent when there are none)`);
    const names = new Set<string>();
    for (const h of list) {
      if (what === 'header' ? !TOKEN.test(h.name) : h.name === '') report(at, p, `${what} name ${JSON.stringify(h.name)} is not ${what === 'header' ? 'a lower-case token' : 'a name'}`);
      if (names.has(h.name)) report(at, p, `${what} ${h.name} is matched twice`);
      names.add(h.name);
      if (h.type !== 'Exact' && h.type !== 'RegularExpression') report(at, p, `${what} match type ${JSON.stringify(h.type)} is not Exact or RegularExpression`);
      else if (h.type === 'RegularExpression') patternProblem(at, p, `${what} ${h.name}`, h.value, false, report);
    }
  }
}

function checkFilter(at: string, f: Filter, route: Route, refs: RouteRefs, report: RouteReport): void {
  const p = route.provenance;
  switch (f.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier':
      return checkEdits(at, f, p, report);
    case 'ResponseRewrite':
      return checkResponseRewrite(at, f, p, report);
    case 'RequestRedirect':
      if (!REDIRECT_CODES.includes(f.statusCode)) report(at, p, `redirect status ${f.statusCode} is not one of ${REDIRECT_CODES.join(', ')}`);
      if (f.port !== undefined && !inRange(f.port, 1, 65535)) report(at, p, `redirect port ${f.port} is not a port number`);
      if (f.scheme !== undefined && f.scheme !== 'http' && f.scheme !== 'https') report(at, p, `redirect scheme ${JSON.stringify(f.scheme)} is not http or https`);
      if (f.portFrom !== undefined && f.portFrom !== 'none' && f.portFrom !== 'listener') report(at, p, `redirect portFrom ${JSON.stringify(f.portFrom)} is not none or listener`);
      if (f.portFrom !== undefined && f.port !== undefined) report(at, p, 'a redirect has both port and portFrom');
      if (f.relative !== undefined && (f.relative !== true || f.scheme !== undefined || f.hostname !== undefined || f.port !== undefined || f.portFrom !== undefined)) report(at, p, 'a relative redirect names a scheme, host or port');
      if (f.path !== undefined) checkModifier(at, f.path, route, report);
      if (f.query !== undefined && f.query !== '' && !/^\?[\x21-\x7e]*$/.test(f.query.replace(/#/g, ' '))) report(at, p, `redirect query ${JSON.stringify(f.query)} is not empty or ? and a query without spaces, # or control characters`);
      return;
    case 'URLRewrite':
      if (f.path !== undefined) checkModifier(at, f.path, route, report);
      return;
    case 'RequestMirror':
      refs.cluster(at, p, f.cluster, 'mirror cluster', f.referenceGrant);
      if (!inRange(f.percent, 1, 100)) report(at, p, `mirror percent ${f.percent} is not an integer from 1 to 100`);
      return;
    case 'UrlMirror':
      return checkUrlMirror(at, f, p, report);
    case 'ResponseRate':
      if (!inRange(f.bytesPerSecond, 1, 2 ** 40)) report(at, p, `response rate bytesPerSecond ${f.bytesPerSecond} is not a whole number from 1 to 2^40 (a route without a limit has no ResponseRate filter)`);
      if (!inRange(f.afterBytes, 0, 2 ** 50)) report(at, p, `response rate afterBytes ${f.afterBytes} is not a whole number from 0 to 2^50`);
      return;
    case 'Compress':
      return checkCompress(at, f, p, report);
    case 'RouteScript':
      return refs.script(at, p, f.script);
    case 'RequestId':
      if (!TOKEN.test(f.header)) report(at, p, `request id header ${JSON.stringify(f.header)} is not a lower-case token`);
      return;
    case 'ExternalAuth':
      return checkExternalAuth(at, f, p, report);
    case 'CORS':
      return checkCors(at, f, p, report);
    case 'BasicAuth':
      return checkBasicAuth(at, f, p, report);
    case 'ClientAddress':
      if (f.allow === undefined && f.deny === undefined) report(at, p, 'a ClientAddress filter with neither allow nor deny');
      for (const list of ['allow', 'deny'] as const) checkBlocks(`${at}.${list}`, f[list], p, report);
      return;
    case 'HeaderDeny':
      if (!TOKEN.test(f.header)) report(at, p, `header name ${JSON.stringify(f.header)} is not a lower-case token`);
      if (f.matches.length === 0) report(at, p, 'a HeaderDeny filter that matches nothing');
      checkValueMatches(`${at}.matches`, f.matches, f.header, p, report);
      return;
    case 'BodyLimit':
      if (!inRange(f.maxBytes, 1, Number.MAX_SAFE_INTEGER)) report(at, p, `body limit maxBytes ${f.maxBytes} is not a positive whole number of bytes (a route without a limit has no BodyLimit filter)`);
      return;
    case 'RateLimit':
      return checkRateLimit(at, f, p, report);
    case 'DefaultBackend':
      refs.cluster(at, p, f.cluster, 'default backend cluster', undefined, f.global === true);
      return checkDefaultBackend(at, f, p, report);
    default:
      report(at, p, `filter type ${JSON.stringify((f as { type: unknown }).type)} is unknown`);
  }
}

/** The value matches of a HeaderDeny filter or a route's accessLogSkip: one of exact or pattern each, patterns the engine runs. */
function checkValueMatches(at: string, matches: readonly ValueMatch[], what: string, p: Provenance, report: RouteReport): void {
  matches.forEach((m, i) => {
    if ('exact' in m) {
      if (typeof m.exact !== 'string' || 'pattern' in m) report(`${at}[${i}]`, p, 'a match is exact or pattern, not both');
    } else if (typeof m.pattern !== 'string' || m.pattern === '') report(`${at}[${i}]`, p, 'a match without exact or pattern');
    else {
      if (m.ignoreCase !== undefined && m.ignoreCase !== true) report(`${at}[${i}]`, p, 'ignoreCase is neither true nor absent');
      patternProblem(`${at}[${i}]`, p, what, m.pattern, m.ignoreCase === true, report);
    }
  });
}

/** Each block of a ClientAddress list must be a CIDR block in the canonical form the data plane reads (src/model/cidr.ts). */
function checkBlocks(at: string, blocks: readonly string[] | undefined, p: Provenance, report: RouteReport): void {
  blocks?.forEach((block, i) => {
    const canonical = typeof block === 'string' ? normalizeCidr(block) : null;
    if (canonical === null) report(`${at}[${i}]`, p, `${JSON.stringify(block)} is not an IPv4 or IPv6 address or CIDR block`);
    else if (canonical !== block) report(`${at}[${i}]`, p, `${JSON.stringify(block)} is not in canonical form: write ${canonical}`);
  });
}

function checkEdits(at: string, e: HeaderEdits, p: Provenance, report: RouteReport): void {
  const names = new Set<string>();
  for (const { name } of [...(e.set ?? []), ...(e.add ?? [])]) {
    if (!TOKEN.test(name)) report(at, p, `header name ${JSON.stringify(name)} is not a lower-case token`);
    if (names.has(name)) report(at, p, `header ${name} is set or added twice`);
    names.add(name);
  }
  for (const name of e.remove ?? []) if (!TOKEN.test(name)) report(at, p, `header name ${JSON.stringify(name)} is not a lower-case token`);
}

function checkModifier(at: string, m: PathModifier, route: Route, report: RouteReport): void {
  const p = route.provenance;
  if (m.type === 'ReplacePrefixMatch' && route.match.path.type !== 'Prefix') report(at, p, 'ReplacePrefixMatch on a route whose path match is not Prefix');
  if ((m.type === 'ReplaceFullPath' || m.type === 'ReplacePrefixMatch') && !m.value.startsWith('/')) report(at, p, `path ${JSON.stringify(m.value)} does not start with /`);
  if (m.type === 'ReplaceRegexMatch') {
    if (m.pattern === '') report(at, p, 'an empty rewrite pattern');
    else patternProblem(at, p, 'rewrite', m.pattern, false, report);
  }
}

/** Reports a pattern the router's linear-time engine refuses (src/regex), saying why. */
function patternProblem(at: string, p: Provenance, what: string, pattern: string, ignoreCase: boolean, report: RouteReport): void {
  const compiled = compilePattern(pattern, { ignoreCase });
  if (!compiled.ok) report(at, p, `${what} pattern ${JSON.stringify(pattern)} cannot be used: ${compiled.message}`);
}

/** Whether every request that `later` matches is matched by `earlier` too. */
function shadows(earlier: RouteMatch, later: RouteMatch): boolean {
  if (earlier.method !== undefined && earlier.method !== later.method) return false;
  if (!conditionsWithin(earlier.headers, later.headers) || !conditionsWithin(earlier.queryParams, later.queryParams)) return false;
  const a = earlier.path;
  const b = later.path;
  if (a.type === 'Prefix') {
    const key = prefixKey(a.value);
    if (key === '/') return true;
    if (b.type === 'RegularExpression') return false;
    const value = b.type === 'Prefix' ? prefixKey(b.value) : b.value;
    return value === key || value.startsWith(`${key}/`);
  }
  return a.type === b.type && a.value === b.value && a.ignoreCase === b.ignoreCase;
}

/** Whether each condition of `a` is also one of `b`'s (so `b` asks at least as much). */
function conditionsWithin(a: readonly { name: string; type: string; value: string }[] | undefined, b: typeof a): boolean {
  if (a === undefined) return true;
  return a.every((x) => b?.some((y) => y.name === x.name && y.type === x.type && y.value === x.value) === true);
}

/** What a Prefix path matches: the path without trailing slashes (`/` stays). */
function prefixKey(path: string): string {
  return path.replace(/(?<=.)\/+$/, '');
}

/** Why no normalised request path can ever equal (or start with) `path`, or null. */
function pathProblem(path: string): string | null {
  if (!path.startsWith('/')) return 'does not start with /';
  if (UNMATCHABLE.test(path)) return 'contains whitespace, ?, # or a control character';
  if (path.includes('//')) return 'contains //';
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return 'contains a . or .. segment';
  return null;
}

function inRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}
