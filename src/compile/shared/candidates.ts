/**
 * What a front end hands to the back half: route candidates and the rest of what its API asks for,
 * with every backend still a reference to a Service port. Front ends translate their objects into
 * these; the back half (virtual-hosts.ts, default-backend.ts, clusters.ts, tls.ts) resolves the
 * references against Services, EndpointSlices and Secrets and merges the candidates into the table.
 *
 * Candidates are plain data (the back-half goldens write them as YAML); the one thing a front end
 * gives as code is its precedence comparator, since every API orders its routes its own way.
 */
import type { ClientCertificateAuth, DefaultBackendFilter, Filter, Listener, MirrorFilter, Provenance, RequestHeaderFilter, Route, ScriptFilter, VirtualHost } from '../../model/table.ts';
import type { ClusterOverrides } from '../../model/policy.ts';
import type { HostTlsParameters } from '../../model/tls-parameters.ts';
import type { ObjectIdentity } from './objects.ts';

/** An object that contributes to the table, with its place in age order (0 = oldest); see age.ts. */
export interface RankedOwner {
  readonly id: ObjectIdentity;
  /** Its index among the front end's objects, oldest first: the lower rank wins a conflict. */
  readonly rank: number;
  /** Creation time in ms, null when unknown; see age.ts. */
  readonly created: number | null;
}

/** A reference to a port of a Service in the namespace the reference is read in. */
export interface ServiceRef {
  readonly service: string;
  /** The port as referenced: a number (`spec.ports[].port`) or a name (`spec.ports[].name`). */
  readonly port: number | string;
  /**
   * `UDP` for a UDP stream route's backend, which must resolve to a UDP Service port; absent for
   * every other use, which needs a TCP one.
   */
  readonly protocol?: 'UDP';
}

/**
 * A reference to a port of a Service in `namespace`, as a route's backend or mirror names it, with
 * the cluster settings the route gives for it (see {@link ClusterOverrides}: they win over the
 * Service's). References to one Service port with different overrides get different clusters;
 * absent or empty overrides keep the Service port's own cluster, `ns/svc:80`.
 */
export interface ServiceBackendRef extends ServiceRef {
  readonly namespace: string;
  readonly overrides?: ClusterOverrides;
  /** The ReferenceGrant allowing it when `namespace` is not the owner's (see `WeightedBackend.referenceGrant`). */
  readonly referenceGrant?: Provenance;
}

/** A weighted backend of a candidate route, before its Service is resolved to a cluster. */
export interface BackendCandidate {
  /** Null when the front end could not make a Service reference of it: its share is answered 500. */
  readonly service: ServiceBackendRef | null;
  /** 0..1,000,000; a backend with weight 0 gets no request. */
  readonly weight: number;
  readonly provenance: Provenance;
  /** Header edits of the requests sent to this backend alone ({@link WeightedBackend.filters}). */
  readonly filters?: readonly RequestHeaderFilter[];
}

/** {@link MirrorFilter} before its Service is resolved to a cluster. */
export interface MirrorFilterCandidate {
  readonly type: 'RequestMirror';
  readonly service: ServiceBackendRef;
  readonly percent: number;
}

/** {@link DefaultBackendFilter} before its Service is resolved to a cluster. */
export interface DefaultBackendFilterCandidate extends Omit<DefaultBackendFilter, 'cluster'> {
  readonly service: ServiceBackendRef;
}

/**
 * A filter of a candidate route: any table filter, except that a mirror and a default backend name
 * a Service, and no RouteScript filter (scripts attach to placed routes later, see route-scripts.ts).
 */
export type FilterCandidate = Exclude<Filter, MirrorFilter | ScriptFilter | DefaultBackendFilter> | MirrorFilterCandidate | DefaultBackendFilterCandidate;

/** A {@link Route} whose backends and filters still reference Services. */
export interface CandidateRoute extends Omit<Route, 'backends' | 'filters'> {
  readonly backends: readonly BackendCandidate[];
  readonly filters: readonly FilterCandidate[];
}

/** A validated host: the lower-case name and how it matches. */
export interface HostName {
  readonly host: string;
  readonly match: VirtualHost['match'];
}

/** One route a front end asks for on one host. */
export interface RouteCandidate {
  readonly owner: RankedOwner;
  readonly host: HostName;
  /** The listeners that serve it, by name (see {@link FrontEndOutput.listeners}). */
  readonly listeners: readonly string[];
  readonly route: CandidateRoute;
  /**
   * Two candidates of one host with the same key are the same route: the first claim wins and the
   * other gets `RouteConflict`. The front end decides what "the same" means (Ingress: path type
   * and path without trailing slashes).
   */
  readonly conflictKey: string;
  /** The part of the object the host came from (an Ingress rule), listed in the host's provenance. */
  readonly ruleProvenance: Provenance;
  /**
   * The client-certificate check its owner asks for on the host; the host's first candidate (in
   * claim order) that carries one gives the virtual host's {@link VirtualHost.clientAuth}.
   */
  readonly clientAuth?: ClientCertificateAuth;
  /**
   * The TLS parameters its owner asks for on the host; field by field, the host's first candidate
   * (in claim order) that sets a field gives it to {@link VirtualHost.tlsParameters}.
   */
  readonly tlsParameters?: HostTlsParameters;
  /**
   * What the host's TLS parameters are, field by field, when no candidate of it sets that field
   * (ingress-nginx: the ConfigMap's `ssl-ciphers`, `ssl-protocols`, `ssl-prefer-server-ciphers`).
   */
  readonly tlsDefaults?: HostTlsParameters;
}

/** A route for what no virtual host or route takes; the first claim wins. */
export interface DefaultRouteCandidate {
  readonly owner: RankedOwner;
  readonly route: CandidateRoute;
}

/** A certificate a front end asks for: a `kubernetes.io/tls` Secret, in the owner's namespace unless `namespace` says. */
export interface TLSCandidate {
  readonly owner: RankedOwner;
  /** The Secret's namespace when it is not the owner's (a Gateway's certificateRef with a ReferenceGrant). */
  readonly namespace?: string;
  readonly secretName: string;
  /** Lower-case SNI names, never empty. */
  readonly hosts: readonly string[];
  readonly provenance: Provenance;
}

/**
 * Orders the routes of one virtual host: negative when `a` is tried before `b`. It must be total
 * (ties only between candidates that are the same claim), so that the table is deterministic.
 */
export type RoutePrecedence = (a: RouteCandidate, b: RouteCandidate) => number;

/** Everything one front end asks of the back half, each list in claim order (first claim wins). */
export interface FrontEndOutput {
  /** Sorted by name. */
  readonly listeners: readonly Listener[];
  readonly routes: readonly RouteCandidate[];
  readonly defaultRoutes: readonly DefaultRouteCandidate[];
  readonly tls: readonly TLSCandidate[];
  readonly precedence: RoutePrecedence;
}
