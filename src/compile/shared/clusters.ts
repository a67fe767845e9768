/**
 * Building the clusters of the table: one per Service port that a surviving route references,
 * with its endpoints, shared by every route (of any object in the namespace) that resolves to
 * it — whether it names the port by number or by name. References that cannot be resolved keep a
 * cluster of their own, named as referenced (see `clusterName`). Every cluster of a Service carries
 * the policy compiled from the Service's annotations; an unresolved one, which has no endpoints to
 * apply it to, carries the default policy.
 */
import type { Cluster } from '../../model/table.ts';
import { clusterName, type ClusterNamer } from './cluster-names.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { guarded } from './diagnostics.ts';
import { endpointsFor, type SliceIndex } from './endpoint-slices.ts';
import { comparePaths, compareStrings } from './order.ts';
import type { ClusterUse } from './placed-route.ts';
import type { ServiceResolver } from './services.ts';

/**
 * The cluster name of a backend: resolved against the Services first, so that routes can be
 * placed with their final cluster name. Only routes that make it into the table are named.
 */
export function clusterNamer(resolver: ServiceResolver): ClusterNamer {
  return (namespace, ref) => clusterName(namespace, ref, resolver.resolve(namespace, ref).servicePort);
}

/**
 * Builds the cluster of every use (route backends and mirrors, the default route, RouteScripts),
 * reporting unusable references on each use (with the user's provenance as path). A cluster's
 * provenance lists every user, in path order (numbers as numbers). Keys are inserted in sorted
 * order so the object serialises deterministically.
 */
export function buildClusters(
  allUses: readonly ClusterUse[],
  resolver: ServiceResolver,
  slices: SliceIndex,
  sink: DiagnosticSink,
): Record<string, Cluster> {
  const uses = new Map<string, ClusterUse[]>();
  for (const use of allUses) {
    const list = uses.get(use.cluster);
    if (list === undefined) uses.set(use.cluster, [use]);
    else list.push(use);
  }
  const clusters: Record<string, Cluster> = {};
  for (const name of [...uses.keys()].sort(compareStrings)) {
    const users = uses.get(name)!;
    const first = users[0]!;
    const namespace = first.namespace;
    // Every user resolves alike: a resolved name is one Service port, an unresolved one a single
    // reference. Each is still asked, so that a problem is reported with the route that has it.
    for (const { owner, provenance, ref } of users) {
      const { problem } = resolver.resolve(namespace, ref);
      if (problem !== null) sink.report(owner.id, problem.code, 'error', problem.message, provenance);
    }
    const resolved = resolver.resolve(namespace, first.ref);
    const service = { kind: 'Service', namespace, name: first.ref.service };
    clusters[name] = {
      name,
      namespace,
      service: first.ref.service,
      servicePort: resolved.servicePort,
      portName: resolved.portName,
      ...(first.ref.protocol === 'UDP' ? { transport: 'UDP' as const } : {}),
      endpoints: resolved.resolved
        ? guarded(sink, service, [], () => endpointsFor(slices, namespace, first.ref.service, resolved.portName, resolved.policy.endpointWeights, sink))
        : [],
      policy: resolved.policy.policy,
      provenance: [...new Set(users.map((u) => u.provenance))].sort(comparePaths),
    };
  }
  return clusters;
}
