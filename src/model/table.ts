/**
 * The routing table: the intermediate representation (IR) that `compile` produces and the data
 * plane serves. It is plain data — JSON-serialisable, deterministic for a given snapshot, and frozen
 * once published — so that it can be diffed, golden-tested, shown at `/debug/table` and posted to
 * worker threads as it is.
 *
 * Shape: listeners → virtual hosts → routes (matches, ordered filters, weighted backends, timeouts)
 * → clusters (a Service port) → endpoints, plus TLS certificates, RouteScripts and the diagnostics
 * that explain what was dropped. Every node carries provenance: a path of the form
 * `Kind/namespace/name/...` naming the object (and the part of it) that produced the node, so that
 * any routing decision can be traced back to the YAML a user wrote.
 *
 * Parts of it live in files of their own and are re-exported here: the filters (filters.ts), the
 * listeners and stream routes (listeners.ts), the diagnostics and statuses (statuses.ts).
 */
import type { HostTlsParameters } from './tls-parameters.ts';
import type { ClusterOverrides, ClusterPolicy } from './policy.ts';

/**
 * Where a node of the table came from, for example `Ingress/shop/storefront/rule/0/path/1`,
 * `Ingress/shop/storefront/defaultBackend` or `EndpointSlice/shop/web-abc12/endpoint/3`.
 */
export type Provenance = string;

/**
 * How a route's path is compared with the request path (the normalised path, without the query).
 * - `Exact`: the whole path, case-sensitively.
 * - `Prefix`: element-wise on `/`-separated segments: `/foo` matches `/foo`, `/foo/` and
 *   `/foo/bar`, not `/foobar`. A trailing slash on the route's path is ignored.
 * - `RegularExpression`: the pattern must match the whole path (it is anchored at both ends), run
 *   by a linear-time engine; see src/regex/ for the syntax accepted.
 * The Ingress `ImplementationSpecific` type compiles to `Prefix` (documented in the README).
 */
export type PathMatchType = 'Exact' | 'Prefix' | 'RegularExpression';

/** How a header or query parameter value is compared: the whole value, or a regular expression. */
export type ValueMatchType = 'Exact' | 'RegularExpression';

/** The path condition of a route. */
export interface PathMatch {
  readonly type: PathMatchType;
  /**
   * The path as written (after validation), or the pattern. For `Prefix`, matching ignores a
   * trailing slash, so `/foo/` and `/foo` match the same requests.
   */
  readonly value: string;
  /** `RegularExpression` only: compare without regard to case (ingress-nginx's `~*`). */
  readonly ignoreCase?: true;
}

/** A header condition: the request has a header `name` whose value matches. */
export interface HeaderMatch {
  /** Lower case. */
  readonly name: string;
  readonly type: ValueMatchType;
  /**
   * The value, or an anchored pattern. A header sent more than once is compared as its values
   * joined with `, ` (RFC 9110 §5.3).
   */
  readonly value: string;
}

/** A query-parameter condition: the first parameter named `name` (case-sensitive) matches. */
export interface QueryMatch {
  readonly name: string;
  readonly type: ValueMatchType;
  /** The decoded value, or an anchored pattern. */
  readonly value: string;
}

/**
 * The conditions a request must meet to take a route, all of them. Only `path` is always present;
 * the others are absent when the route does not test them.
 */
export interface RouteMatch {
  readonly path: PathMatch;
  /** Upper case, e.g. `GET`. */
  readonly method?: string;
  readonly headers?: readonly HeaderMatch[];
  readonly queryParams?: readonly QueryMatch[];
}

/** One backend of a route and its share of the route's requests. */
export interface WeightedBackend {
  /**
   * Key into {@link RoutingTable.clusters}; null when the front end could not resolve the reference
   * at all (a Gateway API backendRef to an unknown kind): that backend's share is answered 500.
   */
  readonly cluster: string | null;
  /** 0..1,000,000; a backend with weight 0 gets no request. */
  readonly weight: number;
  /** The backend reference this came from. */
  readonly provenance: Provenance;
  /**
   * Set when the cluster is in another namespace than the route's owner: the ReferenceGrant (in the
   * cluster's namespace) that allows it, `ReferenceGrant/namespace/name`. Without one a route
   * reaches only Services of its own namespace (checked by checkTable).
   */
  readonly referenceGrant?: Provenance;
  /**
   * Header edits of the requests sent to this backend alone (a Gateway API backendRef's
   * RequestHeaderModifier filters), made after the route's own filters once the backend is picked.
   * Absent: none.
   */
  readonly filters?: readonly RequestHeaderFilter[];
}

// The filters of a route (request and response steps, the route model's third part) are in
// filters.ts; the table's users import them from here as well.
export type * from './filters.ts';
import type { Filter, RequestHeaderFilter, ValueMatch } from './filters.ts';

/** Per-route time limits in milliseconds; absent ones fall back to the cluster's and the flags'. */
export interface RouteTimeouts {
  /** From the request's arrival to the last byte of the response head, retries included: 504 past it. */
  readonly requestMs?: number;
  /** One attempt upstream, from dispatch to the response head: 504 past it (a retry may follow). */
  readonly backendRequestMs?: number;
}

/** One route: the conditions a request must meet, what is done to it, and where it goes. */
export interface Route {
  readonly match: RouteMatch;
  /**
   * Where matching requests go, picked per request by weight. Empty when the front end names no
   * backend: then a filter must answer (a redirect), else the request gets 500.
   */
  readonly backends: readonly WeightedBackend[];
  /** In order; see {@link Filter}. */
  readonly filters: readonly Filter[];
  /** Absent when the route sets none. */
  readonly timeouts?: RouteTimeouts;
  /**
   * False: the route's requests write no access-log line (ingress-nginx's `enable-access-log:
   * "false"`); metrics still count them. Absent: logged, when the data plane logs at all.
   */
  readonly accessLog?: false;
  /**
   * Requests whose target as sent (path and query: nginx's `$request_uri`) matches one of these
   * write no access-log line (ingress-nginx's `skip-access-log-urls`); they are still counted.
   * Absent: none is skipped. Never with `accessLog: false`, which skips them all.
   */
  readonly accessLogSkip?: readonly ValueMatch[];
  /**
   * True: the request goes upstream with `X-Original-URI`, the request target as the client sent
   * it (path and query), replacing any the client sent (ingress-nginx's
   * `proxy-add-original-uri-header`). Absent: a client's own X-Original-URI passes unchanged.
   */
  readonly originalUriHeader?: true;
  /**
   * A request whose affinity cookie pins it to a usable endpoint of one of the backends' clusters
   * goes to that backend, whatever the weights (one of weight 0 too); the others are picked by
   * weight. ingress-nginx's canaries: a client once served by the main Ingress or its canary stays
   * there (`affinity-canary-behavior`). Absent: by weight only.
   */
  readonly stickyBackends?: true;
  /**
   * `any`: the route's access checks admit a request when one of them does — its ClientAddress
   * filters (together, one address list) or its BasicAuth (nginx's `satisfy any`); a request
   * neither admits gets BasicAuth's 401. Only on a route with both kinds, adjacent, and without
   * ExternalAuth. Absent: every filter must let the request through (`satisfy all`).
   */
  readonly satisfy?: 'any';
  /** The Ingress path (or default backend, or route rule) this route came from. */
  readonly provenance: Provenance;
}

// The listeners (where requests and streams arrive) and the layer-4 stream routes are in
// listeners.ts; the table's users import them from here as well.
export type * from './listeners.ts';
import type { Listener, StreamRoute } from './listeners.ts';

/**
 * A virtual host: every route for one host name, merged across Ingresses, in precedence order
 * (longest path first; `Exact` before `Prefix` when the lengths tie; then the older Ingress).
 */
export interface VirtualHost {
  /**
   * The host as matched, lower-case: `shop.example.com`, `*.example.com`, or `*` for rules that
   * name no host.
   */
  readonly host: string;
  /**
   * `exact` for a plain name; `wildcard` for `*.suffix` taking one more label (Ingress: `*.example.com`
   * takes `a.example.com`, not `a.b.example.com`); `suffix` for `*.suffix` taking one or more labels
   * (the Gateway API's wildcard: `*.example.com` takes `a.b.example.com` too, the longest suffix
   * first, after exact hosts and one-label wildcards); `any` for rules without a host.
   */
  readonly match: 'exact' | 'wildcard' | 'suffix' | 'any';
  /**
   * Routes in precedence order: a request takes the first whose match holds. The front end sorts
   * them (Ingress: longest path first, Exact before Prefix on a tie, then the older Ingress).
   */
  readonly routes: readonly Route[];
  /** The names of the {@link Listener}s that serve this host, sorted. */
  readonly listeners: readonly string[];
  /** Every Ingress rule that contributed to this host, in the order they were merged. */
  readonly provenance: readonly Provenance[];
  /**
   * Client-certificate authentication at TLS termination; absent when the host asks for none. It
   * is the host's, not a route's (ingress-nginx sets it on the server): every route of the host
   * is served only on connections whose SNI name chose this host, with the check made.
   */
  readonly clientAuth?: ClientCertificateAuth;
  /**
   * The cipher list (and versions, and whose cipher order wins) of TLS handshakes whose SNI name
   * reaches this host; absent: the listener's. The host's, as nginx's server-level `ssl_ciphers`.
   * A handshake without SNI, or for a name no host takes, gets the listener's.
   */
  readonly tlsParameters?: HostTlsParameters;
}

/**
 * How a virtual host verifies client certificates (ingress-nginx's `auth-tls-*`; the Gateway API's
 * `spec.tls.frontend` validation, put on the virtual hosts of the HTTPS listeners of its port). The data plane
 * asks for a certificate only in handshakes whose SNI name is such a host, OpenSSL verifies it
 * against {@link caPem} (and {@link crlPem}), and each request of the host is then checked:
 * - `on`: a verified certificate is required: none, or one that fails, is answered 400 (or
 *   redirected to {@link errorPage});
 * - `optional`: a certificate is asked for but may be missing; one sent must verify (else 400);
 * - `optional_no_ca`: asked for, may be missing, and one that does not verify is let through
 *   (the upstream sees `ssl-client-verify: FAILED:<reason>`).
 * A request whose Host is this host on a connection whose SNI was not is answered 421.
 */
export interface ClientCertificateAuth {
  /**
   * `namespace/name` of the Secret holding the CA bundle (the Gateway API's ConfigMaps or Secrets:
   * each reference's `namespace/name`, comma-separated).
   */
  readonly secret: string;
  /** The trusted CA certificates, PEM (`ca.crt`). */
  readonly caPem: string;
  /** A certificate revocation list, PEM (`ca.crl`); null without one. */
  readonly crlPem: string | null;
  readonly verify: 'on' | 'optional' | 'optional_no_ca';
  /** The most CA certificates above the client's in its chain (OpenSSL's verify depth), 1 or more. */
  readonly depth: number;
  /** Where a request without a valid certificate is redirected (302) instead of answered 400; null: 400. */
  readonly errorPage: string | null;
  /** Send the client's certificate upstream, URL-escaped PEM, in `ssl-client-cert`. */
  readonly passCertificate: boolean;
  /**
   * A pattern the subject DN (`CN=client,O=Example`, RFC 2253 order) must contain a match of,
   * else 403; null: any subject. A search, not a whole-string match, as nginx's `~`.
   */
  readonly matchCN: string | null;
  /**
   * Refuse the handshake itself when the client sends no certificate, or one that does not verify
   * (the Gateway API's `AllowValidOnly`): no request is read on such a connection. Only with
   * {@link verify} `on`. Absent: false, the handshake completes and the request is answered.
   */
  readonly rejectUnverified?: boolean;
  /** The Ingress annotation (or Gateway field) it came from. */
  readonly provenance: Provenance;
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
 * A cluster: one port of one Service, and the endpoints behind it. Named `namespace/service:port`
 * (a UDP port's: `namespace/service:port/UDP`, so that DNS's TCP and UDP port 53 are two clusters):
 * - when the backend resolves to a TCP port of the Service, port is that port's number
 *   (`spec.ports[].port`) however the Ingress referenced it, so references by number and by name
 *   to one Service port share one cluster (`shop/web:80`), whose provenance lists them all;
 * - when it does not (Service missing, port missing or not TCP, ExternalName), port is as
 *   referenced (`shop/web:8080`, `shop/web:http`): one cluster per reference, `servicePort` null,
 *   no endpoints.
 * A number in a name always means `spec.ports[].port` and a port name always has a letter, so an
 * unresolved name never equals a resolved one. A resolved reference whose route gives
 * {@link ClusterOverrides} gets a cluster of its own, `shop/web:80~<digest of the overrides>`
 * (src/model/override-digest.ts): every reference with the same overrides shares it.
 */
export interface Cluster {
  readonly name: string;
  readonly namespace: string;
  readonly service: string;
  /** The Service port (`spec.ports[].port`) this cluster targets, or null if it could not be resolved. */
  readonly servicePort: number | null;
  /** The Service port's name ('' when unnamed): EndpointSlice ports are matched by this name. */
  readonly portName: string;
  /**
   * `UDP` for a cluster of a UDP Service port, which only UDP stream routes use; absent for TCP,
   * which HTTP routes, TLS passthrough and TCP stream routes use.
   */
  readonly transport?: 'UDP';
  /** Endpoints sorted by address then port, deduplicated. */
  readonly endpoints: readonly Endpoint[];
  /**
   * How traffic is spread, checked, retried and limited: compiled from the `signalbox.dev/*`
   * annotations of the Service (every port of a Service shares one policy). A cluster whose
   * backend does not resolve to a Service port gets `DEFAULT_CLUSTER_POLICY`.
   */
  readonly policy: ClusterPolicy;
  /**
   * What the routes set on top of the Service's policy (already applied in {@link policy}), in
   * canonical form; absent when they set nothing, and always on an unresolved cluster, which
   * keeps the default policy. Its Secret and ConfigMap references are names, never their content.
   */
  readonly overrides?: ClusterOverrides;
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
 * script engine. Routes name it by key in a `RouteScript` filter.
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
  /**
   * True when only listeners' own certificate lists name it (a Gateway listener's
   * `certificateRefs`), no Ingress TLS entry: it is offered only on the sockets of the listeners
   * that list it, never by one that offers every certificate ({@link Listener.tls} null) — so a
   * Gateway listener's certificate does not answer handshakes on ports it is not served on.
   * Absent: offered by those too.
   */
  readonly listenerBound?: true;
  readonly provenance: readonly Provenance[];
}

// Diagnostics and the statuses a compile collects (Severity, Diagnostic, Condition, ObjectStatus…).
export type * from './statuses.ts';
import type { Diagnostic, ObjectStatus } from './statuses.ts';

/** The routing table proper: what the data plane serves. */
export interface RoutingTable {
  /** Where requests arrive, sorted by name. */
  readonly listeners: readonly Listener[];
  /** Virtual hosts: exact hosts first, then wildcards, then `*`, each group sorted by name. */
  readonly virtualHosts: readonly VirtualHost[];
  /**
   * The layer-4 routes of the TLS, TCP and UDP listeners, sorted by listener, then by first
   * hostname. Empty unless passthrough or TCP/UDP services are configured.
   */
  readonly streamRoutes: readonly StreamRoute[];
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
  /**
   * The request header, lower-case, whose address chain names the client when the peer is a
   * trusted proxy (`--trusted-proxies`): the right-most address in it that is not trusted, as
   * nginx's real-IP module with `real_ip_header` and recursion on (ingress-nginx's
   * `forwarded-for-header`). Absent: `x-forwarded-for`. X-Forwarded-For is still what goes
   * upstream; this header passes as the client sent it.
   */
  readonly clientAddressHeader?: string;
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
