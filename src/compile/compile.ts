/**
 * The compiler: one snapshot of Kubernetes objects in, one routing table out.
 *
 * `compile` is pure and deterministic — no clock, randomness, I/O or logging — and the same
 * snapshot gives byte-identical `JSON.stringify` output whatever the order of its arrays. It never
 * throws on bad input: objects may come from hand-written YAML and have any shape, so every
 * problem becomes a diagnostic and only the bad part (a path, a rule, a TLS entry, an object) is
 * dropped. It runs in three parts:
 *
 *   front ends (ingress/): IngressClass → Ingress (rules, paths, hosts, default backend, TLS),
 *     each Ingress turned into route candidates whose backends are still Service references;
 *   the back half (shared/): Services (and their `signalbox.dev/*` annotations, compiled into
 *     cluster policies) read first so that clusters can be named → virtual hosts merged from the
 *     candidates (conflicts, the front end's precedence) and the default route → RouteScript
 *     (validated, code checked, attached to placed routes, its backends resolved like route
 *     backends) → clusters with their EndpointSlices (and weights) → certificates from Secrets;
 *   statuses of the front ends' objects and of the RouteScripts.
 */
import type { CompileOptions, Snapshot } from '../model/snapshot.ts';
import type { Certificate, CompileResult, Diagnostic, Listener, ObjectStatus, ParentReference, Route, RoutingTable } from '../model/table.ts';
import type { FrontEndOutput, RouteCandidate, TLSCandidate } from './shared/candidates.ts';
import { gatewayFrontEnd } from './gateway/front-end.ts';
import type { RuleTargets } from './gateway/http-routes.ts';
import { ingressFrontEnd } from './ingress/front-end.ts';
import { ingressStatus } from './ingress/status.ts';
import { compileRouteScripts, routeScriptStatus, type TargetableRoute } from './route-scripts.ts';
import { placeRoutes, buildResources, type Placement } from './shared/back-half.ts';
import { DiagnosticSink, sortDiagnostics } from './shared/diagnostics.ts';
import { field } from './shared/guards.ts';
import { compareStrings } from './shared/order.ts';
import { clusterUsesOf, type MergedRoute } from './shared/placed-route.ts';
import { indexObjects } from './shared/objects.ts';
import { streamServices } from './streams/stream-services.ts';
import { buildStreamPart } from './streams/stream-routes.ts';

/**
 * Compiles a snapshot into a routing table, the status of each of our Ingresses and RouteScripts
 * and the diagnostics explaining everything that was dropped. Ingresses of other controllers are
 * ignored without a trace. See the processors for the exact rules: ingress/ (front-end.ts,
 * ingress-class.ts, ingress.ts, hosts.ts, paths.ts, precedence.ts, status.ts), shared/
 * (back-half.ts, virtual-hosts.ts, default-backend.ts, services.ts, service-policy.ts with
 * annotations.ts, the table of annotations, clusters.ts, endpoint-slices.ts, tls.ts) and
 * route-scripts.ts.
 */
export function compile(snapshot: Snapshot, options: CompileOptions): CompileResult {
  const sink = new DiagnosticSink();
  const input: unknown = snapshot;

  const ingress = ingressFrontEnd(input, options, sink);
  const gateway = gatewayFrontEnd(input, options, sink);
  // Each front end orders its own routes; they never share a virtual host (their listeners differ).
  const isGatewayRoute = (c: RouteCandidate): boolean => gateway.owners.has(c.owner.id.provenance);
  const frontEnds: FrontEndOutput = {
    listeners: [...ingress.listeners, ...gateway.listeners],
    routes: [...ingress.routes, ...gateway.routes],
    defaultRoutes: ingress.defaultRoutes,
    tls: [...ingress.tls, ...gateway.tls],
    precedence: (a, b) => {
      const ga = isGatewayRoute(a);
      const gb = isGatewayRoute(b);
      if (ga !== gb) return ga ? 1 : -1;
      return ga ? gateway.precedence(a, b) : ingress.precedence(a, b);
    },
  };
  // Clusters are named by the Service port a backend resolves to, so Services are read first.
  const placement = placeRoutes(frontEnds, input, sink);
  const { hosts, defaultRoute, clusterOf } = placement;

  // RouteScripts attach to the placed routes and add the clusters of their backends and lookups.
  const placed: MergedRoute[] = defaultRoute === null ? hosts.routes : [...hosts.routes, defaultRoute];
  const placedByRoute = new Map(hosts.routes.map((p) => [p.route, p]));
  const targetable: TargetableRoute[] = hosts.virtualHosts.flatMap((vh) =>
    vh.routes.flatMap((route) => {
      const p = placedByRoute.get(route);
      return p === undefined ? [] : scriptTargets(p, vh.host, gateway.ruleOf(route.provenance));
    }),
  );
  if (defaultRoute !== null) targetable.push(...scriptTargets(defaultRoute, null));
  const routeScripts = compileRouteScripts(field(input, 'routeScripts'), field(input, 'configMaps'), targetable, clusterOf, sink, options.scriptMemoryBudgetMiB ?? null);
  // A Gateway rule whose ExtensionRef names a RouteScript that is not loaded fails closed: its
  // requests are answered 500 rather than served without the script.
  const failedClosed = new Set<Route>();
  for (const t of targetable) {
    const { owner } = t.placed;
    for (const name of t.extensionRefs ?? []) {
      if (Object.hasOwn(routeScripts.scripts, `${owner.id.namespace}/${name}`)) continue;
      failedClosed.add(t.placed.route);
      sink.report(owner.id, 'RouteExtensionRefNotFound', 'error', `ExtensionRef RouteScript ${name} is not loaded (missing, or refused: see its diagnostics); the rule's requests are answered 500`, t.placed.route.provenance);
    }
  }
  const withScript = (route: Route): Route => {
    // Nor does any other script or mirror run there: a script could choose a backend the missing
    // one would not have, and a mirror would still copy the request out.
    if (failedClosed.has(route)) return { ...route, backends: [{ cluster: null, weight: 1, provenance: route.provenance }], filters: route.filters.filter((f) => f.type !== 'RequestMirror' && f.type !== 'UrlMirror') };
    const chain = routeScripts.attached.get(route);
    return chain === undefined ? route : { ...route, filters: [...route.filters, ...chain.map((script) => ({ type: 'RouteScript' as const, script }))] };
  };

  // Layer 4: the TCP/UDP services ConfigMaps and the Ingresses' passthrough hosts.
  const configMaps = indexObjects(field(input, 'configMaps'), 'ConfigMap', true, new DiagnosticSink());
  const streams = buildStreamPart([
    ...ingress.streams,
    ...gateway.streams,
    ...streamServices(options.tcpServicesConfigMap ?? null, 'TCP', configMaps, sink),
    ...streamServices(options.udpServicesConfigMap ?? null, 'UDP', configMaps, sink),
  ], clusterOf);
  const streamRoutes = streams.routes;

  // A route that fails closed uses no cluster any more.
  const used: Placement = failedClosed.size === 0 ? placement : { ...placement, hosts: { ...hosts, routes: hosts.routes.map((p) => (failedClosed.has(p.route) ? { ...p, uses: [] } : p)) } };
  const { clusters, certificates } = buildResources(frontEnds, used, [...routeScripts.clusterUses.flatMap(clusterUsesOf), ...streams.uses], input, sink);

  const listeners = [...withCertificates(frontEnds.listeners, certificates), ...streams.listeners].sort((a, b) => compareStrings(a.name, b.name));
  const table: RoutingTable = {
    listeners,
    virtualHosts: hosts.virtualHosts.map((vh) => ({ ...vh, routes: vh.routes.map(withScript) })),
    defaultRoute: defaultRoute === null ? null : withScript(defaultRoute.route),
    clusters,
    certificates: boundToListeners(certificates, ingress.tls, listeners),
    scripts: routeScripts.scripts,
    streamRoutes,
    ...(ingress.clientAddressHeader === null ? {} : { clientAddressHeader: ingress.clientAddressHeader }),
  };
  const diagnostics = sortDiagnostics(sink.items);

  // Policy attachment: the Gateways whose routes each RouteScript runs on.
  const ancestors = scriptAncestors(table);

  // An Ingress is served when any node of the table came from it.
  const served = new Set<string>(placed.map((p) => p.owner.id.provenance));
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
    ...ingress.ingresses.map(({ id }) =>
      ingressStatus(id, byObject.get(id.provenance) ?? [], served.has(id.provenance) || certificateSources.has(id.provenance)),
    ),
    ...routeScripts.identities.map((id) => withAncestors(routeScriptStatus(id, byObject.get(id.provenance) ?? [], routeScripts.scripts[id.key]?.invalid === false), ancestors.get(id.key))),
    ...gateway.statuses(diagnostics),
  ].sort((a, b) => compareStrings(a.kind, b.kind) || compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));

  return { table, statuses, diagnostics };
}

/**
 * A placed route as RouteScripts target it: by its owner, or by the Service of its first backend
 * (a route with no Service backend is targeted by neither; the Ingress front end writes none).
 */
function scriptTargets(merged: MergedRoute, host: string | null, rule?: RuleTargets): TargetableRoute[] {
  const ref = merged.services[0] ?? (rule?.extensionRefs === undefined ? undefined : NO_SERVICE);
  return ref === undefined ? [] : [{ placed: { route: merged.route, ref, owner: merged.owner }, host, ...rule }];
}

/** The Service of a route that names none (a Gateway rule that only redirects, or whose backends cannot be used). */
const NO_SERVICE = Object.freeze({ namespace: '', service: '', port: 0 });

/** `Ingress/ns/name` from a provenance path below it. */
function ownerOf(provenance: string): string {
  return provenance.split('/').slice(0, 3).join('/');
}

/**
 * The listeners with only the certificates that made it into the table: a Secret that cannot be
 * used, or whose hosts all went to another certificate, is not offered.
 */
function withCertificates(listeners: readonly Listener[], certificates: readonly Certificate[]): Listener[] {
  const names = new Set(certificates.map((c) => c.name));
  return listeners.map((l) => (l.tls?.certificates == null ? l : { ...l, tls: { certificates: l.tls.certificates.filter((c) => names.has(c)) } }));
}

/**
 * The certificates, those no Ingress TLS entry names marked listener-bound (and left out when no
 * listener lists them): a Gateway listener's
 * certificate is offered only on its listener's socket, where the Ingress front end's HTTPS
 * listener (which offers every certificate) would otherwise offer it on the data plane's own port.
 */
function boundToListeners(certificates: readonly Certificate[], ingressTls: readonly TLSCandidate[], listeners: readonly Listener[]): Certificate[] {
  const named = new Set(ingressTls.map((t) => `${t.namespace ?? t.owner.id.namespace}/${t.secretName}`));
  const listed = new Set(listeners.flatMap((l) => l.tls?.certificates ?? []));
  // A listener-bound certificate no listener of the table lists (a TLS listener in Terminate mode
  // that no route made a listener of) is offered nowhere: it is left out.
  return certificates.flatMap((c) => (named.has(c.name) ? [c] : listed.has(c.name) ? [{ ...c, listenerBound: true as const }] : []));
}

/**
 * For each RouteScript (by `namespace/name`), the Gateways and ListenerSets whose listeners serve a
 * route it runs on (its ancestors, as the Gateway API's policy attachment words it), sorted.
 */
function scriptAncestors(table: RoutingTable): Map<string, ParentReference[]> {
  const out = new Map<string, Map<string, ParentReference>>();
  for (const vh of table.virtualHosts) {
    const parents = vh.listeners.flatMap((name): ParentReference[] => {
      const [prefix, namespace, object] = name.split('/');
      if ((prefix !== 'gateway' && prefix !== 'listenerset') || namespace === undefined || object === undefined) return [];
      return [{ group: 'gateway.networking.k8s.io', kind: prefix === 'gateway' ? 'Gateway' : 'ListenerSet', namespace, name: object }];
    });
    if (parents.length === 0) continue;
    for (const route of vh.routes) {
      for (const f of route.filters) {
        if (f.type !== 'RouteScript') continue;
        let mine = out.get(f.script);
        if (mine === undefined) out.set(f.script, (mine = new Map()));
        for (const p of parents) mine.set(`${p.kind}/${p.namespace}/${p.name}`, p);
      }
    }
  }
  return new Map([...out].map(([key, refs]) => [key, [...refs.keys()].sort(compareStrings).map((k) => refs.get(k)!)]));
}

/** A RouteScript's status with its ancestors, each told that the script runs on its routes. */
function withAncestors(status: ObjectStatus, ancestors: readonly ParentReference[] | undefined): ObjectStatus {
  if (ancestors === undefined || ancestors.length === 0) return status;
  const accepted = status.conditions.find((c) => c.type === 'Accepted');
  const condition = accepted ?? { type: 'Accepted', status: 'True' as const, reason: 'Accepted', message: 'The RouteScript is accepted.' };
  return { ...status, parents: ancestors.map((parentRef) => ({ parentRef, conditions: [condition] })) };
}
