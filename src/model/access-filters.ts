/**
 * The access filters of a route: external authentication (auth-url), basic authentication, CORS,
 * rate limits and client address lists — what decides whether a request is let through, and what a
 * refusal looks like. Plain data like the rest of the table; re-exported by filters.ts.
 */

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
 * One way a value (a {@link HeaderDenyFilter}'s header, a route's `accessLogSkip` request target)
 * is matched, as nginx's `map` matches its source values: `exact`, the whole value compared
 * ASCII case-insensitively (nginx's `map` strings), or `pattern`, a pattern of the linear-time
 * engine (src/regex) that must match the whole value (`ignoreCase`: ASCII letters of either case).
 * An nginx `~` regular expression, which matches anywhere in the value, is written `.*(?:re).*`.
 */
export type ValueMatch =
  | { readonly exact: string }
  | { readonly pattern: string; readonly ignoreCase?: true };

/**
 * Answers 403 to a request whose `header` (lower-case name) matches any of `matches`; a request
 * without the header is matched as an empty value, as nginx reads a missing `$http_*` variable.
 * Several fields of the name are one value, joined with `, `. ingress-nginx's `block-user-agents`
 * and `block-referers` (its `map` and `if (…) { return 403; }` in every server).
 */
export interface HeaderDenyFilter {
  readonly type: 'HeaderDeny';
  readonly header: string;
  /** Not empty. */
  readonly matches: readonly ValueMatch[];
}
