/**
 * The default backend: the route for requests that match no virtual host or no route of the
 * chosen host.
 */
import type { DiagnosticSink } from './diagnostics.ts';
import type { DefaultBackendCandidate } from '../ingress/ingress.ts';
import { winnerName, type PlacedRoute, type RankedIngress } from './virtual-hosts.ts';
import type { ClusterNamer } from '../ingress/backend.ts';
import { ingressRoute } from '../ingress/ingress-route.ts';

/**
 * Picks the default route from the valid `spec.defaultBackend`s, given oldest Ingress first: the
 * oldest wins and every other gets `DefaultBackendConflict`. The route is a Prefix `/` so that it
 * reads like any other route in the table.
 */
export function pickDefaultRoute(
  candidates: readonly { readonly owner: RankedIngress; readonly candidate: DefaultBackendCandidate }[],
  clusterOf: ClusterNamer,
  sink: DiagnosticSink,
): PlacedRoute | null {
  const [winner, ...losers] = candidates;
  if (winner === undefined) return null;
  for (const { owner, candidate } of losers) {
    sink.report(
      owner.id,
      'DefaultBackendConflict',
      'error',
      `the default backend is already set by ${winnerName(winner.owner, owner)} (${winner.candidate.provenance}); this one is ignored`,
      candidate.provenance,
    );
  }
  return {
    route: ingressRoute('Prefix', '/', clusterOf(winner.owner.id.namespace, winner.candidate.ref), winner.candidate.provenance),
    ref: winner.candidate.ref,
    owner: winner.owner,
  };
}
