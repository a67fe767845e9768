/**
 * Every `nginx.ingress.kubernetes.io/*` annotation ingress-nginx documents, with its risk (from
 * ingress-nginx's annotations-risk table, which `annotations-risk-level` compares against) and what
 * signalbox does with it. This table is the one source of truth: the front end reports each
 * annotation that is not `supported` on the Ingress that carries it, `signalbox migrate` prints it
 * per Ingress, and docs/migrating-from-ingress-nginx.md is generated from it (and checked by a test).
 */

/** The prefix of ingress-nginx's annotations. */
export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/';

/** ingress-nginx's annotation risk levels, lowest first. */
export const RISK_LEVELS = ['Low', 'Medium', 'High', 'Critical'] as const;
/** One of {@link RISK_LEVELS}. */
export type RiskLevel = (typeof RISK_LEVELS)[number];

/**
 * What signalbox does with an annotation:
 * - `supported`: ingress-nginx's semantics;
 * - `differs`: honoured, with a difference the note names (reported as a warning);
 * - `unsupported`: not honoured (reported as a warning; the rest of the Ingress is served);
 * - `not-applicable`: an nginx internal with nothing to set here (buffers, nginx modules): ignored
 *   without a warning, the note says why.
 */
export type Support = 'supported' | 'differs' | 'unsupported' | 'not-applicable';

/** One row of the table. */
export interface NginxAnnotation {
  /** Without the prefix. */
  readonly name: string;
  readonly risk: RiskLevel;
  readonly support: Support;
  /** What it becomes, or why not; one sentence or two, Markdown. */
  readonly note: string;
}

const row = (name: string, risk: RiskLevel, support: Support, note: string): NginxAnnotation => Object.freeze({ name, risk, support, note });

const SNIPPET_SUBSET = '`proxy_set_header`, `more_set_input_headers`, `more_clear_input_headers` (request headers), `more_set_headers`, `add_header` (as with `always`), `more_clear_headers`, `proxy_hide_header` (response headers), `return` 301/302/303/307/308 to an absolute URL (optionally `$request_uri`), `rewrite` (`$1`..`$9`; `last` acts as `break`) and `allow`/`deny` (a deny list, then an allow list)';

const BUFFERS = 'signalbox streams request and response bodies both ways without nginx\'s buffers or temporary files.';

/** The table, by name. */
export const NGINX_ANNOTATIONS: readonly NginxAnnotation[] = Object.freeze([
  row('affinity', 'Low', 'supported', '`cookie`: sticky sessions by cookie on the Ingress\'s clusters.'),
  row('affinity-canary-behavior', 'Low', 'supported', 'On a canary whose main Ingress has cookie affinity: a client whose cookie pins it to an endpoint of the main backend or the canary stays there before any canary rule (header, cookie, weight) is asked, as ingress-nginx\'s balancer. `sticky` (default): the canary takes the main Ingress\'s affinity in place of its own; `legacy`: it keeps its own (none, unless it sets `affinity`).'),
  row('affinity-mode', 'Medium', 'differs', '`balanced` and `persistent` behave alike: a pinned endpoint keeps its clients while it is usable.'),
  row('allowlist-source-range', 'Medium', 'supported', 'Clients outside the CIDRs get 403.'),
  row('app-root', 'Medium', 'supported', 'A request for `/` is redirected (302) to the path.'),
  row('auth-always-set-cookie', 'Low', 'supported', 'The auth service\'s Set-Cookie is added to the response whatever its status (nginx\'s `add_header … always`); without it, only to 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308 responses (the sign-in redirect included).'),
  row('auth-cache-duration', 'Medium', 'supported', 'nginx\'s `proxy_cache_valid` arguments, comma-separated (`200 202 10m, 401 5m`; default `200 202 401 5m`): how long an answer of each status is reused. Answers with `Set-Cookie` or `Cache-Control: no-store`/`no-cache`/`private` are not kept, as nginx; `Cache-Control: max-age` does not lengthen or shorten the time.'),
  row('auth-cache-key', 'Medium', 'differs', 'Answers are reused per key (`$remote_user`, `$remote_addr`, `$host`, `$uri`, `$request_uri`, `$http_<name>`, `$cookie_<name>`, `$arg_<name>`; other variables are refused) on each route, in each data-plane worker (at most 10,000 keys), and forgotten whenever the routing table changes; nginx keeps one cache on disk for the pod.'),
  row('auth-keepalive', 'Low', 'not-applicable', 'Connections to the auth service are always reused.'),
  row('auth-keepalive-requests', 'Low', 'not-applicable', 'Connections to the auth service are always reused.'),
  row('auth-keepalive-share-vars', 'Low', 'not-applicable', 'No nginx variables.'),
  row('auth-keepalive-timeout', 'Low', 'not-applicable', 'Connections to the auth service are always reused.'),
  row('auth-method', 'Low', 'supported', 'The method of the auth request.'),
  row('auth-proxy-set-headers', 'Medium', 'supported', 'The ConfigMap\'s entries (the Ingress\'s namespace) are set on the auth subrequest; a missing ConfigMap, a bad name or a value with an nginx variable refuses the Ingress.'),
  row('auth-realm', 'Medium', 'supported', 'The realm of the `WWW-Authenticate: Basic` challenge.'),
  row('auth-request-redirect', 'Medium', 'supported', 'Sent as `X-Auth-Request-Redirect`.'),
  row('auth-response-headers', 'Medium', 'supported', 'Copied from the auth answer to the upstream request.'),
  row('auth-secret', 'Medium', 'supported', 'The htpasswd Secret (`name` or `namespace/name`, the Ingress\'s namespace only) of `auth-type: basic`: `$apr1$`, `$1$`, bcrypt (`$2y$`, cost up to 12), `$5$`, `$6$`, `{SHA}`, `{SSHA}` and `{PLAIN}` hashes; DES users are refused (reported). A missing or unusable Secret answers 503, as ingress-nginx.'),
  row('auth-secret-type', 'Low', 'supported', '`auth-file` (key `auth`: an htpasswd file) or `auth-map` (a key per user, its hash as the value).'),
  row('auth-signin', 'High', 'supported', 'A 401 from the auth service becomes a 302 to this URL with `rd=` the original URL.'),
  row('auth-signin-redirect-param', 'Medium', 'supported', 'The name of the `rd` parameter.'),
  row('auth-snippet', 'Critical', 'unsupported', 'A snippet of nginx configuration; refused (see Snippets).'),
  row('auth-tls-error-page', 'High', 'supported', 'A request without a valid client certificate is redirected there (302) instead of answered 400; a path of the host is then served to such clients, as nginx\'s internal redirect serves it.'),
  row('auth-tls-match-cn', 'High', 'supported', 'A pattern (`CN=…`) searched for in the subject DN (RFC 2253, `CN=client,O=Example`); no match is 403. Run by the linear-time engine (docs/regular-expressions.md); one it refuses refuses the Ingress.'),
  row('auth-tls-pass-certificate-to-upstream', 'Low', 'supported', 'The client certificate goes upstream in `ssl-client-cert`, URL-escaped PEM.'),
  row('auth-tls-secret', 'Medium', 'differs', 'Verified at TLS termination against the Secret\'s `ca.crt` (and `ca.crl`), the Ingress\'s namespace only; only handshakes for such hosts ask for a certificate, and a request for one on a connection made for another name gets 421. Differs: plain HTTP to such a host is answered as without a certificate (400) unless redirected to HTTPS; nginx serves it unchecked.'),
  row('auth-tls-verify-client', 'Medium', 'supported', '`on` (default), `optional`, `optional_no_ca`, `off`. A failed verification reads `FAILED:` and OpenSSL\'s code name (`FAILED:CERT_HAS_EXPIRED`) where nginx writes its text.'),
  row('auth-tls-verify-depth', 'Low', 'supported', 'The most CA certificates above the client\'s in its chain; default 1.'),
  row('auth-type', 'Low', 'supported', '`basic`: HTTP Basic authentication against `auth-secret` (the client\'s `Authorization` does not go upstream, as in ingress-nginx). `digest` is not supported: the Ingress is refused (`AccessAnnotationUnsupported`) rather than served without the check.'),
  row('auth-url', 'High', 'supported', 'External authentication: a subrequest per request; 2xx lets it through, 401/403 are answered, anything else is 500. The URL may name the request\'s `$host` (oauth2-proxy\'s instructions); one with another variable refuses the Ingress rather than leave it open.'),
  row('backend-protocol', 'Low', 'supported', '`HTTP`, `HTTPS`, `GRPC`, `GRPCS`, `H2C`; `AUTO_HTTP` is HTTP. `FCGI` is unsupported.'),
  row('canary', 'Low', 'supported', 'The Ingress is a canary of the Ingress of its own namespace with the same host and path. ingress-nginx also merges a canary into another namespace\'s Ingress, which would let one tenant take another\'s requests: signalbox reports it (`CanaryInvalid`) and ignores the canary path.'),
  row('canary-by-cookie', 'Medium', 'supported', 'Cookie value `always` or `never`.'),
  row('canary-by-header', 'Medium', 'supported', 'Header value `always` or `never` (or `canary-by-header-value`).'),
  row('canary-by-header-pattern', 'Medium', 'supported', 'A regular expression on the header value (linear-time engine).'),
  row('canary-by-header-value', 'Medium', 'supported', 'The exact header value that selects the canary.'),
  row('canary-weight', 'Low', 'supported', 'The share of the other requests that go to the canary.'),
  row('canary-weight-total', 'Low', 'supported', 'The total `canary-weight` is a share of (default 100).'),
  row('client-body-buffer-size', 'Low', 'not-applicable', BUFFERS),
  row('configuration-snippet', 'Critical', 'differs', 'Refused unless the ConfigMap allows snippets. Only these directives, with literal values, are applied to every path of the Ingress: ' + SNIPPET_SUBSET + '; any other directive, block or variable refuses the Ingress (see Snippets).'),
  row('connection-proxy-header', 'Low', 'not-applicable', 'Connection headers are hop-by-hop; signalbox manages its upstream connections.'),
  row('cors-allow-credentials', 'Low', 'supported', 'As ingress-nginx (default true).'),
  row('cors-allow-headers', 'Medium', 'supported', 'As ingress-nginx.'),
  row('cors-allow-methods', 'Medium', 'supported', 'As ingress-nginx.'),
  row('cors-allow-origin', 'Medium', 'supported', 'As ingress-nginx (`*`, origins, `https://*.example.com`).'),
  row('cors-expose-headers', 'Medium', 'supported', 'As ingress-nginx.'),
  row('cors-max-age', 'Low', 'supported', 'As ingress-nginx.'),
  row('custom-headers', 'Medium', 'supported', '`namespace/name` of a ConfigMap of the Ingress\'s namespace whose entries are set on its responses; each header must be in the ConfigMap\'s `global-allowed-response-headers`, else the Ingress is refused (ingress-nginx denies its locations).'),
  row('custom-http-errors', 'Low', 'supported', 'Answers with these statuses (400–599), the upstream\'s or signalbox\'s own (503, 502, 504…), are replaced by the `default-backend` Service\'s answer (else `--default-backend-service`\'s) to `GET /` with X-Code, X-Format, X-Original-URI, X-Namespace, X-Ingress-Name, X-Service-Name, X-Service-Port and X-Request-ID; its status reaches the client. If the error backend fails, signalbox answers its own 502/503/504. Without any default backend: ignored, reported.'),
  row('default-backend', 'Low', 'supported', 'A Service of the Ingress\'s namespace (its first port): it takes the requests of paths whose Service has no endpoint (or does not exist) and serves the Ingress\'s `custom-http-errors`. A missing Service is `DefaultBackendNotFound`; the Ingress is served without it.'),
  row('denylist-source-range', 'Medium', 'supported', 'Clients inside the CIDRs get 403.'),
  row('disable-proxy-intercept-errors', 'Low', 'supported', '`"true"`: the Ingress\'s `custom-http-errors` replace signalbox\'s own answers (503, 502, 504…) only; the upstream\'s pass as they are.'),
  row('enable-access-log', 'Low', 'supported', '`"false"`: the Ingress\'s requests write no access-log line; metrics still count them.'),
  row('enable-cors', 'Low', 'supported', 'Preflight requests are answered by signalbox; responses get the CORS headers.'),
  row('enable-global-auth', 'Low', 'supported', '`"false"`: the ConfigMap\'s `global-auth-url` is not asked for this Ingress.'),
  row('enable-modsecurity', 'Low', 'unsupported', 'No web application firewall.'),
  row('enable-opentelemetry', 'Low', 'unsupported', 'No tracing.'),
  row('enable-owasp-core-rules', 'Low', 'unsupported', 'No web application firewall.'),
  row('enable-rewrite-log', 'Low', 'not-applicable', 'No nginx rewrite log.'),
  row('fastcgi-index', 'Medium', 'unsupported', 'No FastCGI.'),
  row('fastcgi-params-configmap', 'Medium', 'unsupported', 'No FastCGI.'),
  row('force-ssl-redirect', 'Medium', 'supported', 'Plain HTTP is redirected to HTTPS even without TLS on the host.'),
  row('from-to-www-redirect', 'Low', 'supported', '`www.` and the bare name redirect (308) to the Ingress\'s host when no Ingress serves them.'),
  row('http2-push-preload', 'Low', 'not-applicable', 'HTTP/2 server push is obsolete (browsers removed it).'),
  row('limit-allowlist', 'Low', 'supported', 'Addresses and CIDRs the rate and connection limits never apply to.'),
  row('limit-burst-multiplier', 'Low', 'supported', 'The burst of `limit-rps` and `limit-rpm` is the rate times this (default 5), without delay (`nodelay`).'),
  row('limit-connections', 'Low', 'supported', 'Requests in flight per client address, over the Ingress\'s paths; more get 503 (`limit-conn-status-code`). Counted per data-plane worker, not divided among them: a client spreading its requests over several connections can get up to `--workers` times the limit (docs/route-model.md#ratelimit).'),
  row('limit-rate', 'Low', 'supported', 'Each response body is paced to this many kilobytes (1024 bytes) per second, per request, whatever `proxy-buffering` says (ingress-nginx asks for it on; signalbox never buffers a whole response, the upstream is read no faster than the client is sent); 0 turns it off.'),
  row('limit-rate-after', 'Low', 'supported', 'The first kilobytes of each response go unpaced.'),
  row('limit-rpm', 'Low', 'supported', 'Requests per minute per client address, over the Ingress\'s paths; more get 503 (`limit-req-status-code`). Counted per data-plane worker, not divided among them: a client spreading its requests over several connections can get up to `--workers` times the limit (docs/route-model.md#ratelimit).'),
  row('limit-rps', 'Low', 'supported', 'Requests per second per client address, over the Ingress\'s paths; more get 503 (`limit-req-status-code`). Counted per data-plane worker, not divided among them: a client spreading its requests over several connections can get up to `--workers` times the limit (docs/route-model.md#ratelimit).'),
  row('limit-whitelist', 'Low', 'supported', 'The former name of `limit-allowlist`.'),
  row('load-balance', 'Low', 'supported', '`round_robin`, `ewma`; without it (or with another value), the ConfigMap\'s `load-balance`.'),
  row('mirror-host', 'High', 'supported', 'The `Host` of the copies (default: the host name of `mirror-target`).'),
  row('mirror-request-body', 'Low', 'supported', '`off`: the copies carry no body. On (the default), the body is teed to the mirror as the original streams; a mirror more than 1 MiB behind has its copy cut off rather than slowing the original.'),
  row('mirror-target', 'High', 'supported', 'Every request that goes upstream is copied to the URL, its answer ignored. Only `$request_uri`, `$uri`, `$args` and `$is_args` are expanded, after the host (other variables are refused); a URL without a path gets `/` and the request\'s query, not nginx\'s internal `/_mirror-<uid>`. A slow mirror never slows the original.'),
  row('modsecurity-snippet', 'Critical', 'unsupported', 'No web application firewall.'),
  row('modsecurity-transaction-id', 'High', 'unsupported', 'No web application firewall.'),
  row('opentelemetry-operation-name', 'Medium', 'unsupported', 'No tracing.'),
  row('opentelemetry-trust-incoming-span', 'Low', 'unsupported', 'No tracing.'),
  row('permanent-redirect', 'Medium', 'supported', 'Answers 301 (or `permanent-redirect-code`) with the URL; `$host`, and `$request_uri` or `$uri` right after the host, are expanded, other variables refused. A path (`/new-location`) is completed as nginx completes it: the request\'s scheme and host, no port (see `use-port-in-redirects`, `relative-redirects`).'),
  row('permanent-redirect-code', 'Low', 'supported', 'The status of `permanent-redirect`.'),
  row('preserve-trailing-slash', 'Medium', 'differs', 'Redirects to HTTPS keep the path as it is, trailing slash included.'),
  row('proxy-body-size', 'Medium', 'supported', 'Larger request bodies get 413 (declared or counted while they stream); `0` is no limit.'),
  row('proxy-buffer-size', 'Low', 'not-applicable', BUFFERS),
  row('proxy-buffering', 'Low', 'not-applicable', BUFFERS),
  row('proxy-buffers-number', 'Low', 'not-applicable', BUFFERS),
  row('proxy-busy-buffers-size', 'Low', 'not-applicable', BUFFERS),
  row('proxy-connect-timeout', 'Low', 'supported', 'Seconds to connect to an endpoint; more than 60 is capped at 60, with a warning.'),
  row('proxy-cookie-domain', 'Medium', 'supported', '`FROM TO`: a `Domain` attribute of the upstream\'s Set-Cookie fields equal to FROM (any case, a leading dot aside, which is kept) becomes TO; `off` by default. A regular expression (`~`) is not supported (reported, ignored).'),
  row('proxy-cookie-path', 'Medium', 'supported', '`FROM TO`: a `Path` attribute of the upstream\'s Set-Cookie fields that begins with FROM (case-sensitively) has it replaced by TO; `off` by default. A regular expression (`~`) is not supported (reported, ignored).'),
  row('proxy-http-version', 'Low', 'not-applicable', 'The upstream protocol comes from `backend-protocol`.'),
  row('proxy-max-temp-file-size', 'Low', 'not-applicable', BUFFERS),
  row('proxy-next-upstream', 'Medium', 'differs', 'Connect failures (and resets of idempotent requests) are retried on another endpoint; `http_5xx` conditions are not read.'),
  row('proxy-next-upstream-timeout', 'Low', 'supported', 'Seconds (0: no limit, the default): no retry starts once this long has passed since the first attempt was sent; the attempt under way is not cut short (the cluster\'s `retry.timeoutMs`).'),
  row('proxy-next-upstream-tries', 'Low', 'supported', 'Tries, the first one included.'),
  row('proxy-read-timeout', 'Low', 'supported', 'Seconds to wait for the response head, and between two reads of the body; more than 3600 is capped at 3600, with a warning.'),
  row('proxy-redirect-from', 'Medium', 'supported', 'With `proxy-redirect-to`: an upstream `Location` (or `Refresh` URL) that begins with it (case-sensitively) has that beginning replaced, written as it is (not made absolute). `off` (the default) and `default` rewrite nothing, as in ingress-nginx; so does it alone (reported). A regular expression (`~`) is not supported.'),
  row('proxy-redirect-to', 'Medium', 'supported', 'The replacement of `proxy-redirect-from`; `off` (the default) rewrites nothing.'),
  row('proxy-request-buffering', 'Low', 'not-applicable', BUFFERS),
  row('proxy-send-timeout', 'Low', 'differs', 'Bounds the silence of the client\'s body (`--request-body-idle-timeout` per route is not available).'),
  row('proxy-ssl-ciphers', 'Medium', 'supported', 'An OpenSSL cipher list for TLS 1.2 (names starting `TLS_` choose the TLS 1.3 suites too); a list OpenSSL matches no cipher with is reported and ignored. Without it, Node.js\'s default list (ingress-nginx: OpenSSL\'s `DEFAULT`). Applies without `proxy-ssl-secret` too.'),
  row('proxy-ssl-name', 'High', 'supported', 'The name verified in the endpoint\'s certificate (and sent as SNI).'),
  row('proxy-ssl-protocols', 'Low', 'differs', '`TLSv1.2` and `TLSv1.3`, separated by spaces; `TLSv1`, `TLSv1.1` (and SSL) are never offered (RFC 8996; Node.js\'s OpenSSL refuses them), dropped with a warning. Without it, TLS 1.2 and 1.3, where ingress-nginx offers only TLS 1.2 once `proxy-ssl-secret` is set. Applies without `proxy-ssl-secret` too.'),
  row('proxy-ssl-secret', 'Medium', 'supported', '`namespace/name` of a Secret with `ca.crt` (and `tls.crt`/`tls.key` for a client certificate).'),
  row('proxy-ssl-server-name', 'Low', 'differs', 'SNI is always sent when the name is not an IP address.'),
  row('proxy-ssl-verify', 'Low', 'supported', '`on` verifies the endpoint\'s certificate against `proxy-ssl-secret`.'),
  row('proxy-ssl-verify-depth', 'Low', 'not-applicable', 'The whole chain is verified.'),
  row('relative-redirects', 'Low', 'supported', '`"true"`: a `permanent-redirect` to a path answers with the path alone as Location (nginx\'s `absolute_redirect off`). The redirect to HTTPS, `app-root` and `from-to-www-redirect` stay absolute, as in ingress-nginx.'),
  row('rewrite-target', 'Medium', 'supported', 'The path the upstream gets, with `$1`..`$9` from the path\'s capture groups; implies `use-regex`.'),
  row('satisfy', 'Low', 'supported', '`any`: the first access check that admits the request suffices, in nginx\'s order — the address lists (`allowlist-source-range`, `denylist-source-range`, a snippet\'s `allow`/`deny`), basic authentication, then `auth-url` (asked only when neither admitted the request); a request none admits gets the last check\'s answer, a refused password\'s 401 (or the `auth-signin` redirect) over the auth service\'s 403. Skipped checks still keep the client\'s `Authorization` and `auth-response-headers` fields from the upstream. When both refuse with 401, only the auth service\'s `WWW-Authenticate` is sent (nginx sends both).'),
  row('server-alias', 'High', 'supported', 'More names served with the Ingress\'s routes, unless an Ingress names them as a host (then the alias is ignored, reported). Their TLS certificate is the one of a `spec.tls` entry naming them, else the default.'),
  row('server-snippet', 'Critical', 'differs', 'Refused unless the ConfigMap allows snippets. The directives of `configuration-snippet`, applied to the paths of this Ingress only (not to other Ingresses of the host), before its `configuration-snippet`; anything else refuses the Ingress (see Snippets).'),
  row('service-upstream', 'Low', 'not-applicable', 'signalbox always balances over the EndpointSlice endpoints itself.'),
  row('session-cookie-change-on-failure', 'Low', 'differs', 'Always: a pinned endpoint that is not usable is replaced.'),
  row('session-cookie-conditional-samesite-none', 'Low', 'supported', 'With `session-cookie-samesite: None`: no SameSite attribute for the user agents ingress-nginx lists as refusing `SameSite=None` (Chrome 40 to 69, iOS 12, Safari on macOS 10.14).'),
  row('session-cookie-domain', 'Medium', 'supported', 'The cookie\'s `Domain` (lower case; a leading dot, which browsers ignore, is dropped). Without it the cookie has none.'),
  row('session-cookie-expires', 'Medium', 'supported', 'Seconds; as `session-cookie-max-age`.'),
  row('session-cookie-max-age', 'Medium', 'supported', 'Seconds.'),
  row('session-cookie-name', 'Medium', 'supported', 'Default `INGRESSCOOKIE`.'),
  row('session-cookie-path', 'Medium', 'supported', 'The cookie\'s Path.'),
  row('session-cookie-samesite', 'Low', 'supported', '`None`, `Lax` or `Strict`, in any case (the cookie says them so). Without it the cookie is `SameSite=Lax`, where ingress-nginx writes no SameSite (browsers take most cookies without one as Lax).'),
  row('session-cookie-secure', 'Low', 'differs', 'The cookie is `Secure` on HTTPS.'),
  row('ssl-ciphers', 'Low', 'supported', 'The OpenSSL cipher list of TLS 1.2 handshakes for the host (every Ingress of it: the oldest that sets it gives it); a list OpenSSL matches no cipher with is reported and ignored. A handshake without SNI, or for a name no Ingress has, keeps the listener\'s list (the ConfigMap\'s `ssl-ciphers`, else Node.js\'s).'),
  row('ssl-passthrough', 'Low', 'supported', 'TLS passthrough by SNI, without `--enable-ssl-passthrough`.'),
  row('ssl-prefer-server-ciphers', 'Low', 'supported', '`true`: the host\'s cipher order chooses, else the client\'s (every Ingress of the host: the oldest that sets it gives it). Without it, the client\'s order (Node.js\'s default), where ingress-nginx\'s configuration prefers the server\'s.'),
  row('ssl-redirect', 'Low', 'supported', 'Plain HTTP is redirected (308, `http-redirect-code`) to HTTPS when the host has TLS.'),
  row('stream-snippet', 'Critical', 'unsupported', 'A snippet of nginx configuration; refused (see Snippets).'),
  row('temporal-redirect', 'Medium', 'supported', 'Answers 302 (or `temporal-redirect-code`) with the URL; variables as `permanent-redirect`.'),
  row('temporal-redirect-code', 'Low', 'supported', 'The status of `temporal-redirect`.'),
  row('upstream-hash-by', 'High', 'supported', 'Ring hash on `$request_uri`, `$uri`, `$remote_addr`, `$http_NAME`, `$cookie_NAME` or `$arg_NAME`; other variables and combinations are reported and ignored.'),
  row('upstream-hash-by-subset', 'Low', 'differs', '`"true"` with `upstream-hash-by`: the endpoints (by `address:port`) are cut into sets of `upstream-hash-by-subset-size`, the last filled up from the first; the key\'s hash picks a set on a ring, then an endpoint of it at random, as ingress-nginx\'s chashsubset. Differs: the ring hashes with signalbox\'s function, not resty.chash\'s CRC32, so which set a key lands in is not the same, and a request without the key is balanced over every endpoint.'),
  row('upstream-hash-by-subset-size', 'Low', 'supported', 'The size of the sets of `upstream-hash-by-subset` (default 3; 0 is 3).'),
  row('upstream-vhost', 'Low', 'supported', 'The Host header the upstream gets.'),
  row('use-port-in-redirects', 'Low', 'supported', '`"true"`: the redirect to HTTPS names the data plane\'s HTTPS port (`https://host:8443/…`; 443 is left out, which ingress-nginx writes as `:443`, the same URL), and a `permanent-redirect` to a path the port the request came in on. Default (the ConfigMap\'s, else false): no port. `app-root` keeps the client\'s `Host`, as nginx\'s `$http_host`.'),
  row('use-regex', 'Low', 'supported', 'The host\'s paths are case-insensitive regular expressions anchored at the start (linear-time engine).'),
  row('whitelist-source-range', 'Medium', 'supported', 'The former name of `allowlist-source-range`.'),
  row('x-forwarded-prefix', 'Medium', 'supported', 'Sent as `X-Forwarded-Prefix` with a `rewrite-target`.'),
]);

const BY_NAME = new Map(NGINX_ANNOTATIONS.map((a) => [a.name, a]));

/** The row of an annotation (without the prefix), or undefined for a name ingress-nginx does not have. */
export function nginxAnnotation(name: string): NginxAnnotation | undefined {
  return BY_NAME.get(name);
}

/** Whether `risk` is above `level` (ingress-nginx refuses such annotations). */
export function riskAbove(risk: RiskLevel, level: RiskLevel): boolean {
  return RISK_LEVELS.indexOf(risk) > RISK_LEVELS.indexOf(level);
}
