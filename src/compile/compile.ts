/**
 * The compiler: one snapshot of Kubernetes objects in, one routing table out.
 *
 * `compile` is pure and deterministic — no clock, randomness, I/O or logging — and the same
 * snapshot gives byte-identical `JSON.stringify` output whatever the order of its arrays. It never
 * throws on bad input: objects may come from hand-written YAML and have any shape, so every
 * problem becomes a diagnostic and only the bad part (a path, a rule, a TLS entry, an object) is
 * dropped. Processors run in a fixed order, one per kind:
 *
 *   IngressClass → Ingress (rules, paths, default backend, TLS) → virtual hosts and conflicts,
 *   each winning backend resolved against its Service to name its cluster (and the Service's
 *   `signalbox.dev/*` annotations compiled into its policy) → RouteScript (validated, code
 *   checked, attached to routes, its backends resolved like Ingress backends) → EndpointSlice
 *   (with weights) → Secret → status
 */
import type { CompileOptions, Snapshot } from '../model/snapshot.ts';
import type { CompileResult, Diagnostic, ObjectStatus, Route, RoutingTable } from '../model/table.ts';
import { compareAge, withAge } from './age.ts';
import { buildClusters, clusterNamer } from './clusters.ts';
import { pickDefaultRoute } from './default-backend.ts';
import { DiagnosticSink, guarded, sortDiagnostics } from './diagnostics.ts';
import { indexSlices } from './endpoint-slices.ts';
import { field } from './guards.ts';
import { ownership, ourClasses, type Ownership } from './ingress-class.ts';
import { parseIngress, type IngressContribution } from './ingress.ts';
import { identify, indexByKey, indexObjects, subjectOf, type Identified } from './objects.ts';
import { compareStrings } from './order.ts';
import { compileRouteScripts, routeScriptStatus, type TargetableRoute } from './route-scripts.ts';
import { ServiceResolver } from './services.ts';
import { ingressStatus } from './status.ts';
import { buildCertificates } from './tls.ts';
import { buildVirtualHosts, type PlacedRoute, type RankedIngress } from './virtual-hosts.ts';
import { INGRESS_LISTENER_LIST } from './listeners.ts';

const EMPTY: IngressContribution = Object.freeze({ routes: [], defaultBackend: null, tls: [] });

/**
 * Compiles a snapshot into a routing table, the status of each of our Ingresses and the
 * diagnostics explaining everything that was dropped. Ingresses of other controllers are ignored
 * without a trace. See the processors for the exact rules: ingress-class.ts, ingress.ts, hosts.ts,
 * paths.ts, virtual-hosts.ts, default-backend.ts, route-scripts.ts, services.ts, service-policy.ts (with annotations.ts,
 * the table of annotations), endpoint-slices.ts, tls.ts, status.ts.
 */
export function compile(snapshot: Snapshot, options: CompileOptions): CompileResult {
  const sink = new DiagnosticSink();
  const input: unknown = snapshot;

  const ours = ourClasses(indexObjects(field(input, 'ingressClasses'), 'IngressClass', false, sink), options, sink);
  const ingresses = ourIngresses(field(input, 'ingresses'), ours, options, sink);

  const parsed = ingresses.map(({ owner, item }) => ({
    owner,
    contribution: guarded(sink, owner.id, EMPTY, () => parseIngress(owner.id, item.obj, sink)),
  }));
  // Clusters are named by the Service port a backend resolves to, so Services are read first.
  const resolver = new ServiceResolver(indexObjects(field(input, 'services'), 'Service', true, sink), sink);
  const clusterOf = clusterNamer(resolver);
  const hosts = buildVirtualHosts(parsed.map(({ owner, contribution }) => ({ owner, routes: contribution.routes })), clusterOf, sink);
  const defaultRoute = pickDefaultRoute(
    parsed.flatMap(({ owner, contribution: c }) => (c.defaultBackend === null ? [] : [{ owner, candidate: c.defaultBackend }])),
    clusterOf,
    sink,
  );

  // RouteScripts attach to the placed routes and add the clusters of their backends and lookups.
  const placed: PlacedRoute[] = defaultRoute === null ? hosts.routes : [...hosts.routes, defaultRoute];
  const placedByRoute = new Map(hosts.routes.map((p) => [p.route, p]));
  const targetable: TargetableRoute[] = hosts.virtualHosts.flatMap((vh) =>
    vh.routes.flatMap((route) => {
      const p = placedByRoute.get(route);
      return p === undefined ? [] : [{ placed: p, host: vh.host }];
    }),
  );
  if (defaultRoute !== null) targetable.push({ placed: defaultRoute, host: null });
  const routeScripts = compileRouteScripts(field(input, 'routeScripts'), field(input, 'configMaps'), targetable, clusterOf, sink, options.scriptMemoryBudgetMiB ?? null);
  const withScript = (route: Route): Route => {
    const chain = routeScripts.attached.get(route);
    return chain === undefined ? route : { ...route, filters: [...route.filters, ...chain.map((script) => ({ type: 'RouteScript' as const, script }))] };
  };

  const slices = indexSlices(indexObjects(field(input, 'endpointSlices'), 'EndpointSlice', true, sink), sink);
  const clusters = buildClusters([...placed, ...routeScripts.clusterUses], resolver, slices, sink);

  const secrets = indexObjects(field(input, 'secrets'), 'Secret', true, sink);
  const certificates = buildCertificates(parsed.map(({ owner, contribution }) => ({ owner, tls: contribution.tls })), secrets, sink);

  const table: RoutingTable = {
    listeners: INGRESS_LISTENER_LIST,
    virtualHosts: hosts.virtualHosts.map((vh) => ({ ...vh, routes: vh.routes.map(withScript) })),
    defaultRoute: defaultRoute === null ? null : withScript(defaultRoute.route),
    clusters,
    certificates,
    scripts: routeScripts.scripts,
  };
  const diagnostics = sortDiagnostics(sink.items);

  // An Ingress is served when any node of the table came from it.
  const served = new Set<RankedIngress>(placed.map((p) => p.owner));
  const certificateSources = new Set(certificates.flatMap((c) => c.provenance.map(ownerOf)));
  const byObject = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    if (d.kind !== 'Ingress' && d.kind !== 'RouteScript') continue;
    const key = `${d.kind}/${d.namespace}/${d.name}`;
    const list = byObject.get(key);
    if (list === undefined) byObject.set(key, [d]);
    else list.push(d);
  }
  const statuses: ObjectStatus[] = [
    ...ingresses.map(({ owner }) =>
      ingressStatus(owner.id, byObject.get(owner.id.provenance) ?? [], served.has(owner) || certificateSources.has(owner.id.provenance)),
    ),
    ...routeScripts.identities.map((id) => routeScriptStatus(id, byObject.get(id.provenance) ?? [], routeScripts.scripts[id.key]?.invalid === false)),
  ].sort((a, b) => compareStrings(a.kind, b.kind) || compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));

  return { table, statuses, diagnostics };
}

/**
 * Our Ingresses, identified, deduplicated and ranked oldest first. Ownership is decided before the
 * metadata is validated, so that broken Ingresses of other controllers stay silent.
 */
function ourIngresses(
  list: unknown,
  ours: ReturnType<typeof ourClasses>,
  options: CompileOptions,
  sink: DiagnosticSink,
): { owner: RankedIngress; item: Identified }[] {
  const owned = new Map<Identified, Ownership>();
  for (const obj of Array.isArray(list) ? (list as unknown[]) : []) {
    guarded(sink, subjectOf(obj, 'Ingress'), undefined, () => {
      const own = ownership(obj, ours, options);
      if (own === null) return;
      const item = identify(obj, 'Ingress', true, sink);
      if (item !== null) owned.set(item, own);
    });
  }
  const unique = [...indexByKey([...owned.keys()], sink).values()];
  for (const item of unique) {
    for (const warning of owned.get(item)!.warnings) sink.report(item.id, warning.code, 'warning', warning.message);
  }
  return unique
    .map((item) => guarded(sink, item.id, { ...item, created: null }, () => withAge(item, sink)))
    .sort(compareAge)
    .map((item, rank) => ({ owner: { id: item.id, rank, created: item.created }, item }));
}

/** `Ingress/ns/name` from a provenance path below it. */
function ownerOf(provenance: string): string {
  return provenance.split('/').slice(0, 3).join('/');
}
