/**
 * The route of an Ingress path (or default backend): a path match, one backend of weight 1, no
 * filters yet (the RouteScripts that target it add theirs) and no route timeouts.
 */
import type { PathMatchType, Route } from '../../model/table.ts';
import type { CandidateRoute, ServiceBackendRef } from '../shared/candidates.ts';

/** The candidate route of an Ingress path on `service`; its backend's provenance is the route's own plus `/backend`. */
export function ingressCandidateRoute(type: PathMatchType, path: string, service: ServiceBackendRef, provenance: string): CandidateRoute {
  return {
    match: { path: { type, value: path } },
    backends: [{ service, weight: 1, provenance: `${provenance}/backend` }],
    filters: [],
    provenance,
  };
}

/** The same route resolved, on `cluster` (RouteScripts name their own backends' clusters with it). */
export function ingressRoute(type: PathMatchType, path: string, cluster: string, provenance: string): Route {
  return {
    match: { path: { type, value: path } },
    backends: [{ cluster, weight: 1, provenance: `${provenance}/backend` }],
    filters: [],
    provenance,
  };
}
