/**
 * The filters of a route: what is done to a request on its way upstream (header edits, redirects,
 * rewrites, mirrors, RouteScripts, access checks, limits, authentication, CORS, request ids) and to
 * its response on the way back, run in the route's order (see {@link Filter}). Part of the routing
 * table (table.ts), plain data like the rest of it; each filter has its invariants in check-*.ts
 * and one data-plane step in src/dataplane/lifecycle/filters/.
 */
import type { Provenance, Route, RoutingTable } from './table.ts';

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

/** One text replacement of a {@link ResponseRewriteFilter}: `from` is replaced by `to`. */
export interface TextRewrite {
  /** Not empty; printable ASCII without spaces. */
  readonly from: string;
  /** Printable ASCII without spaces; may be empty (a cookie path or domain then becomes empty). */
  readonly to: string;
}

/**
 * Rewrites what an upstream says about its own URLs, as nginx's `proxy_redirect`,
 * `proxy_cookie_path` and `proxy_cookie_domain` do (ingress-nginx's `proxy-redirect-from`/`-to`,
 * `proxy-cookie-path`, `proxy-cookie-domain`). It applies to the upstream's response head as it
 * arrives, before any other response-side filter whatever its place in the list, and never to the
 * proxy's own answers (its redirects, errors, a script's `respond`) nor to the affinity cookie the
 * proxy sets. In each list the first rewrite that matches is the only one applied.
 * - `location`: a `Location` field that begins with `from` (compared exactly, case-sensitively)
 *   has that beginning replaced by `to`; so has the URL of a `Refresh` field (what follows its
 *   first `url=`, any case). Nothing is made absolute: `to` is written as it is.
 * - `cookiePath`: in each `Set-Cookie` field, a `Path` attribute (any case) whose value begins
 *   with `from` (case-sensitively) has that beginning replaced by `to`.
 * - `cookieDomain`: in each `Set-Cookie` field, a `Domain` attribute whose value, without a
 *   leading dot, is `from` (whole, case-insensitively; `from` has no leading dot) becomes `to`,
 *   the dot kept (`.backend.local` with `backend.local` → `example.com` is `.example.com`).
 * A Set-Cookie field that changed is written again as nginx writes it: its parts joined by `; `,
 * spaces around `=` dropped; one that did not change is passed as it came. Each Set-Cookie field
 * stays a field of its own.
 */
export interface ResponseRewriteFilter {
  readonly type: 'ResponseRewrite';
  readonly location?: readonly TextRewrite[];
  readonly cookiePath?: readonly TextRewrite[];
  readonly cookieDomain?: readonly TextRewrite[];
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
  /**
   * Where the port of Location comes from when `port` is absent:
   * - `none`: no port (nginx's `port_in_redirect off` on its own absolute redirects);
   * - `listener`: the port the data plane serves Location's scheme on — the request's own socket's
   *   for the same scheme, the data plane's `--https-port` from its plain-HTTP port (ingress-nginx's
   *   `use-port-in-redirects`); left out when it is the scheme's default.
   * Absent: the port the client named, or the new scheme's default when the filter changes it.
   */
  readonly portFrom?: 'none' | 'listener';
  /**
   * Location is the path and query alone, a relative reference (RFC 9110 §10.2.2; ingress-nginx's
   * `relative-redirects`, nginx's `absolute_redirect off`). Never with scheme, hostname, port or portFrom.
   */
  readonly relative?: true;
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
  /** As {@link WeightedBackend.referenceGrant}: the ReferenceGrant allowing a cluster of another namespace. */
  readonly referenceGrant?: Provenance;
}

/**
 * Sends a copy of each request to a URL and ignores its answer, as ingress-nginx's `mirror-target`
 * does (nginx's `mirror` with a `proxy_pass` to the URL): every request that goes upstream is copied
 * — one a filter answers (a redirect, an auth denial) is not, as nginx mirrors in its precontent
 * phase — with the method and the upstream fields of the original (after the route's header edits),
 * `Host` set to `host`. The copy's answer, failure and timing never reach the original request.
 * The URL is the Ingress author's, trusted like a Service they name: a copy goes wherever it says,
 * a cluster-internal address included.
 */
export interface UrlMirrorFilter {
  readonly type: 'UrlMirror';
  /**
   * Absolute http or https URL, without credentials or fragment; its scheme and authority are
   * literal (no variable: the destination is fixed by the author, never by the request). Its path
   * and query may hold `$request_uri` (the request's target, path and query, as the client sent
   * it), `$uri` (its path, normalised), `$args` (its query without `?`) and `$is_args` (`?` when
   * it has a query), expanded per request. A URL with no variable is sent to as written, with the
   * request's query appended when the URL has none (nginx's `proxy_pass` with a URI).
   */
  readonly url: string;
  /** The copy's `Host`: a lower-case host name or IP address, with an optional `:port`. */
  readonly host: string;
  /**
   * Whether the copy carries the request's body (`mirror-request-body`, on by default). It is
   * teed as the original streams, never holding the original back: a mirror that falls more than
   * a bound behind has its copy cut off. Off: the copy is the head only, `Content-Length: 0`.
   */
  readonly requestBody: boolean;
}

/**
 * Paces the response body to the client, as nginx's `limit_rate` and `limit_rate_after`
 * (ingress-nginx's `limit-rate`, `limit-rate-after`): the first `afterBytes` of each response go as
 * fast as the client takes them, the rest at `bytesPerSecond` on average, per request (a client on
 * two connections gets twice the rate, as with nginx). The upstream's body is read no faster than
 * it is sent: backpressure holds it at the upstream rather than buffering it.
 */
export interface ResponseRateFilter {
  readonly type: 'ResponseRate';
  /** 1..2^40 bytes per second. */
  readonly bytesPerSecond: number;
  /** 0..2^50 bytes sent unpaced first. */
  readonly afterBytes: number;
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
 * answers 500. The client's body is not read until the service allowed the request. Answers are
 * asked afresh for every request unless `cache` says otherwise.
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
  /** How answers are reused (`auth-cache-key`, `auth-cache-duration`); absent: never. */
  readonly cache?: ExternalAuthCache;
}

/**
 * Reuse of an auth service's answers, as ingress-nginx's `auth-cache-key` and `auth-cache-duration`
 * (nginx's `proxy_cache` on the auth location): an answer is kept under the request's expanded
 * `key` for the `ttlMs` of the first rule naming its status, and a later request with the same key
 * within that time gets the same decision (status and copied fields) without asking. An answer
 * with `Set-Cookie`, or a `Cache-Control` of `no-store`, `no-cache` or `private`, is never kept (nginx's
 * defaults). Kept per data-plane worker, at most 10,000 keys (the oldest dropped first), and
 * dropped whenever a new table is swapped in. A request whose key expands to nothing is never
 * answered from the cache.
 */
export interface ExternalAuthCache {
  /**
   * Literal text and the variables `$remote_user` (the user of a Basic `Authorization`),
   * `$http_<name>` (a request field, `$http_authorization`, `$http_cookie`), `$cookie_<name>`,
   * `$host`, `$uri`, `$request_uri`, `$arg_<name>` and `$remote_addr` (the client address); the
   * route and the auth URL are always part of the key too.
   */
  readonly key: string;
  /** In order; a status no rule names is not kept. Not empty. */
  readonly rules: readonly { readonly statuses: readonly number[]; readonly ttlMs: number }[];
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
  /**
   * What `*.` in an origin stands for: `one` label (ingress-nginx's `cors-allow-origin`, the
   * default) or `any` number of labels, one or more (the Gateway API's HTTPCORSFilter:
   * `https://*.example.com` takes `https://a.b.example.com`).
   */
  readonly wildcardLabels?: 'one' | 'any';
  /**
   * True: a preflight from an origin that is not allowed is answered too (204, without any
   * `Access-Control-*` field) rather than passed on — the Gateway API's CORS filter answers every
   * preflight. Absent: it goes upstream untouched (ingress-nginx).
   */
  readonly answerEveryPreflight?: true;
  /**
   * True, with `allowCredentials`: a `*` in `allowOrigins`, `allowMethods` or `allowHeaders` is
   * answered with the request's own origin, method (`Access-Control-Request-Method`) and headers
   * (`Access-Control-Request-Headers`) — browsers refuse `*` on a credentialed request (Fetch), and
   * the Gateway API's CORS filter asks for the echo. Absent: `*` is sent as it is.
   */
  readonly echoWildcards?: true;
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
 * ingress-nginx's custom default backend (`default-backend` with `custom-http-errors`): a Service
 * that takes the route's requests while its backend has no endpoint, and that serves the pages of
 * the errors listed in `codes`.
 * - `whenNoEndpoints`: a request whose backend has no ready endpoint at all (or does not resolve)
 *   goes to `cluster` instead, unchanged, rather than waiting at the automatic pause or being
 *   answered 503 — nginx's `location.Backend` switched to the custom default backend.
 * - `codes`: a response with one of these statuses — the upstream's, or signalbox's own answer once
 *   the request was routed (503 no endpoint, 502, 504, 413, 429…) — is not sent: its body is
 *   discarded and a `GET` (`HEAD` for a HEAD request) of `/` goes to `cluster`, with the client's
 *   fields plus `X-Code` (the status), `X-Format` (the client's Accept), `X-Original-URI`,
 *   `X-Request-ID` and the fixed `headers`. The client gets that answer, its status included
 *   (nginx's `error_page CODE = @custom…`: the error backend's status wins). When the error backend
 *   fails — no endpoint, refused, reset, too slow, a body over 1 MiB — the client gets signalbox's
 *   own error for that failure (502, 503 or 504), never a second interception (nginx's
 *   `recursive_error_pages off`).
 * The response step runs first in the response phase (the front end places the filter last), so
 * that the route's header filters edit the page the client gets.
 */
export interface DefaultBackendFilter {
  readonly type: 'DefaultBackend';
  /** Key into {@link RoutingTable.clusters}. */
  readonly cluster: string;
  /** 400..599, ascending, each once; empty: only `whenNoEndpoints`. */
  readonly codes: readonly number[];
  readonly whenNoEndpoints: boolean;
  /**
   * True: `cluster` is the operator's global default backend (`--default-backend-service`), which
   * may be of another namespace than the route's; absent: it is of the route's namespace.
   */
  readonly global?: true;
  /**
   * True: only the proxy's own answers with those statuses are replaced, the upstream's pass as
   * they are (ingress-nginx's `disable-proxy-intercept-errors`: nginx's `proxy_intercept_errors`
   * off, its own `error_page` still on).
   */
  readonly ownErrorsOnly?: true;
  /**
   * Fields set on the error page request, lower-case names: ingress-nginx's `X-Namespace`,
   * `X-Ingress-Name`, `X-Service-Name` and `X-Service-Port` of the route.
   */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
}

/**
 * A step of a route's request and response processing, run in the order of {@link Route.filters}:
 * request-side filters before the request goes upstream; response-side ones (response headers,
 * the scripts' `onResponse`, CORS fields) in the reverse order, like layers of middleware, on the status and
 * headers about to reach the client — the upstream's, or the proxy's own answer once the request
 * was routed (a redirect, a script's `respond`, no endpoint, an upstream that failed…). The one
 * exception is {@link ResponseRewriteFilter}: it rewrites the upstream's own fields as they
 * arrive, before all of those, and never touches the proxy's answers.
 */
export type Filter =
  | RequestHeaderFilter
  | ResponseHeaderFilter
  | ResponseRewriteFilter
  | RedirectFilter
  | RewriteFilter
  | MirrorFilter
  | UrlMirrorFilter
  | ResponseRateFilter
  | ScriptFilter
  | ExternalAuthFilter
  | CorsFilter
  | RequestIdFilter
  | ClientAddressFilter
  | BodyLimitFilter
  | RateLimitFilter
  | BasicAuthFilter
  | DefaultBackendFilter;

/** The type names of {@link Filter}. */
export type FilterType = Filter['type'];
