/**
 * A route's `backendRefs` (and a mirror's `backendRef`): core Services only, by name and port, in
 * the route's namespace or in another one a ReferenceGrant opens. A reference that cannot be used
 * keeps its weight and answers 500 for its share, as the specification asks; why is a
 * {@link RouteProblem} for the route's ResolvedRefs.
 */
import type { BackendClientCertificate, ClusterOverrides } from '../../model/policy.ts';
import type { RequestHeaderFilter } from '../../model/table.ts';
import { headerEdits } from './header-edits.ts';
import type { BackendCandidate, ServiceBackendRef } from '../shared/candidates.ts';
import { field, isPortNumber, isUnset } from '../shared/guards.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import { GATEWAY_API_GROUP } from './names.ts';
import type { ParentReference } from '../../model/table.ts';
import type { BackendTlsPolicies } from './backend-tls-policies.ts';
import type { AppProtocolOf } from './grpc-matches.ts';
import type { ParentResult } from './parent-refs.ts';
import type { ReferenceGrants } from './reference-grants.ts';
import type { RouteProblem } from './route-problems.ts';

/** The most a backendRef's weight may be. */
const MAX_WEIGHT = 1_000_000;

/** A Service reference read from a BackendObjectReference, or why it is none. */
/** What resolving a route's backendRefs reads, and how the route uses them. */
export interface BackendUse {
  readonly grants: ReferenceGrants;
  /** A Service port's appProtocol ('' for none), or null when the Service or the port does not exist. */
  readonly appProtocolOf: AppProtocolOf;
  /** A Service port's name ('' for none), or null when the Service or the port does not exist. */
  readonly portNameOf: AppProtocolOf;
  /** The BackendTLSPolicies, where they apply (HTTP and gRPC routes); null where they do not (passthrough, TCP, UDP). */
  readonly tls: BackendTlsPolicies | null;
  /** The Gateways the route is accepted by: the ancestors a BackendTLSPolicy reports. */
  readonly gateways: readonly ParentReference[];
  /** gRPC: a BackendTLSPolicy's backends speak HTTP/2 over TLS. */
  readonly h2: boolean;
  /**
   * The client certificate a parent (a Gateway, or a ListenerSet's Gateway) presents to backends
   * over TLS (`spec.tls.backend`); null when it names none.
   */
  readonly backendCertificateOf: (parent: ParentReference) => BackendClientCertificate | null;
}

export function serviceRef(route: ObjectIdentity, ref: unknown, at: string, use: BackendUse, overrides?: ClusterOverrides): ServiceBackendRef | RouteProblem {
  const { grants, appProtocolOf } = use;
  const group = field(ref, 'group') ?? '';
  const kind = field(ref, 'kind') ?? 'Service';
  const name = field(ref, 'name');
  const namespace = field(ref, 'namespace') ?? route.namespace;
  if (group !== '' || kind !== 'Service') return { reason: 'InvalidKind', message: `${String(group) === '' ? '' : `${String(group)}/`}${String(kind)} is not a kind signalbox sends requests to (only Service)`, path: at };
  if (typeof name !== 'string' || name === '' || typeof namespace !== 'string') return { reason: 'UnsupportedValue', message: 'the reference needs a name', path: at };
  const port = field(ref, 'port');
  if (!isPortNumber(port)) return { reason: 'UnsupportedValue', message: `Service ${name} needs a port`, path: at };
  const grant = namespace === route.namespace ? null : grants.grantFor({ group: GATEWAY_API_GROUP, kind: route.kind, namespace: route.namespace }, { group: '', kind: 'Service', namespace, name });
  if (namespace !== route.namespace && grant === null) {
    return { reason: 'RefNotPermitted', message: `Service ${namespace}/${name} is in another namespace and no ReferenceGrant there allows ${route.kind}s of ${route.namespace} to use it`, path: at };
  }
  // The specification answers 500 for a Service that does not exist (the back half would answer 503, as for one without endpoints).
  if (appProtocolOf(namespace, name, port) === null) return { reason: 'BackendNotFound', message: `Service ${namespace}/${name} with port ${port} not found`, path: at };
  const policy = use.tls?.forBackend(namespace, name, use.portNameOf(namespace, name, port) ?? '', use.gateways);
  if (policy !== undefined && 'refused' in policy) return { reason: 'UnsupportedProtocol', message: `${policy.policy} cannot be applied (${policy.refused}): Service ${namespace}/${name} is not reached without the TLS it asks for`, path: at };
  let tls: ClusterOverrides | undefined = overrides;
  if (policy !== undefined) {
    const certificate = clientCertificateOf(use);
    if (certificate === 'differ') return { reason: 'UnsupportedProtocol', message: `the route's Gateways present different client certificates (spec.tls.backend) to backends over TLS, and Service ${namespace}/${name} is reached by one connection pool: attach the route to Gateways that agree`, path: at };
    const gatewayClientCertificate = certificate === null ? undefined : { secret: certificate.secret, problem: certificate.problem };
    tls = { ...overrides, protocol: use.h2 ? 'h2' : 'https', tls: gatewayClientCertificate === undefined ? policy.tls : { ...policy.tls, gatewayClientCertificate } };
  }
  return { namespace, service: name, port, ...(tls === undefined ? {} : { overrides: tls }), ...(grant === null ? {} : { referenceGrant: grant }) };
}

/**
 * The client certificate the route's Gateways present to its TLS backends: the one they all name,
 * null when none names one, 'differ' when they do not all present the same (one naming none
 * included: its requests would go out with another Gateway's certificate).
 */
function clientCertificateOf(use: BackendUse): BackendClientCertificate | null | 'differ' {
  // One compile reads one Secret once: the same name and problem is the same key pair.
  const [first, ...rest] = use.gateways.map((parent) => use.backendCertificateOf(parent));
  if (first === undefined) return null;
  return rest.every((c) => c?.secret === first?.secret && c?.problem === first?.problem) ? first : 'differ';
}

/** The weighted backends of a rule, and the problems of the references that cannot be used. */
export function readBackendRefs(route: ObjectIdentity, refs: unknown, at: string, use: BackendUse, overrides?: ClusterOverrides): { backends: BackendCandidate[]; problems: RouteProblem[] } {
  const backends: BackendCandidate[] = [];
  const problems: RouteProblem[] = [];
  for (const [i, ref] of (Array.isArray(refs) ? (refs as unknown[]) : []).entries()) {
    const where = `${at}/backendRef/${i}`;
    const weightValue = field(ref, 'weight');
    const weight = isUnset(weightValue) ? 1 : typeof weightValue === 'number' && Number.isInteger(weightValue) && weightValue >= 0 ? Math.min(weightValue, MAX_WEIGHT) : -1;
    if (weight < 0) {
      problems.push({ reason: 'UnsupportedValue', message: 'weight must be an integer from 0 to 1000000', path: where });
      continue;
    }
    const filters = backendFilters(field(ref, 'filters'), where);
    // A filter signalbox cannot apply drops the rule, as on the rule itself: never served without it.
    if (!Array.isArray(filters)) problems.push(filters);
    const own = Array.isArray(filters) && filters.length > 0 ? { filters } : {};
    const service = serviceRef(route, ref, where, use, overrides);
    if ('reason' in service) {
      problems.push(service);
      backends.push({ service: null, weight, provenance: where, ...own });
    } else backends.push({ service, weight, provenance: where, ...own });
  }
  return { backends, problems };
}

/**
 * The filters of one backendRef: RequestHeaderModifier, at most once (HTTPBackendRef.filters and
 * GRPCBackendRef.filters). Any other type is a problem that drops the rule (UnsupportedValue).
 */
function backendFilters(value: unknown, at: string): RequestHeaderFilter[] | RouteProblem {
  const out: RequestHeaderFilter[] = [];
  for (const [i, f] of (Array.isArray(value) ? (value as unknown[]) : []).entries()) {
    const where = `${at}/filter/${i}`;
    const type = field(f, 'type');
    if (type !== 'RequestHeaderModifier') return { reason: 'UnsupportedValue', message: `filter type ${JSON.stringify(type)} is not supported on a backendRef (RequestHeaderModifier is); put it on the rule`, path: where };
    if (out.length > 0) return { reason: 'IncompatibleFilters', message: 'filter RequestHeaderModifier is given twice', path: where };
    const edits = headerEdits(field(f, 'requestHeaderModifier'));
    if (typeof edits === 'string') return { reason: 'UnsupportedValue', message: `requestHeaderModifier: ${edits}`, path: where };
    out.push({ type: 'RequestHeaderModifier', ...edits });
  }
  return out;
}

/** What resolving backendRefs reads, the same for every route of a compile. */
export type BackendLookup = Omit<BackendUse, 'gateways' | 'h2' | 'tls'> & { readonly tls: BackendTlsPolicies };

/**
 * How one route uses its backends: `h2` for gRPC, `tls` whether BackendTLSPolicies apply (they do
 * to HTTP and gRPC routes, not to passthrough, TCP and UDP), and the Gateways that accepted it.
 */
export function backendUse(lookup: BackendLookup, parents: readonly ParentResult[], h2: boolean, tls: boolean): BackendUse {
  const gateways = new Map<string, ParentReference>();
  for (const p of parents) if (p.accepted.status === 'True') gateways.set(`${p.ref.namespace}/${p.ref.name}`, { group: p.ref.group, kind: p.ref.kind, namespace: p.ref.namespace, name: p.ref.name });
  return { ...lookup, tls: tls ? lookup.tls : null, gateways: [...gateways.values()], h2 };
}
