/**
 * Building the clusters of the table: one per Service port that a surviving route references,
 * with its endpoints, shared by every route (of any Ingress in the namespace) that names it.
 */
import type { Cluster } from '../model/table.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import type { Identified } from './objects.ts';
import type { PlacedRoute } from './virtual-hosts.ts';
import { endpointsFor, type SliceIndex } from './endpoint-slices.ts';
import { comparePaths, compareStrings } from './order.ts';
import { guarded } from './diagnostics.ts';
import { resolveServicePort, type ResolvedPort } from './services.ts';

/** The resolution of a Service that could not even be read (see `guarded`). */
const UNREADABLE: ResolvedPort = {
  servicePort: null,
  portName: '',
  resolved: false,
  problem: { code: 'ServiceInvalid', message: 'the Service could not be read; requests get 503' },
};

/**
 * Resolves the cluster of every route (and the default route), reporting unusable references on
 * each route that uses them (with the route's provenance as path). Keys are inserted in sorted
 * order so the object serialises deterministically.
 */
export function buildClusters(
  routes: readonly PlacedRoute[],
  services: ReadonlyMap<string, Identified>,
  slices: SliceIndex,
  sink: DiagnosticSink,
): Record<string, Cluster> {
  const uses = new Map<string, PlacedRoute[]>();
  for (const placed of routes) {
    const list = uses.get(placed.route.cluster);
    if (list === undefined) uses.set(placed.route.cluster, [placed]);
    else list.push(placed);
  }
  const clusters: Record<string, Cluster> = {};
  for (const name of [...uses.keys()].sort(compareStrings)) {
    const users = uses.get(name)!;
    const first = users[0]!;
    const namespace = first.owner.id.namespace;
    const service = { kind: 'Service', namespace, name: first.ref.service };
    const resolved = guarded(sink, service, UNREADABLE, () => resolveServicePort(namespace, first.ref, services));
    if (resolved.problem !== null) {
      for (const { owner, route } of users) {
        sink.report(owner.id, resolved.problem.code, 'error', resolved.problem.message, route.provenance);
      }
    }
    clusters[name] = {
      name,
      namespace,
      service: first.ref.service,
      servicePort: resolved.servicePort,
      portName: resolved.portName,
      endpoints: resolved.resolved ? guarded(sink, service, [], () => endpointsFor(slices, namespace, first.ref.service, resolved.portName, sink)) : [],
      provenance: [...new Set(users.map((u) => u.route.provenance))].sort(comparePaths),
    };
  }
  return clusters;
}
