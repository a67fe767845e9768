/**
 * The Gateway API front end: our GatewayClasses (by `controllerName`), their Gateways and
 * listeners, and the HTTPRoutes and GRPCRoutes attached to them, translated into route
 * candidates on one table listener per Gateway listener (`gateway/<ns>/<name>/<listener>`, on the
 * port it declares). Statuses are built after the back half has reported (see `statuses`), since
 * a route's ResolvedRefs depends on the Services it names.
 */
import type { CompileOptions } from '../../model/snapshot.ts';
import { DEFAULT_GATEWAY_CONTROLLER_NAME } from '../../model/snapshot.ts';
import type { Diagnostic, Listener, ObjectStatus, ParentReference } from '../../model/table.ts';
import type { BackendClientCertificate } from '../../model/policy.ts';
import type { FrontEndOutput, RouteCandidate, TLSCandidate } from '../shared/candidates.ts';
import { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isRecord } from '../shared/guards.ts';
import { compareStrings } from '../shared/order.ts';
import { indexObjects, type Identified } from '../shared/objects.ts';
import { ourGatewayClasses } from './gateway-classes.ts';
import { withFrontendValidation } from './frontend-validation.ts';
import { claimPorts, readGateways, tableListener, type OurGateway } from './gateways.ts';
import { readListenerSets } from './listener-sets.ts';
import { assignAddresses } from './addresses.ts';
import type { AppProtocolOf } from './grpc-matches.ts';
import { readHttpRoutes, type RuleTargets } from './http-routes.ts';
import { readTlsRoutes } from './tls-routes.ts';
import { readL4Routes } from './l4-routes.ts';
import type { StreamCandidate } from '../streams/stream-candidates.ts';
import { compareGatewayMatches, type GatewayMatchCandidate } from './precedence.ts';
import { ReferenceGrants } from './reference-grants.ts';
import type { BackendLookup } from './backend-refs.ts';
import { BackendTlsPolicies } from './backend-tls-policies.ts';
import { attachedRoutes, gatewayStatus, routeStatus } from './status.ts';
import type { RouteRecord } from './routes.ts';

/** What the Gateway API front end gives the back half, and what it needs to write statuses. */
export interface GatewayFrontEnd extends FrontEndOutput {
  /** The statuses of our objects, once the compile's diagnostics are known. */
  statuses(diagnostics: readonly Diagnostic[]): ObjectStatus[];
  /** `Kind/namespace/name` of the objects whose diagnostics are this front end's. */
  readonly owners: ReadonlySet<string>;
  /** The TLSRoutes' passthrough routes, on the Gateways' TLS listeners. */
  readonly streams: readonly StreamCandidate[];
  /** What RouteScripts target a route of this front end by (its rule's name, its ExtensionRefs), by route provenance. */
  ruleOf(provenance: string): RuleTargets | undefined;
}

/** The Gateway listener ports served by the data plane's own sockets when no option says: a Service's usual 80 and 443. */
const DEFAULT_OWN_PORTS = Object.freeze({ http: 80, https: 443 });

const NONE: GatewayFrontEnd = Object.freeze({ listeners: [], routes: [], defaultRoutes: [], tls: [], precedence: () => 0, statuses: () => [], owners: new Set<string>(), streams: [], ruleOf: () => undefined });

/** Reads the Gateway API objects of a snapshot (any shape); nothing when the option turns it off. */
export function gatewayFrontEnd(input: unknown, options: CompileOptions, sink: DiagnosticSink): GatewayFrontEnd {
  const controllerName = options.gatewayControllerName === undefined ? DEFAULT_GATEWAY_CONTROLLER_NAME : options.gatewayControllerName;
  if (controllerName === null) return NONE;
  const classes = ourGatewayClasses(field(input, 'gatewayClasses'), controllerName, sink);
  if (classes.accepted.size === 0 && classes.refused.size === 0) return NONE;
  // Secrets and Services are indexed (and reported) again by the back half.
  const secrets = indexObjects(field(input, 'secrets'), 'Secret', true, new DiagnosticSink());
  const services = indexObjects(field(input, 'services'), 'Service', true, new DiagnosticSink());
  const grants = new ReferenceGrants(field(input, 'referenceGrants'), sink);
  const labels = namespaceLabels(field(input, 'namespaces'));
  const pool = options.gatewayAddresses ?? [];
  const configMaps = indexObjects(field(input, 'configMaps'), 'ConfigMap', true, new DiagnosticSink());
  const read = withAddresses(readGateways(field(input, 'gateways'), classes, secrets, grants, sink, pool.length > 0, configMaps), field(input, 'gateways'), pool, sink);
  const parents = new Map(read.map((g) => [g.owner.id.key, g]));
  const sets = readListenerSets(field(input, 'listenerSets'), parents, labels, secrets, grants, sink).map((s) => {
    const parent = parents.get(s.parent!);
    const address = parent?.address;
    // The Gateway's validation is per port: a ListenerSet's HTTPS listener on that port verifies as the Gateway's do.
    const checked = parent?.frontend === undefined ? s : { ...s, listeners: s.listeners.map((l) => withFrontendValidation(l, parent.frontend!)) };
    return address === undefined ? checked : { ...checked, address };
  });
  // One protocol per port across every Gateway and ListenerSet, the older first.
  const claimed = claimPorts([...read, ...sets], sink);
  const gateways = claimed.filter((g) => g.parent === undefined);
  const listenerSets = claimed.filter((g) => g.parent !== undefined);
  const context = { gateways: new Map(gateways.map((g) => [g.owner.id.key, g])), listenerSets: new Map(listenerSets.map((g) => [g.owner.id.key, g])), namespaceLabels: labels };
  const tlsPolicies = new BackendTlsPolicies(field(input, 'backendTLSPolicies'), configMaps, sink);
  // A route's parent is a Gateway or a ListenerSet, whose Gateway's spec.tls.backend holds.
  const backendCertificateOf = (parent: ParentReference): BackendClientCertificate | null => {
    const key = `${parent.namespace}/${parent.name}`;
    const gateway = parent.kind === 'ListenerSet' ? context.gateways.get(context.listenerSets.get(key)?.parent ?? '') : context.gateways.get(key);
    return gateway?.backendCertificate?.certificate ?? null;
  };
  const lookup: BackendLookup = { grants, appProtocolOf: portField(services, 'appProtocol'), portNameOf: portField(services, 'name'), tls: tlsPolicies, backendCertificateOf };
  const http = readHttpRoutes('HTTPRoute', field(input, 'httpRoutes'), context, lookup, sink);
  const grpc = readHttpRoutes('GRPCRoute', field(input, 'grpcRoutes'), context, lookup, sink);

  const own = options.gatewayOwnPorts ?? DEFAULT_OWN_PORTS;
  const streamListeners = new Map(claimed.flatMap((g) => g.listeners.filter((l) => l.programmed && (l.protocol === 'TLS' || l.protocol === 'TCP' || l.protocol === 'UDP')).map((l) => [l.tableName, tableListener(l, own, g.address)] as const)));
  const listenerOf = (name: string): Listener | undefined => streamListeners.get(name);
  const passthrough = readTlsRoutes(field(input, 'tlsRoutes'), context, lookup, listenerOf, sink);
  const tcp = readL4Routes('TCPRoute', field(input, 'tcpRoutes'), context, lookup, listenerOf, sink);
  const udp = readL4Routes('UDPRoute', field(input, 'udpRoutes'), context, lookup, listenerOf, sink);
  const programmed = claimed.flatMap((g) => g.listeners.filter((l) => l.programmed && (l.protocol === 'HTTP' || l.protocol === 'HTTPS')).map((l) => ({ l, address: g.address })));
  const served: Listener[] = programmed.map(({ l, address }) => tableListener(l, own, address));
  const listeners: Listener[] = [...served, ...heldListeners(claimed, own, [...served, ...streamListeners.values()])].sort((a, b) => compareStrings(a.name, b.name));
  const terminating = claimed.flatMap((g) => g.listeners.filter((l) => l.programmed && l.protocol === 'TLS' && l.tlsMode === 'Terminate'));
  const tls: TLSCandidate[] = [...programmed.map(({ l }) => l), ...terminating].flatMap((l) => l.certificates);
  const order = new Map<RouteCandidate, GatewayMatchCandidate>([...http.order, ...grpc.order]);
  const precedence = (a: RouteCandidate, b: RouteCandidate): number => compareGatewayMatches(order.get(a)!, order.get(b)!);
  const records: RouteRecord[] = [...http.records, ...grpc.records, ...passthrough.records, ...tcp.records, ...udp.records];
  const owners = new Set<string>([...claimed.map((g) => g.owner.id.provenance), ...records.map((r) => r.owner.id.provenance), ...classes.statuses.map((s) => `GatewayClass/${s.name}`)]);
  return {
    listeners,
    routes: [...http.candidates, ...grpc.candidates],
    defaultRoutes: [],
    tls,
    precedence,
    owners,
    streams: [...passthrough.streams, ...tcp.streams, ...udp.streams],
    ruleOf: (provenance) => http.rules.get(provenance) ?? grpc.rules.get(provenance),
    statuses: (diagnostics) => [...statusesOf(classes.statuses, claimed, records, diagnostics), ...tlsPolicies.statuses()],
  };
}

function statusesOf(classStatuses: readonly ObjectStatus[], gateways: readonly OurGateway[], records: readonly RouteRecord[], diagnostics: readonly Diagnostic[]): ObjectStatus[] {
  const byObject = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    const key = `${d.kind}/${d.namespace}/${d.name}`;
    const list = byObject.get(key);
    if (list === undefined) byObject.set(key, [d]);
    else list.push(d);
  }
  const attached = attachedRoutes(records);
  const sets = new Map<string, number>();
  for (const g of gateways) if (g.parent !== undefined && g.refused === null && g.listeners.some((l) => l.accepted)) sets.set(g.parent, (sets.get(g.parent) ?? 0) + 1);
  return [
    ...classStatuses,
    ...gateways.map((g) => gatewayStatus(g, attached, sets.get(g.owner.id.key) ?? 0)),
    ...records.map((r) => routeStatus(r, byObject.get(r.owner.id.provenance) ?? [])),
  ];
}

/**
 * The Gateways with the addresses of `pool` assigned (addresses.ts); one that cannot get one is
 * not served, and says why.
 */
function withAddresses(gateways: readonly OurGateway[], list: unknown, pool: readonly string[], sink: DiagnosticSink): OurGateway[] {
  if (pool.length === 0) return [...gateways];
  const objects = new Map([...indexObjects(list, 'Gateway', true, new DiagnosticSink()).values()].map((i) => [i.id.key, i.obj as unknown]));
  const assigned = assignAddresses(gateways, objects, pool);
  return gateways.map((g) => {
    const a = assigned.get(g.owner.id.key);
    if (a === undefined) return g;
    if ('address' in a) return { ...g, address: a.address };
    sink.report(g.owner.id, 'GatewayAddressUnsupported', 'error', `${a.problem}; the Gateway is not served`, `${g.owner.id.provenance}/spec/addresses`);
    return { ...g, listeners: [], refused: { reason: a.reason, message: a.problem } };
  });
}

function namespaceLabels(list: unknown): Map<string, Readonly<Record<string, string>>> {
  const out = new Map<string, Readonly<Record<string, string>>>();
  for (const { id, obj } of indexObjects(list, 'Namespace', false, new DiagnosticSink()).values()) {
    const labels = field(field(obj, 'metadata'), 'labels');
    const clean: Record<string, string> = { 'kubernetes.io/metadata.name': id.name };
    if (isRecord(labels)) for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') clean[k] = v;
    out.set(id.name, clean);
  }
  return out;
}

/** A field of a Service port found by number or name ('' when unset), or null when the Service or port does not exist. */
function portField(services: ReadonlyMap<string, Identified>, key: 'appProtocol' | 'name'): AppProtocolOf {
  return (namespace, service, port) => {
    const svc = services.get(`${namespace}/${service}`);
    if (svc === undefined) return null;
    const ports = field(field(svc.obj, 'spec'), 'ports');
    const match = (Array.isArray(ports) ? (ports as unknown[]).filter(isRecord) : []).find((p) => p['port'] === port || (p['name'] !== undefined && p['name'] === port));
    if (match === undefined) return null;
    const value = match[key];
    return typeof value === 'string' ? value : '';
  };
}

/**
 * The HTTPS listeners refused for want of a usable CA (gateways.ts, `holdsPort`) of Gateways with
 * an address of their own, as table listeners that offer no certificate and serve no host: they
 * hold that address and port, which would otherwise reach the data plane's shared socket and its
 * every certificate. A client that verifies the server fails the handshake; one that does not is
 * answered 404; nothing of the Gateway is served there. A port another listener is on is left to it.
 */
function heldListeners(gateways: readonly OurGateway[], own: { readonly http: number | null; readonly https: number | null }, taken: readonly Listener[]): Listener[] {
  const place = (l: Listener): string => `${l.address ?? ''} ${l.port ?? (l.protocol === 'HTTP' ? own.http : own.https)}`;
  const places = new Set(taken.filter((l) => l.protocol !== 'UDP').map(place));
  const held: Listener[] = [];
  for (const g of gateways) {
    if (g.address === undefined) continue;
    for (const l of g.listeners) {
      if (l.holdsPort !== true) continue;
      const listener = tableListener({ ...l, certificates: [] }, own, g.address);
      if (places.has(place(listener))) continue;
      places.add(place(listener));
      held.push(listener);
    }
  }
  return held;
}
