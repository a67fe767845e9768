/**
 * HTTPRoute matches (apis/v1/httproute_types.go, `HTTPRouteMatch`) as route matches of the table:
 * path (Exact, PathPrefix — the default, `/` — or RegularExpression), headers and query parameters
 * (Exact, the default, or RegularExpression; of several with one name only the first counts, as
 * the specification says) and method.
 */
import type { HeaderMatch, QueryMatch, RouteMatch } from '../../model/table.ts';
import { field } from '../shared/guards.ts';
import type { RouteProblem } from './route-problems.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** The matches of a rule (one Prefix `/` when it has none), or the first problem found. */
export function readMatches(matches: unknown, at: string): RouteMatch[] | RouteProblem {
  const list = Array.isArray(matches) && matches.length > 0 ? (matches as unknown[]) : [{}];
  const out: RouteMatch[] = [];
  for (const [i, m] of list.entries()) {
    const read = readMatch(m, `${at}/match/${i}`);
    if ('reason' in read) return read;
    out.push(read);
  }
  return out;
}

function readMatch(m: unknown, at: string): RouteMatch | RouteProblem {
  const problem = (message: string): RouteProblem => ({ reason: 'UnsupportedValue', message, path: at });
  const path = field(m, 'path');
  const type = field(path, 'type') ?? 'PathPrefix';
  const value = field(path, 'value') ?? '/';
  if (typeof value !== 'string') return problem('path.value must be a string');
  let pathMatch: RouteMatch['path'];
  if (type === 'Exact' || type === 'PathPrefix') {
    if (!value.startsWith('/') || value.includes('//') || /[?#]/.test(value)) return problem(`path ${JSON.stringify(value)} must be an absolute path without "//", "?" or "#"`);
    pathMatch = { type: type === 'Exact' ? 'Exact' : 'Prefix', value };
  } else if (type === 'RegularExpression') pathMatch = { type: 'RegularExpression', value };
  else return problem(`path.type ${JSON.stringify(type)} is not Exact, PathPrefix or RegularExpression`);

  const headers = valueMatches(field(m, 'headers'), (name) => name.toLowerCase());
  if ('message' in headers) return problem(`headers: ${headers.message}`);
  const query = valueMatches(field(m, 'queryParams'), (name) => name);
  if ('message' in query) return problem(`queryParams: ${query.message}`);
  const method = field(m, 'method');
  if (method !== undefined && (typeof method !== 'string' || !METHODS.has(method))) return problem(`method ${JSON.stringify(method)} is not an HTTP method`);
  return {
    path: pathMatch,
    ...(method === undefined ? {} : { method }),
    ...(headers.list.length === 0 ? {} : { headers: headers.list as HeaderMatch[] }),
    ...(query.list.length === 0 ? {} : { queryParams: query.list as QueryMatch[] }),
  };
}

function valueMatches(value: unknown, key: (name: string) => string): { list: (HeaderMatch | QueryMatch)[] } | { message: string } {
  if (value === undefined || value === null) return { list: [] };
  if (!Array.isArray(value)) return { message: 'must be a list' };
  const seen = new Set<string>();
  const list: (HeaderMatch | QueryMatch)[] = [];
  for (const [i, entry] of (value as unknown[]).entries()) {
    const name = field(entry, 'name');
    const type = field(entry, 'type') ?? 'Exact';
    const text = field(entry, 'value');
    if (typeof name !== 'string' || name === '' || typeof text !== 'string') return { message: `entry ${i} needs a name and a value` };
    if (type !== 'Exact' && type !== 'RegularExpression') return { message: `entry ${i} has type ${JSON.stringify(type)}, not Exact or RegularExpression` };
    const k = key(name);
    if (seen.has(k)) continue;
    seen.add(k);
    list.push({ name: k, type, value: text });
  }
  // All of them must hold, in any order: sorted, so that one condition written twice in two orders is one match.
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { list };
}
