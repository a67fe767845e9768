import type { ClientRequest } from './proxy.ts';
import { hostOf } from './accounting.ts';
import { normalizePath } from '../router/normalize-path.ts';
import type { PreparedTable, RouteContext } from './prepared-table.ts';
import { parseRequestTarget, type RequestTarget } from './request-target.ts';

/** A request matched to a route of the table. */
export interface RoutedRequest {
  readonly target: RequestTarget;
  /** The normalised path the route was matched on (and the upstream receives). */
  readonly path: string;
  readonly ctx: RouteContext;
}

/**
 * The first phases of every request, plain or upgrade: parse the target, normalise the path,
 * take the host (the absolute-form authority, else Host or :authority — required in HTTP/1.1) and
 * match a route. Returns why it cannot be routed instead when it cannot.
 */
export function routeRequest(table: PreparedTable, req: ClientRequest): RoutedRequest | 'bad-request' | 'no-route' {
  const target = parseRequestTarget(req.url ?? '');
  const path = target === null ? null : normalizePath(target.path);
  if (target === null || path === null) return 'bad-request';
  const host = target.authority ?? hostOf(req);
  if (host === '' && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) return 'bad-request';
  const route = table.router.match(host, path);
  if (route === null) return 'no-route';
  return { target, path, ctx: table.routes.get(route)! };
}
