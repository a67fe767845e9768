/**
 * Routes once they are placed in the table: their backends, mirrors and default backends resolved to cluster names,
 * and the uses of clusters they make, from which clusters.ts builds the clusters.
 */
import type { Filter, Provenance, Route } from '../../model/table.ts';
import type { ClusterOverrides } from '../../model/policy.ts';
import type { CandidateRoute, RankedOwner, ServiceBackendRef, ServiceRef } from './candidates.ts';
import type { ClusterNamer } from './cluster-names.ts';

/** One reference to a cluster: by a route's backend or mirror, or by a RouteScript. */
export interface ClusterUse {
  readonly cluster: string;
  /** The namespace the reference is read in: the cluster's. */
  readonly namespace: string;
  readonly ref: ServiceRef;
  /** The overrides its route gives for the reference, as written (see cluster-overrides.ts). */
  readonly overrides?: ClusterOverrides;
  /** Where the reference is written (a backend's provenance), for problems of its overrides; else `provenance`. */
  readonly refProvenance?: Provenance;
  readonly owner: RankedOwner;
  /** Who uses it (a route's provenance): listed in the cluster's provenance and in diagnostics. */
  readonly provenance: Provenance;
}

/** A route that made it into the table, with the Services it references. */
export interface MergedRoute {
  readonly route: Route;
  readonly owner: RankedOwner;
  /** The Services of its backends, then of its mirrors, in the order written. */
  readonly services: readonly ServiceBackendRef[];
  readonly uses: readonly ClusterUse[];
}

/**
 * A route with one Service reference: what a RouteScript's targetRefs are matched against, and
 * the pseudo-route through which a script's own backends get their clusters.
 */
export interface PlacedRoute {
  readonly route: Route;
  readonly ref: ServiceRef;
  readonly owner: RankedOwner;
}

/** The cluster use of a {@link PlacedRoute}: its first backend, read in the owner's namespace (none without one). */
export function clusterUsesOf(placed: PlacedRoute): ClusterUse[] {
  const cluster = placed.route.backends[0]?.cluster ?? null;
  return cluster === null ? [] : [{ cluster, namespace: placed.owner.id.namespace, ref: placed.ref, owner: placed.owner, provenance: placed.route.provenance }];
}

/**
 * Resolves a candidate route's Service references to cluster names (see `clusterNamer`). The
 * table route keeps the candidate's order of backends and filters and its keys' order, so that
 * its JSON does not depend on the front end that wrote it.
 */
export function resolveRoute(candidate: CandidateRoute, owner: RankedOwner, clusterOf: ClusterNamer): MergedRoute {
  const services: ServiceBackendRef[] = [];
  const uses: ClusterUse[] = [];
  const use = (service: ServiceBackendRef, at: Provenance): string => {
    const cluster = clusterOf(service.namespace, service, service.overrides);
    services.push(service);
    const overrides = service.overrides === undefined ? {} : { overrides: service.overrides, refProvenance: at };
    uses.push({ cluster, namespace: service.namespace, ref: { service: service.service, port: service.port }, ...overrides, owner, provenance: candidate.provenance });
    return cluster;
  };
  const grantOf = (service: ServiceBackendRef | null): { referenceGrant?: Provenance } => (service?.referenceGrant === undefined ? {} : { referenceGrant: service.referenceGrant });
  const backends = candidate.backends.map((b) => ({ cluster: b.service === null ? null : use(b.service, b.provenance), weight: b.weight, provenance: b.provenance, ...grantOf(b.service), ...(b.filters === undefined ? {} : { filters: b.filters }) }));
  const filters = candidate.filters.map((f, i): Filter => {
    if (f.type === 'RequestMirror') return { type: 'RequestMirror', cluster: use(f.service, `${candidate.provenance}/filters/${i}`), percent: f.percent, ...grantOf(f.service) };
    if (f.type === 'DefaultBackend') return { type: 'DefaultBackend', cluster: use(f.service, `${candidate.provenance}/filters/${i}`), codes: f.codes, whenNoEndpoints: f.whenNoEndpoints, ...(f.global === true ? { global: true as const } : {}), ...(f.ownErrorsOnly === true ? { ownErrorsOnly: true as const } : {}), headers: f.headers };
    return f;
  });
  const route: Route = {
    match: candidate.match,
    backends,
    filters,
    ...(candidate.timeouts === undefined ? {} : { timeouts: candidate.timeouts }),
    ...(candidate.accessLog === false ? { accessLog: false as const } : {}),
    ...(candidate.originalUriHeader === true ? { originalUriHeader: true as const } : {}),
    ...(candidate.accessLogSkip === undefined ? {} : { accessLogSkip: candidate.accessLogSkip }),
    ...(candidate.stickyBackends === true ? { stickyBackends: true as const } : {}),
    ...(candidate.satisfy === 'any' ? { satisfy: 'any' as const } : {}),
    provenance: candidate.provenance,
  };
  return { route, owner, services, uses };
}
