import type { ClientRequest, ListenerInfo } from './proxy-state.ts';
import { normalizePath, type PathOptions } from '../../router/normalize-path.ts';
import type { PreparedTable } from './prepared-table.ts';
import type { RoutePlan } from './route-plan.ts';
import { requestHost } from './request-host.ts';
import { parseRequestTarget, type RequestTarget } from './request-target.ts';

/** A request matched to a route of the table. */
export interface RoutedRequest {
  readonly target: RequestTarget;
  /** The normalised path the route was matched on (and the upstream receives). */
  readonly path: string;
  /**
   * The request's one host, as matched: the upstream's `Host` and `X-Forwarded-Host`, and the
   * RouteScript's `host`, all come from it ('' for an HTTP/1.0 request without one).
   */
  readonly host: string;
  /** The route's phases, backends and metric handles. */
  readonly plan: RoutePlan;
}

/**
 * The first phases of every request, plain or upgrade: parse the target, normalise the path,
 * take the host (request-host.ts), refuse it when another listener of the TLS socket takes it than
 * the one the connection's SNI name chose (421), and match a route among those of the listener it
 * came in on.
 * The request itself is handed to the router, which reads its method, headers and query only for
 * routes that test them. Returns why it cannot be routed instead when it cannot.
 */
export function routeRequest(table: PreparedTable, req: ClientRequest, paths: PathOptions, listener: ListenerInfo): RoutedRequest | 'bad-request' | 'no-route' | 'misdirected-request' {
  const target = parseRequestTarget(req.url ?? '');
  const path = target === null ? null : normalizePath(target.path, paths);
  if (target === null || path === null) return 'bad-request';
  const host = requestHost(req, target.authority);
  if (host === null) return 'bad-request';
  // Another listener's host on this connection: before routing, so that a host no route serves
  // is a 421 too when it is another listener's (listener-hostnames.ts).
  const hostnames = table.hostnamesFor(listener);
  if (hostnames !== null) {
    const serverName = (req.socket as { servername?: string | false | null } | null)?.servername;
    if (typeof serverName === 'string' && serverName !== '' && hostnames.misdirected(serverName, host)) return 'misdirected-request';
  }
  const route = table.routerFor(listener).match(host, path, req);
  if (route === null) return 'no-route';
  return { target, path, host, plan: table.routes.get(route)! };
}
