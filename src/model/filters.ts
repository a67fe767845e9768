/**
 * The filters of a route: what is done to a request on its way upstream (header edits, redirects,
 * rewrites, mirrors, RouteScripts, access checks, limits, authentication, CORS, request ids) and to
 * its response on the way back, run in the route's order (see {@link Filter}). Part of the routing
 * table (table.ts), plain data like the rest of it; each filter has its invariants in check-*.ts
 * and one data-plane step in src/dataplane/lifecycle/filters/.
 */
import type { Provenance, Route, RoutingTable } from './table.ts';
import type { BasicAuthFilter, ClientAddressFilter, CorsFilter, ExternalAuthFilter, HeaderDenyFilter, RateLimitFilter } from './access-filters.ts';

// The access filters (external and basic authentication, CORS, rate limits, address lists).
export type * from './access-filters.ts';

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

/** One content coding of a {@link CompressFilter}: when a response is worth it, and how hard to try. */
export interface CompressCoding {
  /** gzip 1..9, brotli 0..11 (nginx's `gzip_comp_level`, ngx_brotli's `brotli_comp_level`). */
  readonly level: number;
  /** 0..2^31-1: a response whose Content-Length is below it is sent as it is (one without a length is compressed). */
  readonly minLength: number;
  /**
   * Lower-case `type/subtype` media types compressed (parameters are not compared), in the order
   * given, each once; `["*"]` alone: any response that has a Content-Type.
   */
  readonly types: readonly string[];
}

/**
 * Compresses the upstream's response body on its way to the client, as nginx's gzip module and
 * ngx_brotli do with ingress-nginx's `use-gzip` and `enable-brotli` (`gzip_proxied any`,
 * `gzip_vary on`, `gzip_http_version 1.1`). A response is a candidate when its status is 200, 403
 * or 404, it has a body (not HEAD, 204 or 304), no Content-Encoding, no `Cache-Control:
 * no-transform`, a Content-Type in the coding's `types` (not a gRPC one) and no Content-Length
 * below `minLength`: it then gets
 * `Vary: Accept-Encoding` whether or not it is compressed. It is compressed for an HTTP/1.1 or
 * HTTP/2 request whose Accept-Encoding accepts the coding (q above 0, `*` counting for codings
 * not named): brotli first when both are set, as ngx_brotli's filter runs before gzip's;
 * gzip not for a User-Agent that `gzipDisable` matches. A compressed response loses its
 * Content-Length and Accept-Ranges, its ETag becomes weak, and its body streams through the
 * encoder with backpressure. The proxy's own answers are never compressed.
 */
export interface CompressFilter {
  readonly type: 'Compress';
  /** null: no gzip. */
  readonly gzip: CompressCoding | null;
  /** null: no brotli. */
  readonly brotli: CompressCoding | null;
  /** A regular expression (JavaScript syntax, matched case-insensitively anywhere in User-Agent) of clients never sent gzip; null: none. */
  readonly gzipDisable: string | null;
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
  | CompressFilter
  | ScriptFilter
  | ExternalAuthFilter
  | CorsFilter
  | RequestIdFilter
  | ClientAddressFilter
  | HeaderDenyFilter
  | BodyLimitFilter
  | RateLimitFilter
  | BasicAuthFilter
  | DefaultBackendFilter;

/** The type names of {@link Filter}. */
export type FilterType = Filter['type'];
