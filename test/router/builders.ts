/**
 * Tiny builders for routing tables in router tests: `table(vhost('a.example.com', exactRoute('/x')))`.
 * Each route's cluster names the route (`Exact /x`), so a test can assert which route matched.
 */
import type { Route, RoutingTable, VirtualHost } from '../../src/model/table.ts';

/** An Exact route whose cluster is `Exact <path>`. */
export function exactRoute(path: string, cluster = `Exact ${path}`): Route {
  return { pathType: 'Exact', path, cluster, provenance: `test/${cluster}` };
}

/** A Prefix route whose cluster is `Prefix <path>`. */
export function prefixRoute(path: string, cluster = `Prefix ${path}`): Route {
  return { pathType: 'Prefix', path, cluster, provenance: `test/${cluster}` };
}

/** A virtual host; `*` is the catch-all, `*.x` a wildcard, anything else exact. */
export function vhost(host: string, ...routes: Route[]): VirtualHost {
  const match = host === '*' ? 'any' : host.startsWith('*.') ? 'wildcard' : 'exact';
  return { host, match, routes, provenance: [] };
}

/** A table of virtual hosts, optionally with a default route. */
export function table(virtualHosts: VirtualHost[], defaultRoute: Route | null = null): RoutingTable {
  return { virtualHosts, defaultRoute, clusters: {}, certificates: [], scripts: {} };
}
