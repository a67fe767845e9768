/**
 * The routing table: the intermediate representation (IR) that `compile` produces and the data
 * plane serves. It is plain data — JSON-serialisable, deterministic for a given snapshot, and frozen
 * once published — so that it can be diffed, golden-tested, shown at `/debug/table` and posted to
 * worker threads as it is.
 *
 * Shape: virtual hosts → routes → clusters (a Service port) → endpoints, plus TLS certificates and
 * the diagnostics that explain what was dropped. Every node carries provenance: a path of the form
 * `Kind/namespace/name/...` naming the object (and the part of it) that produced the node, so that
 * any routing decision can be traced back to the YAML a user wrote.
 */
import type { ClusterPolicy } from './policy.ts';

/**
 * Where a node of the table came from, for example `Ingress/shop/storefront/rule/0/path/1`,
 * `Ingress/shop/storefront/defaultBackend` or `EndpointSlice/shop/web-abc12/endpoint/3`.
 */
export type Provenance = string;

/**
 * How a route's path is compared with the request path.
 * - `Exact`: the whole path, case-sensitively.
 * - `Prefix`: element-wise on `/`-separated segments: `/foo` matches `/foo`, `/foo/` and
 *   `/foo/bar`, not `/foobar`. A trailing slash on the route's path is ignored.
 * The Ingress `ImplementationSpecific` type compiles to `Prefix` (documented in the README).
 */
export type PathMatchType = 'Exact' | 'Prefix';

/** One route: a path match and the cluster that serves it. */
export interface Route {
  /** How `path` is compared; see {@link PathMatchType}. */
  readonly pathType: PathMatchType;
  /**
   * The path as written (after validation). For `Prefix`, matching ignores a trailing slash, so
   * `/foo/` and `/foo` are the same route.
   */
  readonly path: string;
  /** Key into {@link RoutingTable.clusters}. */
  readonly cluster: string;
  /** The Ingress path (or default backend) this route came from. */
  readonly provenance: Provenance;
  /**
   * Key into {@link RoutingTable.scripts} (`namespace/name`) of the RouteScript that runs on this
   * route's requests; absent when none does. A route has at most one script.
   */
  readonly script?: string;
}

/**
 * A virtual host: every route for one host name, merged across Ingresses, in precedence order
 * (longest path first; `Exact` before `Prefix` when the lengths tie; then the older Ingress).
 */
export interface VirtualHost {
  /**
   * The host as matched, lower-case: `shop.example.com`, `*.example.com` (one label only), or `*`
   * for rules that name no host.
   */
  readonly host: string;
  /** `exact` for a plain name, `wildcard` for `*.suffix`, `any` for rules without a host. */
  readonly match: 'exact' | 'wildcard' | 'any';
  /** Routes in precedence order. */
  readonly routes: readonly Route[];
  /** Every Ingress rule that contributed to this host, in the order they were merged. */
  readonly provenance: readonly Provenance[];
}

/**
 * One address of a cluster, from an EndpointSlice. Only `ready` endpoints get new traffic;
 * endpoints that are `serving && terminating` are used only when no endpoint is ready.
 */
export interface Endpoint {
  /** IPv4 or IPv6 address, without brackets. */
  readonly address: string;
  readonly port: number;
  /**
   * Relative share of traffic for balancing policies that weigh endpoints: an integer from 1 to
   * 1000, default 1. From the Service annotation `signalbox.dev/endpoint-weights` when it names
   * this address, else from the EndpointSlice annotation `signalbox.dev/weight`.
   */
  readonly weight: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly zone?: string;
  readonly nodeName?: string;
  readonly provenance: Provenance;
}

/**
 * A cluster: one port of one Service, and the endpoints behind it. Named `namespace/service:port`:
 * - when the backend resolves to a TCP port of the Service, port is that port's number
 *   (`spec.ports[].port`) however the Ingress referenced it, so references by number and by name
 *   to one Service port share one cluster (`shop/web:80`), whose provenance lists them all;
 * - when it does not (Service missing, port missing or not TCP, ExternalName), port is as
 *   referenced (`shop/web:8080`, `shop/web:http`): one cluster per reference, `servicePort` null,
 *   no endpoints.
 * A number in a name always means `spec.ports[].port` and a port name always has a letter, so an
 * unresolved name never equals a resolved one.
 */
export interface Cluster {
  readonly name: string;
  readonly namespace: string;
  readonly service: string;
  /** The Service port (`spec.ports[].port`) this cluster targets, or null if it could not be resolved. */
  readonly servicePort: number | null;
  /** The Service port's name ('' when unnamed): EndpointSlice ports are matched by this name. */
  readonly portName: string;
  /** Endpoints sorted by address then port, deduplicated. */
  readonly endpoints: readonly Endpoint[];
  /**
   * How traffic is spread, checked, retried and limited: compiled from the `signalbox.dev/*`
   * annotations of the Service (every port of a Service shares one policy). A cluster whose
   * backend does not resolve to a Service port gets `DEFAULT_CLUSTER_POLICY`.
   */
  readonly policy: ClusterPolicy;
  /** The routes that send traffic here. */
  readonly provenance: readonly Provenance[];
}

/** Limits of one script run: see `ScriptLimits` in src/script. */
export interface CompiledScriptLimits {
  /** Wall-time budget per request (its code and its lookups), 1..1000 ms. */
  readonly timeoutMs: number;
  /** Heap limit of the script's isolate, 8..512 MiB. */
  readonly memoryMiB: number;
}

/** The service behind a script's `ctx.lookup(key)`. */
export interface CompiledScriptLookup {
  /** Key into {@link RoutingTable.clusters}: the lookup Service port. */
  readonly cluster: string;
  /** Request path, containing `{key}` (replaced by the URL-encoded key). */
  readonly path: string;
  /** How long an answer is cached, in milliseconds (0: not cached). */
  readonly cacheTtlMs: number;
  /** Timeout of one lookup request, in milliseconds. */
  readonly timeoutMs: number;
}

/**
 * A RouteScript, validated and resolved: everything the data plane needs to load it into the
 * script engine. Routes name it by key (`Route.script`).
 */
export interface CompiledScript {
  /** `namespace/name` of the RouteScript, also its key in {@link RoutingTable.scripts}. */
  readonly name: string;
  /** The module source, as written; it passed `checkScript`. */
  readonly code: string;
  /** `ctx.data`: `spec.data`, or the parsed ConfigMap key of `spec.dataFrom`; `{}` when neither. */
  readonly data: unknown;
  readonly limits: CompiledScriptLimits;
  /** `fallback`: a failed run leaves the request to the route's cluster; `reject`: answer `rejectStatus`. */
  readonly failurePolicy: 'fallback' | 'reject';
  /** The status of a request rejected by a failed run (400..599). */
  readonly rejectStatus: number;
  /**
   * The script's named backends → key into {@link RoutingTable.clusters}, keys sorted. Each is
   * resolved like an Ingress backend (same cluster names, same Service policy).
   */
  readonly backends: Readonly<Record<string, string>>;
  /** The lookup service, or null when the script declares none. */
  readonly lookup: CompiledScriptLookup | null;
  /**
   * An operator's pause (`spec.pause.enabled`): every request of the script's routes is held, in
   * arrival order, until the pause is lifted (then released gradually) or for at most `maxWaitMs`
   * (then 503 with Retry-After). Null when not paused.
   */
  readonly pause: { readonly maxWaitMs: number } | null;
  /**
   * True for a RouteScript that is invalid (its diagnostics say why) but fails closed: its
   * failurePolicy is reject, so its routes answer `rejectStatus` without running anything. Then
   * `code` is empty and `backends`, `lookup` and `pause` are empty too.
   */
  readonly invalid: boolean;
  /** `RouteScript/namespace/name`. */
  readonly provenance: Provenance;
}

/** A certificate and key (PEM) from a `kubernetes.io/tls` Secret, and the SNI names it serves. */
export interface Certificate {
  /** `namespace/secretName`. */
  readonly name: string;
  /** Lower-case SNI names: exact or `*.suffix`. A name appears in at most one certificate. */
  readonly hosts: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
  readonly provenance: readonly Provenance[];
}

/** How bad a diagnostic is: `error` dropped something, `warning` kept it with a caveat. */
export type Severity = 'error' | 'warning';

/**
 * A problem found in the input. Bad input never throws: the offending object, or only its bad
 * part, is dropped and a diagnostic says what and why.
 */
export interface Diagnostic {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Stable, machine-readable code, e.g. `IngressPathInvalid`, `ServiceNotFound`. */
  readonly code: string;
  readonly message: string;
  readonly severity: Severity;
  /** The part of the object concerned, in provenance form (`Ingress/ns/name/rule/0/path/1`). */
  readonly path?: Provenance;
}

/** A condition to report on an object, shaped like Kubernetes `metav1.Condition` minus timestamps. */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** Status collected during a compile, written back by the controller after publishing. */
export interface ObjectStatus {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly generation?: number;
  readonly conditions: readonly Condition[];
}

/** The routing table proper: what the data plane serves. */
export interface RoutingTable {
  /** Virtual hosts: exact hosts first, then wildcards, then `*`, each group sorted by name. */
  readonly virtualHosts: readonly VirtualHost[];
  /** Used when no virtual host or route matches; from the oldest Ingress with `spec.defaultBackend`. */
  readonly defaultRoute: Route | null;
  /** Clusters by name, keys in sorted order. */
  readonly clusters: Readonly<Record<string, Cluster>>;
  /** TLS certificates, sorted by name. */
  readonly certificates: readonly Certificate[];
  /**
   * RouteScripts by `namespace/name`, keys sorted: every one that is valid, compiles and has its
   * data, whether or not a route names it (one whose targets match nothing is listed, with a
   * warning).
   */
  readonly scripts: Readonly<Record<string, CompiledScript>>;
}

/** Everything one compile produces. */
export interface CompileResult {
  readonly table: RoutingTable;
  readonly statuses: readonly ObjectStatus[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * A table as published to the data plane: the compile result plus a version stamped by the
 * publisher (compile itself never reads a counter or a clock).
 */
export interface PublishedTable {
  readonly version: number;
  readonly table: RoutingTable;
  readonly diagnostics: readonly Diagnostic[];
}
