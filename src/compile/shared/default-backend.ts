/**
 * The default route: the route for requests that match no virtual host or no route of the chosen
 * host (on listeners that send those to it).
 */
import type { DiagnosticSink } from './diagnostics.ts';
import type { DefaultRouteCandidate } from './candidates.ts';
import type { ClusterNamer } from './cluster-names.ts';
import { resolveRoute, type MergedRoute } from './placed-route.ts';
import { winnerName } from './virtual-hosts.ts';

/**
 * Picks the default route from the candidates, given in claim order (Ingresses: oldest first): the
 * first wins and every other gets `DefaultBackendConflict`.
 */
export function pickDefaultRoute(candidates: readonly DefaultRouteCandidate[], clusterOf: ClusterNamer, sink: DiagnosticSink): MergedRoute | null {
  const [winner, ...losers] = candidates;
  if (winner === undefined) return null;
  for (const { owner, route } of losers) {
    sink.report(
      owner.id,
      'DefaultBackendConflict',
      'error',
      `the default backend is already set by ${winnerName(winner.owner, owner)} (${winner.route.provenance}); this one is ignored`,
      route.provenance,
    );
  }
  return resolveRoute(winner.route, winner.owner, clusterOf);
}
