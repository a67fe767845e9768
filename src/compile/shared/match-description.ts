/**
 * How messages name a route by its match: `Prefix path "/foo"`, with the method, headers and query
 * parameters it also tests.
 */
import type { RouteMatch } from '../../model/table.ts';

/** A route's match in words, and what to call the route ("path" when it tests the path alone). */
export interface MatchDescription {
  readonly text: string;
  readonly noun: 'path' | 'route';
}

/** Describes `match` for a diagnostic. */
export function describeMatch(match: RouteMatch): MatchDescription {
  const path = `${match.path.type} path ${JSON.stringify(match.path.value)}`;
  const more = [
    ...(match.method === undefined ? [] : [`method ${match.method}`]),
    ...(match.headers ?? []).map((h) => `header ${h.name} ${h.type === 'Exact' ? '=' : '~'} ${JSON.stringify(h.value)}`),
    ...(match.queryParams ?? []).map((q) => `query ${q.name} ${q.type === 'Exact' ? '=' : '~'} ${JSON.stringify(q.value)}`),
  ];
  return more.length === 0 ? { text: path, noun: 'path' } : { text: `${path} with ${more.join(', ')}`, noun: 'route' };
}
