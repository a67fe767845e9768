/**
 * Gateways (apis/v1/gateway_types.go) of our GatewayClasses, and their listeners: protocol, port,
 * hostname, TLS (certificate references, checked against ReferenceGrants), the routes they allow
 * (`allowedRoutes`: namespaces and kinds) and the conflicts between them. A listener that cannot
 * be served says why in its own conditions; the Gateway's other listeners are served.
 */
import { X509Certificate } from 'node:crypto';
import type { ClientCertificateAuth, Condition, Listener } from '../../model/table.ts';
import { compareAge, withAge } from '../shared/age.ts';
import type { RankedOwner, TLSCandidate } from '../shared/candidates.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isPortNumber, isUnset } from '../shared/guards.ts';
import { indexObjects, type Identified } from '../shared/objects.ts';
import { readKeyPair } from '../shared/tls.ts';
import { isFalse, isTrue } from './conditions.ts';
import { readBackendClientCertificate, type GatewayBackendCertificate } from './backend-client-certificate.ts';
import { readFrontendValidation, withFrontendValidation, type FrontendValidation } from './frontend-validation.ts';
import { isGatewayHostname } from './hostnames.ts';
import { labelSelector, type LabelSelector } from './label-selector.ts';
import { GATEWAY_API_GROUP, KINDS_OF_PROTOCOL, tableListenerName, type GroupKind, type RouteKind } from './names.ts';
import type { ReferenceGrants } from './reference-grants.ts';

/** Which namespaces' routes a listener takes. */
export type AllowedNamespaces = { readonly from: 'Same' | 'All' | 'None' } | { readonly from: 'Selector'; readonly selector: LabelSelector };

/** One listener of one of our Gateways, read and checked. */
export interface GatewayListener {
  readonly gateway: RankedOwner;
  readonly name: string;
  /** Its listener's name in the routing table. */
  readonly tableName: string;
  readonly protocol: string;
  readonly port: number;
  /** Null: every host (and always on TCP and UDP). */
  readonly hostname: string | null;
  /** `Terminate` on HTTPS; `Passthrough` or `Terminate` on TLS listeners; null otherwise. */
  readonly tlsMode: 'Terminate' | 'Passthrough' | null;
  /** The route kinds it takes (`supportedKinds`). */
  readonly kinds: readonly RouteKind[];
  readonly namespaces: AllowedNamespaces;
  /** Routes may attach: Accepted and not Conflicted. */
  readonly accepted: boolean;
  /** It is in the table: accepted, and its references resolved. */
  readonly programmed: boolean;
  /** `Accepted`, `Programmed`, `ResolvedRefs`, `Conflicted`, before routes are counted. */
  readonly conditions: readonly Condition[];
  /** HTTPS, and TLS in Terminate mode: the certificates it offers (usable ones only). */
  readonly certificates: readonly TLSCandidate[];
  /** HTTPS: the client-certificate check of its port (the Gateway's `spec.tls.frontend`); absent: none. */
  readonly clientAuth?: ClientCertificateAuth;
  /**
   * Refused because no CA of its port's validation is usable, and still to hold its address and
   * port closed (front-end.ts `heldListeners`) rather than let another socket answer there.
   */
  readonly holdsPort?: boolean;
  readonly provenance: string;
}

/** One of our Gateways, or a ListenerSet attached to one (then `parent` names it). */
export interface OurGateway {
  readonly owner: RankedOwner;
  readonly listeners: readonly GatewayListener[];
  /** Gateways: which namespaces' ListenerSets may attach (`spec.allowedListeners`; default None). */
  readonly allowedListeners: AllowedNamespaces;
  /** ListenerSets: `namespace/name` of the Gateway it attaches to. */
  readonly parent?: string;
  /** The address of its own (a ListenerSet: its Gateway's), from `--gateway-addresses`; absent: the data plane's. */
  readonly address?: string;
  /** Some port of it lets clients without a valid certificate through (InsecureFrontendValidationMode). */
  readonly insecureFrontendValidation?: boolean;
  /** Gateways: the client-certificate validation of its ports, which its ListenerSets' HTTPS listeners get too. */
  readonly frontend?: FrontendValidation;
  /** Gateways: the client certificate presented to backends over TLS (`spec.tls.backend`); absent: none. */
  readonly backendCertificate?: GatewayBackendCertificate;
  /** Set when the Gateway as a whole is not served: the reason and message of its Accepted False. */
  readonly refused: { readonly reason: string; readonly message: string } | null;
}

const PROTOCOLS = new Set(['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP']);
// A SectionName (apis/v1/shared_types.go): a DNS-1123 label.
const SECTION_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The Gateways of our classes, oldest first, each with its listeners checked. */
export function readGateways(list: unknown, classes: { readonly accepted: ReadonlySet<string>; readonly refused: ReadonlySet<string> }, secrets: ReadonlyMap<string, Identified>, grants: ReferenceGrants, sink: DiagnosticSink, pooled = false, configMaps: ReadonlyMap<string, Identified> = new Map()): OurGateway[] {
  const ours = (Array.isArray(list) ? (list as unknown[]) : []).filter((obj) => {
    const cls = field(field(obj, 'spec'), 'gatewayClassName');
    return typeof cls === 'string' && (classes.accepted.has(cls) || classes.refused.has(cls));
  });
  const items = [...indexObjects(ours, 'Gateway', true, sink).values()]
    .map((item) => guarded(sink, item.id, { ...item, created: null }, () => withAge(item, sink)))
    .sort(compareAge);
  const gateways = items.map((item, rank) => {
    const owner: RankedOwner = { id: item.id, rank, created: item.created };
    return guarded(sink, item.id, { owner, listeners: [], allowedListeners: NO_LISTENER_SETS, refused: { reason: 'Invalid', message: 'The Gateway could not be read.' } }, () => readGateway(owner, item.obj, classes, secrets, grants, sink, pooled, configMaps));
  });
  return gateways;
}

const NO_LISTENER_SETS: AllowedNamespaces = Object.freeze({ from: 'None' });

/**
 * Every Gateway is served by the same data plane, so one port speaks one protocol family for all
 * of them (plain HTTP; TLS, terminated or passed through by SNI; TCP, which takes the whole port;
 * UDP, a port space of its own). The oldest Gateway's listener claims a port; a later Gateway's
 * listener that would speak another family there — or a second TCP or UDP listener on it — is not
 * accepted (PortUnavailable), so that no table ever asks the data plane for two things on one port.
 */
export function claimPorts(gateways: readonly OurGateway[], sink: DiagnosticSink): OurGateway[] {
  const claims = new Map<string, { family: string; by: string }>();
  const familyOf = (p: string): string => (p === 'HTTP' ? 'http' : p === 'TCP' ? 'tcp' : p === 'UDP' ? 'udp' : 'tls');
  return gateways.map((g) => {
    const listeners = g.listeners.map((l) => {
      if (!l.accepted) return l;
      const family = familyOf(l.protocol);
      // Gateways with addresses of their own share no socket with each other.
      const key = `${g.address ?? ''} ${family === 'udp' ? 'udp' : 'tcp'} ${l.port}`;
      const claim = claims.get(key);
      const gateway = `${g.owner.id.kind} ${g.owner.id.namespace}/${g.owner.id.name}`;
      if (claim === undefined) {
        claims.set(key, { family, by: gateway });
        return l;
      }
      const exclusive = family === 'tcp' || family === 'udp';
      if (claim.family === family && (!exclusive || claim.by === gateway)) return l;
      const message = claim.family === family ? `port ${l.port} is already served to ${l.protocol} by ${claim.by}` : `port ${l.port} is already served to another protocol by ${claim.by}`;
      sink.report(g.owner.id, 'GatewayListenerConflicted', 'error', `listener ${l.name}: ${message}; it is not served`, l.provenance);
      const resolved = l.conditions.find((c) => c.type === 'ResolvedRefs')!;
      return { ...l, accepted: false, programmed: false, conditions: [isFalse('Accepted', 'PortUnavailable', message), isFalse('Programmed', 'Invalid', message), resolved, isFalse('Conflicted', 'NoConflicts', 'No conflict within the Gateway.')] };
    });
    return { ...g, listeners };
  });
}

function readGateway(owner: RankedOwner, obj: unknown, classes: { readonly refused: ReadonlySet<string> }, secrets: ReadonlyMap<string, Identified>, grants: ReferenceGrants, sink: DiagnosticSink, pooled: boolean, configMaps: ReadonlyMap<string, Identified>): OurGateway {
  const spec = field(obj, 'spec');
  const className = field(spec, 'gatewayClassName') as string;
  const allowed = allowedNamespaces(field(field(spec, 'allowedListeners'), 'namespaces') ?? { from: 'None' });
  const allowedListeners = 'problem' in allowed ? NO_LISTENER_SETS : allowed;
  if ('problem' in allowed) sink.report(owner.id, 'GatewayListenerInvalid', 'error', `spec.allowedListeners: ${allowed.problem}; no ListenerSet may attach`, `${owner.id.provenance}/spec/allowedListeners`);
  if (classes.refused.has(className)) return { owner, listeners: [], allowedListeners, refused: { reason: 'Invalid', message: `GatewayClass ${className} is not accepted.` } };
  const addresses = field(spec, 'addresses');
  // With a pool of addresses, spec.addresses are honoured from it (addresses.ts).
  if (!pooled && Array.isArray(addresses) && addresses.length > 0) {
    sink.report(owner.id, 'GatewayAddressUnsupported', 'error', 'spec.addresses asks for addresses, and signalbox serves every Gateway on the addresses of its own Service: the Gateway is not served', `${owner.id.provenance}/spec/addresses`);
    return { owner, listeners: [], allowedListeners, refused: { reason: 'UnsupportedAddress', message: 'signalbox cannot assign requested addresses: remove spec.addresses to serve the Gateway on the data plane\'s own address.' } };
  }
  const raw = field(spec, 'listeners');
  const entries = Array.isArray(raw) ? (raw as unknown[]) : [];
  const read = onceEach(entries.map((entry, i) => readListener(owner, entry, i, secrets, grants, sink)), sink);
  const frontend = readFrontendValidation(owner, spec, configMaps, secrets, grants, sink);
  const listeners = markConflicts(read, sink).map((l) => withFrontendValidation(l, frontend));
  const backend = readBackendClientCertificate(owner, spec, secrets, configMaps, grants, sink);
  return { owner, listeners, allowedListeners, ...(frontend.insecure ? { insecureFrontendValidation: true } : {}), frontend, ...(backend === null ? {} : { backendCertificate: backend }), refused: null };
}

/**
 * The listeners with a name used before in the same list refused (the CRD forbids it; a manifest
 * file need not): the first of a name is served.
 */
export function onceEach(listeners: readonly GatewayListener[], sink: DiagnosticSink): GatewayListener[] {
  const seen = new Set<string>();
  return listeners.map((l) => {
    if (!seen.has(l.name)) {
      seen.add(l.name);
      return l;
    }
    const message = `the name ${l.name} is used by an earlier listener`;
    sink.report(l.gateway.id, 'GatewayListenerInvalid', 'error', `listener ${l.name}: ${message}; it is not served`, l.provenance);
    return { ...l, accepted: false, programmed: false, conditions: [isFalse('Accepted', 'UnsupportedValue', message), isFalse('Programmed', 'Invalid', message), isTrue('ResolvedRefs', 'ResolvedRefs', 'No reference to resolve.'), isFalse('Conflicted', 'NoConflicts', 'No conflict.')] };
  });
}

/** A listener before conflicts are looked at. */
type Unchecked = GatewayListener;

export function readListener(owner: RankedOwner, entry: unknown, index: number, secrets: ReadonlyMap<string, Identified>, grants: ReferenceGrants, sink: DiagnosticSink): Unchecked {
  const at = `${owner.id.provenance}/listener/${index}`;
  const name = typeof field(entry, 'name') === 'string' ? (field(entry, 'name') as string) : `#${index}`;
  const protocol = typeof field(entry, 'protocol') === 'string' ? (field(entry, 'protocol') as string) : '';
  const port = field(entry, 'port');
  const base = {
    gateway: owner,
    name,
    tableName: tableListenerName(owner.id.namespace, owner.id.name, name, owner.id.kind === 'ListenerSet' ? 'ListenerSet' : 'Gateway'),
    protocol,
    port: isPortNumber(port) ? port : 0,
    hostname: null,
    tlsMode: null,
    kinds: [],
    namespaces: { from: 'Same' },
    certificates: [],
    provenance: at,
  } as const;
  const refuse = (reason: string, message: string): Unchecked => {
    sink.report(owner.id, 'GatewayListenerInvalid', 'error', `listener ${name}: ${message}; it is not served`, at);
    return { ...base, accepted: false, programmed: false, conditions: [isFalse('Accepted', reason, message), isFalse('Programmed', 'Invalid', message), isTrue('ResolvedRefs', 'ResolvedRefs', 'No reference to resolve.'), isFalse('Conflicted', 'NoConflicts', 'No conflict.')] };
  };
  if (!SECTION_NAME.test(name)) return refuse('UnsupportedValue', `name ${JSON.stringify(name)} is not a lower-case DNS label`);
  if (!PROTOCOLS.has(protocol)) return refuse('UnsupportedProtocol', `protocol ${JSON.stringify(protocol)} is not one signalbox serves (HTTP, HTTPS, TLS, TCP, UDP)`);
  if (!isPortNumber(port)) return refuse('UnsupportedValue', 'port must be a number from 1 to 65535');
  const rawHost = field(entry, 'hostname');
  let hostname: string | null = null;
  if (!isUnset(rawHost) && protocol !== 'TCP' && protocol !== 'UDP') {
    if (!isGatewayHostname(rawHost)) return refuse('UnsupportedValue', `hostname ${JSON.stringify(rawHost)} is not a valid hostname`);
    hostname = rawHost;
  }
  const namespaces = allowedNamespaces(field(field(entry, 'allowedRoutes'), 'namespaces'));
  if ('problem' in namespaces) return refuse('UnsupportedValue', namespaces.problem);
  const kinds = allowedKinds(protocol, field(field(entry, 'allowedRoutes'), 'kinds'));
  const problems: { reason: string; message: string }[] = [];
  if (kinds.invalid.length > 0) problems.push({ reason: 'InvalidRouteKinds', message: `route kinds ${kinds.invalid.map((k) => `${k.group}/${k.kind}`).join(', ')} cannot attach to a ${protocol} listener` });

  const tls = field(entry, 'tls');
  let tlsMode: 'Terminate' | 'Passthrough' | null = null;
  let certificates: TLSCandidate[] = [];
  if (protocol === 'HTTPS' || protocol === 'TLS') {
    const mode = field(tls, 'mode') ?? 'Terminate';
    if (mode !== 'Terminate' && mode !== 'Passthrough') return refuse('UnsupportedValue', `tls.mode ${JSON.stringify(mode)} is neither Terminate nor Passthrough`);
    if (protocol === 'HTTPS' && mode !== 'Terminate') return refuse('UnsupportedValue', 'an HTTPS listener terminates TLS: tls.mode must be Terminate');
    tlsMode = mode;
    // TLS in Terminate mode (TLSRouteModeTerminate): the handshake is made here, with these certificates, and the plain stream relayed.
    if (mode === 'Terminate') {
      const refs = certificateRefs(owner, at, hostname, field(tls, 'certificateRefs'), secrets, grants);
      certificates = refs.certificates;
      problems.push(...refs.problems);
      if (refs.certificates.length === 0 && refs.problems.length === 0) problems.push({ reason: 'InvalidCertificateRef', message: `a${protocol === 'HTTPS' ? 'n HTTPS' : ' TLS'} listener in Terminate mode needs tls.certificateRefs` });
    }
  }
  for (const p of problems) sink.report(owner.id, p.reason === 'RefNotPermitted' ? 'GatewayReferenceNotPermitted' : 'GatewayListenerRefInvalid', 'error', `listener ${name}: ${p.message}`, at);
  const certificatesMissing = tlsMode === 'Terminate' && certificates.length === 0;
  const first = problems.find((p) => p.reason !== 'InvalidRouteKinds') ?? problems[0];
  const resolved = first === undefined ? isTrue('ResolvedRefs', 'ResolvedRefs', 'All references are resolved.') : isFalse('ResolvedRefs', first.reason, problems.map((p) => p.message).join('; '));
  const programmed = certificatesMissing ? isFalse('Programmed', 'Invalid', 'The listener has no usable certificate.') : isTrue('Programmed', 'Programmed', 'The listener is served.');
  return {
    ...base,
    hostname,
    tlsMode,
    kinds: kinds.valid,
    namespaces,
    certificates,
    accepted: true,
    programmed: !certificatesMissing,
    conditions: [isTrue('Accepted', 'Accepted', 'The listener is valid.'), programmed, resolved, isFalse('Conflicted', 'NoConflicts', 'No conflict.')],
  };
}

export function allowedNamespaces(value: unknown): AllowedNamespaces | { problem: string } {
  const from = field(value, 'from') ?? 'Same';
  if (from === 'Same' || from === 'All' || from === 'None') return { from };
  if (from !== 'Selector') return { problem: `allowedRoutes.namespaces.from ${JSON.stringify(from)} is not Same, All, Selector or None` };
  const selector = labelSelector(field(value, 'selector'));
  if ('problem' in selector) return { problem: `allowedRoutes.namespaces.selector: ${selector.problem}` };
  return { from, selector };
}

function allowedKinds(protocol: string, value: unknown): { valid: RouteKind[]; invalid: GroupKind[] } {
  const defaults = KINDS_OF_PROTOCOL[protocol] ?? [];
  if (!Array.isArray(value) || value.length === 0) return { valid: [...defaults], invalid: [] };
  const valid: RouteKind[] = [];
  const invalid: GroupKind[] = [];
  for (const k of value as unknown[]) {
    const group = field(k, 'group') ?? GATEWAY_API_GROUP;
    const kind = field(k, 'kind');
    const known = defaults.find((d) => d === kind);
    if (group === GATEWAY_API_GROUP && known !== undefined) {
      if (!valid.includes(known)) valid.push(known);
    } else invalid.push({ group: typeof group === 'string' ? group : '', kind: typeof kind === 'string' ? kind : '' });
  }
  return { valid, invalid };
}

/** A terminating listener's certificates: Secrets of its Gateway's namespace, or of another one a ReferenceGrant opens. */
function certificateRefs(owner: RankedOwner, at: string, hostname: string | null, value: unknown, secrets: ReadonlyMap<string, Identified>, grants: ReferenceGrants): { certificates: TLSCandidate[]; problems: { reason: string; message: string }[] } {
  const certificates: TLSCandidate[] = [];
  const problems: { reason: string; message: string }[] = [];
  for (const [i, ref] of (Array.isArray(value) ? (value as unknown[]) : []).entries()) {
    const group = field(ref, 'group') ?? '';
    const kind = field(ref, 'kind') ?? 'Secret';
    const name = field(ref, 'name');
    const namespace = field(ref, 'namespace') ?? owner.id.namespace;
    if (group !== '' || kind !== 'Secret' || typeof name !== 'string' || typeof namespace !== 'string') {
      problems.push({ reason: 'InvalidCertificateRef', message: `certificateRefs[${i}] must name a core Secret` });
      continue;
    }
    if (!grants.allows({ group: GATEWAY_API_GROUP, kind: owner.id.kind === 'ListenerSet' ? 'ListenerSet' : 'Gateway', namespace: owner.id.namespace }, { group: '', kind: 'Secret', namespace, name })) {
      problems.push({ reason: 'RefNotPermitted', message: `certificateRefs[${i}]: Secret ${namespace}/${name} is in another namespace and no ReferenceGrant there allows it` });
      continue;
    }
    const pair = readKeyPair(`${namespace}/${name}`, secrets.get(`${namespace}/${name}`));
    if ('code' in pair) {
      problems.push({ reason: 'InvalidCertificateRef', message: `certificateRefs[${i}]: ${pair.message}` });
      continue;
    }
    const hosts = hostname !== null ? [hostname] : certificateNames(pair.certPem);
    if (hosts.length === 0) {
      problems.push({ reason: 'InvalidCertificateRef', message: `certificateRefs[${i}]: Secret ${namespace}/${name} names no DNS host, and the listener has no hostname to serve it for` });
      continue;
    }
    certificates.push({ owner, ...(namespace === owner.id.namespace ? {} : { namespace }), secretName: name, hosts, provenance: `${at}/tls/certificateRefs/${i}` });
  }
  return { certificates, problems };
}

/** The DNS names of a certificate's subjectAltName (lower case), else its subject's CN. */
function certificateNames(certPem: string): string[] {
  const cert = new X509Certificate(certPem);
  const names = (cert.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4).toLowerCase());
  if (names.length > 0) return [...new Set(names)];
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn === undefined ? [] : [cn.toLowerCase()];
}

/**
 * Listeners of one Gateway that are not distinct (apis/v1/gateway_types.go, "Distinct Listeners"):
 * on one port, HTTP with HTTPS or TLS, or TCP with any of them, is a ProtocolConflict for all of
 * them; two of one kind (HTTP; HTTPS and TLS, which share a TLS handshake; TCP; UDP) on one port
 * with the same hostname a HostnameConflict. None of a conflicting set is served. TLS listeners of
 * both modes on one port are distinct (TLSRouteModeMixed): the SNI name of each connection chooses
 * a route, terminated here or passed through (prepared-streams.ts), whichever listener it came from.
 */
export function markConflicts(listeners: readonly Unchecked[], sink: DiagnosticSink): GatewayListener[] {
  const family = (p: string): string => (p === 'HTTPS' || p === 'TLS' ? 'tls' : p === 'UDP' ? 'udp' : p === 'TCP' ? 'tcp' : 'http');
  const conflict = new Map<Unchecked, string>();
  const candidates = listeners.filter((l) => l.accepted);
  for (const l of candidates) {
    const samePort = candidates.filter((o) => o.port === l.port && family(o.protocol) !== 'udp' && family(l.protocol) !== 'udp');
    if (samePort.some((o) => family(o.protocol) !== family(l.protocol))) conflict.set(l, 'ProtocolConflict');
  }
  for (const l of candidates) {
    if (conflict.has(l)) continue;
    const twins = candidates.filter((o) => o !== l && o.port === l.port && family(o.protocol) === family(l.protocol) && o.hostname === l.hostname);
    if (twins.length > 0) conflict.set(l, 'HostnameConflict');
  }
  return listeners.map((l) => {
    const reason = conflict.get(l);
    if (reason === undefined) return l;
    const message = reason === 'ProtocolConflict' ? `port ${l.port} is used by listeners of different protocols` : `another listener on port ${l.port} has the same hostname`;
    sink.report(l.gateway.id, 'GatewayListenerConflicted', 'error', `listener ${l.name}: ${message}; it is not served`, l.provenance);
    const resolved = l.conditions.find((c) => c.type === 'ResolvedRefs')!;
    return { ...l, accepted: false, programmed: false, conditions: [isFalse('Accepted', reason, message), isFalse('Programmed', reason, message), resolved, isTrue('Conflicted', reason, message)] };
  });
}

/** The table listener of a programmed Gateway listener; on one of `own` ports, the data plane's own socket (port null). */
export function tableListener(l: GatewayListener, own: { readonly http: number | null; readonly https: number | null }, address?: string): Listener {
  const protocol = l.protocol as Listener['protocol'];
  const onOwn = (protocol === 'HTTP' && l.port === own.http) || ((protocol === 'HTTPS' || protocol === 'TLS') && l.port === own.https);
  return {
    name: l.tableName,
    protocol,
    port: onOwn ? null : l.port,
    ...(address === undefined ? {} : { address }),
    // A TLS listener's routes carry the SNI names (the hostname narrowed them already).
    hostname: protocol === 'TLS' ? null : l.hostname,
    tls: l.tlsMode === 'Terminate' ? { certificates: [...new Set(l.certificates.map((c) => `${c.namespace ?? c.owner.id.namespace}/${c.secretName}`))].sort() } : null,
    defaultRoute: false,
    provenance: l.provenance,
  };
}

/** Whether `l` takes routes from `namespace`, whose labels are `labels`. */
export function allowsNamespace(l: GatewayListener, namespace: string, labels: Readonly<Record<string, string>> | undefined): boolean {
  return namespaceAllowed(l.namespaces, l.gateway.id.namespace, namespace, labels);
}

/** Whether `allowed` (of an object in namespace `home`) takes an object of `namespace`, whose labels are `labels`. */
export function namespaceAllowed(allowed: AllowedNamespaces, home: string, namespace: string, labels: Readonly<Record<string, string>> | undefined): boolean {
  switch (allowed.from) {
    case 'All':
      return true;
    case 'None':
      return false;
    case 'Same':
      return namespace === home;
    case 'Selector':
      return labels !== undefined && 'matches' in allowed.selector && allowed.selector.matches(labels);
  }
}

