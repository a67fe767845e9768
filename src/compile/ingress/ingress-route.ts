/**
 * The table route of an Ingress path (or default backend): a path match, one backend of weight 1,
 * no filters yet (the RouteScripts that target it add theirs) and no route timeouts.
 */
import type { PathMatchType, Route } from '../../model/table.ts';

/** An Ingress route on `cluster`; its backend's provenance is the route's own plus `/backend`. */
export function ingressRoute(type: PathMatchType, path: string, cluster: string, provenance: string): Route {
  return {
    match: { path: { type, value: path } },
    backends: [{ cluster, weight: 1, provenance: `${provenance}/backend` }],
    filters: [],
    provenance,
  };
}

/** The one cluster of an Ingress route (see {@link ingressRoute}). */
export function ingressCluster(route: Route): string {
  return route.backends[0]!.cluster!;
}
