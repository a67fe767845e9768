/**
 * Tiny builders for routing tables in router tests: `table(vhost('a.example.com', exactRoute('/x')))`.
 * Each route's cluster names the route (`Exact /x`), so a test can assert which route matched.
 */
import { INGRESS_LISTENER_LIST } from '../../src/compile/ingress/listeners.ts';
import type { PathMatchType, Route, RoutingTable, VirtualHost } from '../../src/model/table.ts';

/** An Exact route whose cluster is `Exact <path>`. */
export function exactRoute(path: string, cluster = `Exact ${path}`): Route {
  return route('Exact', path, cluster);
}

/** A Prefix route whose cluster is `Prefix <path>`. */
export function prefixRoute(path: string, cluster = `Prefix ${path}`): Route {
  return route('Prefix', path, cluster);
}

/** A route on one cluster, without conditions or filters. */
export function route(type: PathMatchType, path: string, cluster: string): Route {
  return { match: { path: { type, value: path } }, backends: [{ cluster, weight: 1, provenance: `test/${cluster}` }], filters: [], provenance: `test/${cluster}` };
}

/** The cluster of a route made by these builders (the one a test names it by), or null. */
export function nameOf(route: Route | null): string | null {
  return route?.backends[0]?.cluster ?? null;
}

/** A virtual host; `*` is the catch-all, `*.x` a wildcard, anything else exact. */
export function vhost(host: string, ...routes: Route[]): VirtualHost {
  const match = host === '*' ? 'any' : host.startsWith('*.') ? 'wildcard' : 'exact';
  return { host, match, routes, listeners: ['http', 'https'], provenance: [] };
}

/** A table of virtual hosts, optionally with a default route. */
export function table(virtualHosts: VirtualHost[], defaultRoute: Route | null = null): RoutingTable {
  return { listeners: INGRESS_LISTENER_LIST, virtualHosts, defaultRoute, clusters: {}, certificates: [], scripts: {}, streamRoutes: [] };
}
