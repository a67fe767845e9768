/**
 * Building the clusters of the table: one per Service port that a surviving route references,
 * with its endpoints, shared by every route (of any object in the namespace) that resolves to
 * it — whether it names the port by number or by name. References that cannot be resolved keep a
 * cluster of their own, named as referenced (see `clusterName`). Every cluster of a Service carries
 * the policy compiled from the Service's annotations, with the overrides of its references applied
 * (cluster-overrides.ts: they win, and references with other overrides have other clusters); an
 * unresolved one, which has no endpoints to apply it to, carries the default policy.
 */
import type { Cluster } from '../../model/table.ts';
import { clusterName, type ClusterNamer } from './cluster-names.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { guarded } from './diagnostics.ts';
import { endpointsFor, type SliceIndex } from './endpoint-slices.ts';
import { applyOverrides, normalizeOverrides } from './cluster-overrides.ts';
import { comparePaths, compareStrings } from './order.ts';
import type { ClusterUse } from './placed-route.ts';
import type { ServiceResolver } from './services.ts';

/**
 * The cluster name of a backend: resolved against the Services first, so that routes can be
 * placed with their final cluster name. Only routes that make it into the table are named.
 */
export function clusterNamer(resolver: ServiceResolver): ClusterNamer {
  return (namespace, ref, overrides) => clusterName(namespace, ref, resolver.resolve(namespace, ref).servicePort, normalizeOverrides(overrides).overrides);
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
    for (const { owner, provenance, ref, overrides, refProvenance } of users) {
      const { problem } = resolver.resolve(namespace, ref);
      if (problem !== null) sink.report(owner.id, problem.code, 'error', problem.message, provenance);
      // Overrides are read only where they apply: a reference that resolves.
      else for (const bad of normalizeOverrides(overrides).problems) sink.report(owner.id, 'ObjectInvalid', 'error', `backend overrides: ${bad.field === '' ? 'they' : bad.field} ${bad.message}; ${bad.field === '' ? 'they are' : 'it is'} ignored`, overridesPath(refProvenance ?? provenance, bad.field));
    }
    const resolved = resolver.resolve(namespace, first.ref);
    const service = { kind: 'Service', namespace, name: first.ref.service };
    // Every user of a name has the same canonical overrides: the name holds their digest.
    const overrides = resolved.resolved ? normalizeOverrides(first.overrides).overrides : null;
    let policy = resolved.policy.policy;
    if (overrides !== null) {
      const applied = applyOverrides(policy, overrides, namespace, resolver.caSources, sink);
      policy = applied.policy;
      for (const bad of applied.problems) for (const { owner, provenance, refProvenance } of users) sink.report(owner.id, bad.code, 'error', bad.message, overridesPath(refProvenance ?? provenance, bad.field));
    }
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
      policy,
      ...(overrides === null ? {} : { overrides }),
      provenance: [...new Set(users.map((u) => u.provenance))].sort(comparePaths),
    };
  }
  return clusters;
}

/** Where a problem of a use's overrides is reported: below the reference, `.../backend/overrides/tls/ca`. */
function overridesPath(provenance: string, field: string): string {
  return field === '' ? `${provenance}/overrides` : `${provenance}/overrides/${field.replaceAll('.', '/')}`;
}
