/**
 * The back half of the compiler, shared by every front end: it resolves the Service references of
 * a front end's route candidates and merges them into the table. It runs in two steps so that
 * RouteScripts can attach to the placed routes in between (see compile.ts):
 *
 *   placeRoutes: Services (with their policy annotations) → virtual hosts and conflicts, the
 *     winners' backends named by the cluster they resolve to → the default route;
 *   buildResources: clusters of every use (routes, mirrors, the extra uses of RouteScripts) with
 *     their EndpointSlices → certificates from Secrets.
 */
import type { Certificate, Cluster } from '../../model/table.ts';
import type { FrontEndOutput } from './candidates.ts';
import { buildClusters, clusterNamer } from './clusters.ts';
import type { ClusterNamer } from './cluster-names.ts';
import { pickDefaultRoute } from './default-backend.ts';
import { DiagnosticSink } from './diagnostics.ts';
import { indexSlices } from './endpoint-slices.ts';
import { field } from './guards.ts';
import { indexObjects } from './objects.ts';
import type { ClusterUse, MergedRoute } from './placed-route.ts';
import { routePatternProblem } from './route-patterns.ts';
import { ServiceResolver } from './services.ts';
import { buildCertificates } from './tls.ts';
import { buildVirtualHosts, type VirtualHostsResult } from './virtual-hosts.ts';

/** The routes of the table, placed: what RouteScripts attach to. */
export interface Placement {
  readonly hosts: VirtualHostsResult;
  readonly defaultRoute: MergedRoute | null;
  /** Names the cluster of a Service reference, as the placed routes were named. */
  readonly clusterOf: ClusterNamer;
  readonly resolver: ServiceResolver;
}

/** Reads the Services of `input` (a snapshot, any shape) and places the front end's routes. */
export function placeRoutes(frontEnd: FrontEndOutput, input: unknown, sink: DiagnosticSink): Placement {
  // Secrets and ConfigMaps are indexed again (and reported) where they are read for their own sake.
  const ca = {
    secrets: indexObjects(field(input, 'secrets'), 'Secret', true, new DiagnosticSink()),
    configMaps: indexObjects(field(input, 'configMaps'), 'ConfigMap', true, new DiagnosticSink()),
  };
  const resolver = new ServiceResolver(indexObjects(field(input, 'services'), 'Service', true, sink), sink, ca);
  const clusterOf = clusterNamer(resolver);
  // A route whose regular expression the data plane's engine refuses is dropped, with a diagnostic.
  const routes = frontEnd.routes.filter((candidate) => {
    const problem = routePatternProblem(candidate.route);
    if (problem !== null) sink.report(candidate.owner.id, 'RoutePatternInvalid', 'error', `${problem}; this route is ignored`, candidate.route.provenance);
    return problem === null;
  });
  const hosts = buildVirtualHosts(routes, frontEnd.precedence, clusterOf, sink);
  const defaultRoute = pickDefaultRoute(frontEnd.defaultRoutes, clusterOf, sink);
  return { hosts, defaultRoute, clusterOf, resolver };
}

/** The clusters and certificates of the table. */
export interface Resources {
  readonly clusters: Record<string, Cluster>;
  readonly certificates: Certificate[];
}

/**
 * Builds the clusters of the placed routes and of `extraUses` (RouteScripts' backends and lookups)
 * from the EndpointSlices of `input`, and the front end's certificates from its Secrets.
 */
export function buildResources(frontEnd: FrontEndOutput, placement: Placement, extraUses: readonly ClusterUse[], input: unknown, sink: DiagnosticSink): Resources {
  const { hosts, defaultRoute, resolver } = placement;
  const placed = defaultRoute === null ? hosts.routes : [...hosts.routes, defaultRoute];
  const slices = indexSlices(indexObjects(field(input, 'endpointSlices'), 'EndpointSlice', true, sink), sink);
  const clusters = buildClusters([...placed.flatMap((p) => p.uses), ...extraUses], resolver, slices, sink);
  const secrets = indexObjects(field(input, 'secrets'), 'Secret', true, sink);
  const certificates = buildCertificates(frontEnd.tls, secrets, sink);
  return { clusters, certificates };
}
