/**
 * Matching inside a virtual host whose routes test more than an Exact or Prefix path: regular
 * expressions, methods, headers, query parameters. A request takes the first route, in table
 * order, whose whole match holds. Routes are compiled once per table (patterns on the linear-time
 * engine, paths normalised); a request then costs one pass over the routes, and reads its headers
 * and query only for routes whose path (and method) already hold.
 */
import type { HeaderMatch, PathMatch, QueryMatch, Route } from '../model/table.ts';
import { compilePattern } from '../regex/compile-pattern.ts';
import { headerValue, queryParameters, type MatchRequest } from './match-request.ts';
import { normalizePath } from './normalize-path.ts';
import { withoutTrailingSlashes } from './path-matcher.ts';

const SLASH = 0x2f;
const NEVER = (): boolean => false;

/** A value test: the whole value, or an anchored linear-time pattern. */
type ValueTest = (value: string) => boolean;

interface CompiledRoute {
  readonly route: Route;
  readonly path: (path: string) => boolean;
  readonly method: string | undefined;
  readonly headers: readonly { readonly name: string; readonly test: ValueTest }[];
  readonly query: readonly { readonly name: string; readonly test: ValueTest }[];
}

/** The routes of one virtual host, compiled for first-match-in-order matching with conditions. */
export class ConditionalMatcher {
  readonly #routes: readonly CompiledRoute[];

  /** Compiles `routes` (in table order). A pattern that does not compile makes its route match nothing. */
  constructor(routes: readonly Route[]) {
    this.#routes = routes.map((route) => ({
      route,
      path: pathTest(route.match.path),
      method: route.match.method,
      headers: (route.match.headers ?? []).map((h: HeaderMatch) => ({ name: h.name.toLowerCase(), test: valueTest(h.type, h.value) })),
      query: (route.match.queryParams ?? []).map((q: QueryMatch) => ({ name: q.name, test: valueTest(q.type, q.value) })),
    }));
  }

  /**
   * The first route whose match holds for a normalised `path` and `request`, or null. Without a
   * request, only routes without method, header or query conditions can match.
   */
  match(path: string, request: MatchRequest | undefined): Route | null {
    let query: ReadonlyMap<string, string> | null = null;
    for (const r of this.#routes) {
      if (!r.path(path)) continue;
      if (r.method !== undefined && request?.method !== r.method) continue;
      if (r.headers.length > 0) {
        if (request === undefined) continue;
        if (!r.headers.every((h) => testValue(h.test, headerValue(request.rawHeaders, h.name)))) continue;
      }
      if (r.query.length > 0) {
        if (request === undefined) continue;
        query ??= queryParameters(request.url);
        const params = query;
        if (!r.query.every((q) => testValue(q.test, params.get(q.name) ?? null))) continue;
      }
      return r.route;
    }
    return null;
  }
}

function testValue(test: ValueTest, value: string | null): boolean {
  return value !== null && test(value);
}

function valueTest(type: string, value: string): ValueTest {
  if (type === 'Exact') return (v) => v === value;
  if (type !== 'RegularExpression') return NEVER;
  const compiled = compilePattern(value);
  if (!compiled.ok) return NEVER;
  const regex = compiled.regex;
  return (v) => regex.test(v);
}

/** The path test of a route; Exact and Prefix paths are normalised like request paths. */
function pathTest(match: PathMatch): (path: string) => boolean {
  if (match.type === 'RegularExpression') {
    const compiled = compilePattern(match.value, { ignoreCase: match.ignoreCase === true });
    if (!compiled.ok) return NEVER;
    const regex = compiled.regex;
    return (path) => regex.test(path);
  }
  const value = normalizePath(match.value) ?? match.value;
  if (match.type === 'Exact') return (path) => path === value;
  if (match.type !== 'Prefix') return NEVER;
  const key = withoutTrailingSlashes(value);
  if (key === '/') return () => true;
  return (path) => path.startsWith(key) && (path.length === key.length || path.charCodeAt(key.length) === SLASH);
}
