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
 */
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
}

/** Headers to set (replace), add (append a value) or remove, in that order. */
export interface HeaderEdits {
  /** Lower-case names, each at most once across `set` and `add`. */
  readonly set?: readonly { readonly name: string; readonly value: string }[];
  readonly add?: readonly { readonly name: string; readonly value: string }[];
  /** Lower-case names. */
  readonly remove?: readonly string[];
}

/**
 * How a redirect or a rewrite changes the path.
 * - `ReplaceFullPath`: the path becomes `value`.
 * - `ReplacePrefixMatch`: the part of the path the route's `Prefix` match matched is replaced by
 *   `value` (only on a route whose path match is `Prefix`), segment-wise: Prefix `/foo` with value
 *   `/bar` turns `/foo/x` into `/bar/x` and `/foo` into `/bar`.
 * - `ReplaceRegexMatch`: the whole path is matched against `pattern` (anchored, linear-time) and
 *   replaced by `substitution`, where `$1`..`$9` name its capture groups; a path that does not
 *   match is left unchanged by a rewrite, and not redirected by a redirect (the request goes on).
 */
export type PathModifier =
  | { readonly type: 'ReplaceFullPath'; readonly value: string }
  | { readonly type: 'ReplacePrefixMatch'; readonly value: string }
  | { readonly type: 'ReplaceRegexMatch'; readonly pattern: string; readonly substitution: string };

/** Edits the request's headers before it goes upstream. */
export interface RequestHeaderFilter extends HeaderEdits {
  readonly type: 'RequestHeaderModifier';
}

/** Edits the upstream response's headers before they reach the client. */
export interface ResponseHeaderFilter extends HeaderEdits {
  readonly type: 'ResponseHeaderModifier';
}

/**
 * Answers with a redirect built from the request; every part not given is the request's own
 * (scheme, host, port — omitted from Location when it is the scheme's default — and path; the
 * query is kept).
 */
export interface RedirectFilter {
  readonly type: 'RequestRedirect';
  readonly scheme?: 'http' | 'https';
  readonly hostname?: string;
  readonly port?: number;
  readonly path?: PathModifier;
  /**
   * Replaces the request's query in Location: `''` for none, else `?` and the query as it is sent.
   * Absent: the request's own query is kept.
   */
  readonly query?: string;
  readonly statusCode: 301 | 302 | 303 | 307 | 308;
}

/** Rewrites what the upstream receives: its Host and/or its path (the client sees nothing of it). */
export interface RewriteFilter {
  readonly type: 'URLRewrite';
  readonly hostname?: string;
  readonly path?: PathModifier;
}

/**
 * Sends a copy of each request (a share of them, by `percent`) to another cluster and ignores its
 * answer. The copy carries no body beyond what it can take without holding the original back.
 */
export interface MirrorFilter {
  readonly type: 'RequestMirror';
  /** Key into {@link RoutingTable.clusters}. */
  readonly cluster: string;
  /** 1..100: the share of requests copied. */
  readonly percent: number;
}

/**
 * Gives each request an identifier the upstream (and the access log) can correlate on, as
 * ingress-nginx's `generate-request-id` does: a request that carries `header` (not empty) keeps it;
 * any other gets 32 random hexadecimal digits in that field. Nothing is sent back to the client.
 */
export interface RequestIdFilter {
  readonly type: 'RequestId';
  /** Lower case, e.g. `x-request-id`. */
  readonly header: string;
}

/** Runs a RouteScript: its `onRequest` in the request phase, its `onResponse` in the response phase. */
export interface ScriptFilter {
  readonly type: 'RouteScript';
  /** Key into {@link RoutingTable.scripts}. */
  readonly script: string;
}

/**
 * Where ExternalAuth sends a client the auth service answered 401 (ingress-nginx's `auth-signin`
 * and `auth-signin-redirect-param`): a 302 to `url`, which carries the original URL in the query
 * parameter `redirectParam`.
 */
export interface ExternalAuthSignin {
  /**
   * Absolute http or https URL. It may hold the nginx variables users write in `auth-signin`,
   * expanded per request: `$scheme` (and `$pass_access_scheme`), `$host` (the request's host name,
   * lower case, no port), `$http_host` (and `$best_http_host`: the host as the client named it),
   * `$request_uri` (the original target: path and query), `$escaped_request_uri` (the same,
   * percent-encoded as a query value) and `$request_method` (Authelia's `?rm=$request_method`).
   * No other variable.
   */
  readonly url: string;
  /**
   * The parameter that carries the original URL, `rd` by default in ingress-nginx. When `url`'s
   * query has no such parameter, `<redirectParam>=<scheme>://<host as named><escaped request URI>`
   * is appended to it; when it has one (`?rd=$escaped_request_uri`), `url` is used as written.
   */
  readonly redirectParam: string;
}

/**
 * Asks an authentication service about each request before it goes anywhere (ingress-nginx's
 * `auth-url` family: oauth2-proxy, Authelia, Authentik). A subrequest without the body — the
 * client's fields minus the body and hop-by-hop ones, `Host` the service's, plus `X-Original-URL`,
 * `X-Original-URI`, `X-Original-Method`, `X-Scheme`, `X-Sent-From`, `X-Real-IP`,
 * `X-Forwarded-For` and `X-Auth-Request-Redirect` — and, by its status: 2xx lets the request go on
 * with `responseHeaders` copied into it; 401 answers 401 with the service's `WWW-Authenticate`, or
 * with `signin` a 302 there; 403 answers 403; any other status, a timeout or an unreachable service
 * answers 500. The client's body is not read until the service allowed the request. No answer is
 * cached (ingress-nginx's `auth-cache-key` has no counterpart yet).
 */
export interface ExternalAuthFilter {
  readonly type: 'ExternalAuth';
  /**
   * Absolute http or https URL of the service. It may hold the variables of
   * {@link ExternalAuthSignin.url}, expanded per request (`https://$host/oauth2/auth`).
   */
  readonly url: string;
  /** The subrequest's method (`auth-method`): GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS. */
  readonly method: string;
  /**
   * Lower-case names of the fields copied from a 2xx answer into the upstream request
   * (`auth-response-headers`). The client's own fields of these names never reach the upstream: a
   * name the answer lacks is removed, so a client cannot pose as a user the service did not name.
   */
  readonly responseHeaders: readonly string[];
  /** Fields set on the subrequest, replacing the client's (`auth-proxy-set-headers`); lower-case names. */
  readonly requestHeaders: readonly { readonly name: string; readonly value: string }[];
  /** `X-Auth-Request-Redirect` of the subrequest (`auth-request-redirect`); null: the request's target. */
  readonly requestRedirect: string | null;
  /** Where a 401 sends the client instead (`auth-signin`); null: the 401 itself. */
  readonly signin: ExternalAuthSignin | null;
  /**
   * `auth-always-set-cookie`. The answer's `Set-Cookie` fields are added to the client's response
   * when its status is 200, 201, 204, 206, 301, 302, 303, 304, 307 or 308 (the sign-in redirect, an
   * allowed request's success — nginx's `add_header`); true: whatever the status (a 401 too).
   */
  readonly alwaysSetCookie: boolean;
  /** The whole subrequest, from connecting to the end of the answer; 500 past it. 1..3,600,000. */
  readonly timeoutMs: number;
}

/** One user of a {@link BasicAuthFilter}: a name and the hash of its password, as an htpasswd file holds them. */
export interface BasicAuthUser {
  /** Not empty, without `:` or control characters; compared exactly (case-sensitive). */
  readonly name: string;
  /**
   * As written after `name:` in the htpasswd file, in a format src/model/password-hash-schemes.ts
   * verifies: `$apr1$`, `$1$`, `$5$`, `$6$` (at most 100,000 rounds), `{SHA}`, `{SSHA}` or `{PLAIN}`.
   */
  readonly hash: string;
}

/**
 * HTTP Basic authentication (RFC 7617) against a list of users, as ingress-nginx's `auth-type:
 * basic` does with an htpasswd Secret. A request whose `Authorization: Basic` names a user of
 * `users` with that user's password goes on (its `Authorization` field upstream or not, as
 * `forwardAuthorization` says); any other — no such field, another scheme, malformed credentials, an unknown user, a wrong
 * password — is answered 401 `unauthorized` with `WWW-Authenticate: Basic realm="<realm>"` and
 * never goes upstream.
 */
export interface BasicAuthFilter {
  readonly type: 'BasicAuth';
  /** The realm of the challenge, quoted as it is: printable ASCII without `"` or a backslash. */
  readonly realm: string;
  /**
   * The users, names unique. Empty: nobody is allowed (every request 401, as nginx with a file of
   * no usable line). Null: the credentials could not be read at all (a Secret missing, without its
   * key, in another namespace): every request is answered 503 `auth-unavailable`, ingress-nginx's
   * denied location, rather than served without the check.
   */
  readonly users: readonly BasicAuthUser[] | null;
  /**
   * Whether the upstream gets the client's `Authorization` field. ingress-nginx clears it
   * (`proxy_set_header Authorization ""` with `auth-type`), so its front end says false.
   */
  readonly forwardAuthorization: boolean;
}

/**
 * Cross-Origin Resource Sharing, as ingress-nginx's `enable-cors` does it: the proxy answers
 * preflights itself and adds the `Access-Control-*` fields to every response of an allowed origin.
 * The front end gives every value (ingress-nginx's defaults are its business); the data plane only
 * matches the request's `Origin` against `allowOrigins`.
 * - A request whose `Origin` is allowed (any request at all when `allowOrigins` is `['*']`) gets,
 *   on its response — the upstream's, or the proxy's own answer — `Access-Control-Allow-Origin`
 *   (the request's `Origin`, with `Vary: Origin`; `*` for `['*']`, whatever `allowCredentials`
 *   says, as ingress-nginx does), `-Allow-Credentials: true` when `allowCredentials`, and
 *   `-Allow-Methods`, `-Allow-Headers`, `-Expose-Headers`, `-Max-Age` for the lists that are not
 *   empty and a `maxAgeSeconds` that is given, replacing the upstream's own fields of those names.
 * - A preflight (`OPTIONS` with an allowed `Origin` and `Access-Control-Request-Method`) is answered
 *   204 with those fields and never goes upstream.
 * - Any other request (a list of origins, and no `Origin` or one not on it) proceeds untouched,
 *   without CORS fields. An `OPTIONS` that is no preflight goes upstream like any other request.
 */
export interface CorsFilter {
  readonly type: 'CORS';
  /**
   * `['*']` alone: every origin. Otherwise serialised origins, lower case, each at most once:
   * `scheme://host` or `scheme://host:port` (`https://app.example.com`, `tauri://localhost:3000`),
   * where the host may begin with `*.` for exactly one more label (`https://*.example.com` takes
   * `https://a.example.com`, not `https://a.b.example.com` nor `https://example.com`), or `null`.
   * A port is part of the origin: `https://a.example.com` does not take `https://a.example.com:8443`.
   * Compared with the request's `Origin` case-insensitively.
   */
  readonly allowOrigins: readonly string[];
  /** Method tokens for `Access-Control-Allow-Methods`, in order; empty: no such field. */
  readonly allowMethods: readonly string[];
  /** Header names for `Access-Control-Allow-Headers`, in order, as written (any case); empty: no such field. */
  readonly allowHeaders: readonly string[];
  /** Header names (or `*`) for `Access-Control-Expose-Headers`, in order; empty: no such field. */
  readonly exposeHeaders: readonly string[];
  /** Whether responses say `Access-Control-Allow-Credentials: true`. */
  readonly allowCredentials: boolean;
  /** 0..2147483647, for `Access-Control-Max-Age`; absent: no such field. */
  readonly maxAgeSeconds?: number;
}

/** One request rate of a {@link RateLimitFilter}: `requests` per `periodSeconds`, with a burst. */
export interface RateLimitRate {
  /** 1..1,000,000 requests accepted per period, on average (ingress-nginx's `limit-rps`, `limit-rpm`). */
  readonly requests: number;
  /** 1 (per second) or 60 (per minute): nginx's `r/s` and `r/m`. */
  readonly periodSeconds: 1 | 60;
  /**
   * 0..100,000,000: how many requests over the rate are accepted at once before refusals begin
   * (nginx's `burst` with `nodelay`). A client that has been quiet long enough gets `burst + 1`
   * requests through at once, then one every `periodSeconds / requests` seconds.
   */
  readonly burst: number;
}

/**
 * Limits each client address on the route, as ingress-nginx's `limit-rps`, `limit-rpm` and
 * `limit-connections` do (nginx's `limit_req ... nodelay` and `limit_conn`, keyed by the client
 * address after `--trusted-proxies`, the `req.clientIp` of RouteScripts):
 * - each of `rates` is a leaky bucket (nginx's arithmetic): a request beyond its burst is refused
 *   at once, never delayed, and a refused request takes nothing from any bucket; with two rates
 *   (per second and per minute) a request must pass both;
 * - `connections` bounds the requests an address has in flight (from its arrival until its
 *   response ends or its client goes away; a WebSocket until its tunnel closes); checked first;
 * - an address in `allowlist` is never limited;
 * - a refused request is answered by the proxy with `rateStatus` (`rate-limited`) or
 *   `connectionStatus` (`connection-limited`) and never reaches the upstream.
 *
 * Where the counts live: in each data-plane worker thread, per `zone`, across table swaps (a zone
 * whose limits change starts afresh). ingress-nginx keeps one shared-memory zone per Ingress for
 * all the nginx workers of a pod; signalbox's workers share nothing, and the limits are NOT divided
 * by the worker count: a client on one connection (which stays on one worker) gets exactly the
 * limits, but one that spreads its requests over several connections can get up to `--workers`
 * times the rate and the connections. Each zone remembers at most 100,000 addresses per worker
 * (the least recently seen is forgotten first, like nginx evicting from a full zone; a forgotten
 * address starts with a full burst again).
 */
export interface RateLimitFilter {
  readonly type: 'RateLimit';
  /**
   * Routes whose RateLimit filters name the same zone, with the same limits, share the counts
   * (ingress-nginx: every path of an Ingress, on HTTP and HTTPS alike). Not empty.
   */
  readonly zone: string;
  /** At most one per period; empty when only `connections` limits. */
  readonly rates: readonly RateLimitRate[];
  /** 1..1,000,000 requests in flight per address; null: not limited. */
  readonly connections: number | null;
  /** IPv4 and IPv6 addresses and CIDRs (`10.0.0.0/8`, `2001:db8::/32`) never limited. */
  readonly allowlist: readonly string[];
  /** 400..599 for a request over a rate (ingress-nginx's `limit-req-status-code`, default 503). */
  readonly rateStatus: number;
  /** 400..599 for a request over `connections` (`limit-conn-status-code`, default 503). */
  readonly connectionStatus: number;
}

/**
 * Admits a request by its client address — the address RouteScripts see as `clientIp`: the peer,
 * or what a PROXY protocol header or a trusted proxy's X-Forwarded-For says — as ingress-nginx's
 * `denylist-source-range` and `whitelist-source-range` do. An address in `deny` gets 403; so does
 * one outside `allow` when `allow` is present and not empty. Both lists hold CIDR blocks in
 * canonical form (src/model/cidr.ts: `10.0.0.0/8`, `2001:db8::/32`, a single address as /32 or
 * /128); an IPv4-mapped IPv6 client (`::ffff:10.1.2.3`) is compared as the IPv4 address it maps.
 */
export interface ClientAddressFilter {
  readonly type: 'ClientAddress';
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}

/**
 * Bounds the request body, as nginx's `client_max_body_size`: a request whose Content-Length is
 * over `maxBytes` gets 413 before anything goes upstream; a body of unknown length (chunked, or
 * HTTP/2 without content-length) is counted as it streams, and past `maxBytes` its upstream request
 * is aborted and the client gets 413 (or, once a response began, its connection is closed). A front
 * end with no limit (nginx's 0) omits the filter.
 */
export interface BodyLimitFilter {
  readonly type: 'BodyLimit';
  /** A positive safe integer. */
  readonly maxBytes: number;
}

/**
 * A step of a route's request and response processing, run in the order of {@link Route.filters}:
 * request-side filters before the request goes upstream; response-side ones (response headers,
 * the scripts' `onResponse`, CORS fields) in the reverse order, like layers of middleware, on the status and
 * headers about to reach the client — the upstream's, or the proxy's own answer once the request
 * was routed (a redirect, a script's `respond`, no endpoint, an upstream that failed…).
 */
export type Filter =
  | RequestHeaderFilter
  | ResponseHeaderFilter
  | RedirectFilter
  | RewriteFilter
  | MirrorFilter
  | ScriptFilter
  | ExternalAuthFilter
  | CorsFilter
  | RequestIdFilter
  | ClientAddressFilter
  | BodyLimitFilter
  | RateLimitFilter
  | BasicAuthFilter;

/** The type names of {@link Filter}. */
export type FilterType = Filter['type'];

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
  /** The Ingress path (or default backend, or route rule) this route came from. */
  readonly provenance: Provenance;
}

/**
 * What a listener speaks.
 * - `HTTP`, `HTTPS`: requests, routed by virtual hosts (HTTPS terminates TLS with the table's
 *   certificates).
 * - `TLS`: TLS passthrough, at layer 4. The ClientHello's SNI name chooses a {@link StreamRoute}
 *   and the connection's bytes go to its backend as they are, never decrypted (the Gateway API's
 *   listener protocol TLS with mode Passthrough; ingress-nginx's `ssl-passthrough`). With port
 *   null it shares the data plane's HTTPS port: a connection whose SNI no passthrough route takes
 *   is terminated there as any other HTTPS connection.
 * - `TCP`, `UDP`: every connection (TCP) or client address (UDP) arriving on the port goes to the
 *   listener's one stream route (ingress-nginx's `tcp-services` / `udp-services`, the Gateway
 *   API's TCPRoute / UDPRoute). They always have a port of their own.
 */
export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

/**
 * Where requests arrive: a port and its protocol. Virtual hosts name the HTTP and HTTPS listeners
 * that serve them; stream routes name the TLS, TCP and UDP ones.
 */
export interface Listener {
  /**
   * Unique in the table: `http` and `https` for the Ingress front end's two, `tls-passthrough` for
   * passthrough on the HTTPS port, `tcp-<port>` / `udp-<port>` for the ConfigMap-configured ones.
   */
  readonly name: string;
  readonly protocol: ListenerProtocol;
  /**
   * The port, or null for the data plane's own (`--http-port` for HTTP, `--https-port` for HTTPS and
   * TLS). TCP and UDP listeners always have one; no two TCP listeners (nor two UDP ones) share it.
   */
  readonly port: number | null;
  /**
   * The host (exact or `*.suffix`, lower case) this listener is for; null: any. A front end narrows
   * the virtual hosts it puts on the listener to it (a Gateway listener's hostname intersected with
   * its routes' hostnames); the router serves the virtual hosts as they are.
   */
  readonly hostname: string | null;
  /**
   * HTTPS: the certificates (keys into {@link RoutingTable.certificates} by name) offered by SNI;
   * null for every certificate of the table. Null on every other protocol (a TLS passthrough
   * listener holds no certificate: the backend terminates TLS).
   */
  readonly tls: { readonly certificates: readonly string[] | null } | null;
  /**
   * Whether a request no virtual host or route takes goes to {@link RoutingTable.defaultRoute}.
   * Always false on TLS, TCP and UDP listeners, which the default route does not serve.
   */
  readonly defaultRoute: boolean;
  readonly provenance: Provenance;
}

/**
 * A layer-4 route: where the connections (or UDP datagrams) of a TLS, TCP or UDP listener go. The
 * data plane relays bytes both ways without reading them (after the ClientHello, on TLS), so
 * nothing of HTTP applies: no filters, no scripts, no retries once a connection is up.
 */
export interface StreamRoute {
  /** The name of the {@link Listener} (protocol TLS, TCP or UDP) it serves. */
  readonly listener: string;
  /**
   * TLS only: the SNI names it takes, lower case, exact or `*.suffix` (one label, as for virtual
   * hosts), sorted, never empty; an exact name wins over a wildcard. A name is taken by at most one
   * route of a listener. Empty on TCP and UDP, whose listener has exactly one route.
   */
  readonly hostnames: readonly string[];
  /**
   * Where each new connection (UDP: each new client session) goes, picked by weight, then an
   * endpoint by the cluster's balancer and health. TCP and TLS backends are TCP clusters; UDP
   * backends are UDP clusters ({@link Cluster.transport}). A connection with no usable backend
   * is closed.
   */
  readonly backends: readonly WeightedBackend[];
  /**
   * Close a connection (UDP: forget a session) when no byte has gone either way for this long;
   * null for the data plane's default (`--stream-idle-timeout`).
   */
  readonly idleTimeoutMs: number | null;
  /**
   * Send a PROXY protocol header (version 1) to the backend before the client's bytes, saying
   * whose connection it is (ingress-nginx's fourth `:PROXY` field). TCP and TLS only; false on UDP.
   */
  readonly sendProxyProtocol: boolean;
  /** The ConfigMap entry or Ingress rule it came from. */
  readonly provenance: Provenance;
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
  /**
   * Routes in precedence order: a request takes the first whose match holds. The front end sorts
   * them (Ingress: longest path first, Exact before Prefix on a tie, then the older Ingress).
   */
  readonly routes: readonly Route[];
  /** The names of the {@link Listener}s that serve this host, sorted. */
  readonly listeners: readonly string[];
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
