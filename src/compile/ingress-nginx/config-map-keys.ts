/**
 * Every key of ingress-nginx's controller ConfigMap it documents, with what signalbox does with it
 * (see {@link Support}). config-map.ts reads the supported ones; a ConfigMap that sets any other is
 * reported once, naming them; docs/migrating-from-ingress-nginx.md is generated from this table.
 */
import type { Support } from './annotation-table.ts';

/** One key of the table. */
export interface NginxConfigKey {
  readonly name: string;
  readonly support: Support;
  readonly note: string;
}

const NGINX_INTERNAL = 'An nginx internal; signalbox has no such setting.';
const NO_TRACING = 'No tracing.';
const NO_WAF = 'No web application firewall.';
const NO_GEOIP = 'No GeoIP.';
const LOGS = 'signalbox logs JSON lines (`--access-log`).';
const TLS_DEFAULTS = 'Node.js\'s TLS defaults (TLS 1.2 and 1.3, its cipher list).';
const TRUST = 'Use `--trusted-proxies` (X-Forwarded-For) or `--proxy-protocol`.';

const rows: [string, Support, string][] = [
  ['add-headers', 'supported', '`namespace/name` of a ConfigMap whose entries are set on every response (values with nginx variables are left out, reported).'],
  ['allow-backend-server-header', 'not-applicable', 'The upstream\'s Server header is always passed.'],
  ['allow-cross-namespace-resources', 'not-applicable', 'Annotations naming Secrets read them from the Ingress\'s namespace only.'],
  ['allow-snippet-annotations', 'supported', 'With `annotations-risk-level: Critical`, snippets are applied (their safe subset).'],
  ['annotations-risk-level', 'supported', 'An Ingress with an annotation above the level is refused (default High: snippets are refused).'],
  ['annotation-value-word-blocklist', 'not-applicable', 'Annotation values never reach a configuration file.'],
  ['hide-headers', 'supported', 'Upstream response headers removed on every route (a name that is not a header name is reported and left out).'],
  ['access-log-params', 'not-applicable', LOGS], ['access-log-path', 'not-applicable', LOGS], ['http-access-log-path', 'not-applicable', LOGS],
  ['stream-access-log-path', 'not-applicable', LOGS], ['enable-access-log-for-default-backend', 'not-applicable', LOGS], ['error-log-path', 'not-applicable', LOGS],
  ['enable-modsecurity', 'unsupported', NO_WAF], ['modsecurity-snippet', 'unsupported', NO_WAF], ['enable-owasp-modsecurity-crs', 'unsupported', NO_WAF],
  ['client-header-buffer-size', 'differs', 'Request heads are bounded by `--max-header-bytes`.'],
  ['client-header-timeout', 'differs', 'Use `--request-header-timeout`.'],
  ['client-body-buffer-size', 'not-applicable', 'Bodies stream.'],
  ['client-body-timeout', 'differs', 'Use `--request-body-idle-timeout`.'],
  ['disable-access-log', 'differs', 'Use `--access-log off`.'],
  ['disable-ipv6', 'not-applicable', 'Use `--bind`.'], ['disable-ipv6-dns', 'not-applicable', 'signalbox resolves no names for routing.'],
  ['enable-underscores-in-headers', 'not-applicable', 'Header names with underscores are accepted.'],
  ['enable-ocsp', 'unsupported', 'No OCSP stapling.'],
  ['ignore-invalid-headers', 'differs', 'Invalid header names are always refused (400).'],
  ['retry-non-idempotent', 'differs', 'POST, PATCH and LOCK are retried like other methods (a reset, a listed status), but only without a body: a body streams and is never sent twice.'],
  ['error-log-level', 'differs', 'Use `--log-level`.'],
  ['http2-max-field-size', 'differs', 'Use `--max-header-bytes`.'], ['http2-max-header-size', 'differs', 'Use `--max-header-bytes`.'],
  ['http2-max-requests', 'not-applicable', 'HTTP/2 connections are not closed after a count.'],
  ['http2-max-concurrent-streams', 'differs', 'Use `--http2-max-concurrent-streams`.'],
  ['hsts', 'supported', 'Strict-Transport-Security on HTTPS answers of hosts with TLS.'],
  ['hsts-include-subdomains', 'supported', ''], ['hsts-max-age', 'supported', ''], ['hsts-preload', 'supported', ''],
  ['keep-alive', 'differs', 'Use `--keep-alive-timeout`.'], ['keep-alive-requests', 'not-applicable', 'Connections are not closed after a count.'],
  ['large-client-header-buffers', 'differs', 'Use `--max-header-bytes`.'],
  ['log-format-escape-none', 'not-applicable', LOGS], ['log-format-escape-json', 'not-applicable', LOGS], ['log-format-upstream', 'not-applicable', LOGS], ['log-format-stream', 'not-applicable', LOGS],
  ['enable-multi-accept', 'not-applicable', NGINX_INTERNAL], ['max-worker-connections', 'differs', 'Use `--max-connections`.'], ['max-worker-open-files', 'not-applicable', NGINX_INTERNAL],
  ['map-hash-bucket-size', 'not-applicable', NGINX_INTERNAL],
  ['nginx-status-ipv4-whitelist', 'not-applicable', 'The admin port serves status and metrics.'], ['nginx-status-ipv6-whitelist', 'not-applicable', 'The admin port serves status and metrics.'],
  ['proxy-real-ip-cidr', 'differs', TRUST],
  ['proxy-set-headers', 'supported', '`namespace/name` of a ConfigMap whose entries are set on every request upstream (values with nginx variables are left out, reported).'],
  ['server-name-hash-max-size', 'not-applicable', NGINX_INTERNAL], ['server-name-hash-bucket-size', 'not-applicable', NGINX_INTERNAL],
  ['proxy-headers-hash-max-size', 'not-applicable', NGINX_INTERNAL], ['proxy-headers-hash-bucket-size', 'not-applicable', NGINX_INTERNAL],
  ['reuse-port', 'not-applicable', NGINX_INTERNAL], ['server-tokens', 'not-applicable', 'signalbox sends no Server header of its own.'],
  ['ssl-ciphers', 'differs', 'The OpenSSL cipher list of every TLS 1.2 handshake of the HTTPS port, as nginx\'s http-level default: with or without SNI, for a name no Ingress has too (an Ingress\'s `ssl-ciphers` wins for its host). Unset, Node.js\'s list, not ingress-nginx\'s.'], ['ssl-ecdh-curve', 'unsupported', TLS_DEFAULTS], ['ssl-dh-param', 'unsupported', TLS_DEFAULTS], ['ssl-protocols', 'differs', '`TLSv1.2` and `TLSv1.3` for every handshake of the HTTPS port, as nginx\'s http-level default: with or without SNI, for a name no Ingress has too (TLS 1.0 and 1.1 are never offered, reported).'],
  ['ssl-session-cache', 'not-applicable', 'TLS sessions are resumed with tickets.'], ['ssl-session-cache-size', 'not-applicable', 'TLS sessions are resumed with tickets.'],
  ['ssl-session-tickets', 'unsupported', 'Tickets are always on.'], ['ssl-session-ticket-key', 'unsupported', 'Ticket keys are generated per worker.'], ['ssl-session-timeout', 'unsupported', TLS_DEFAULTS],
  ['ssl-buffer-size', 'not-applicable', NGINX_INTERNAL],
  ['use-proxy-protocol', 'differs', 'Use `--proxy-protocol` (with `--trusted-proxies`).'],
  ['proxy-protocol-header-timeout', 'differs', 'The request header timeout bounds it.'],
  ['enable-aio-write', 'not-applicable', NGINX_INTERNAL],
  ['use-gzip', 'supported', 'Responses of 200, 403 and 404 whose type is in `gzip-types` are sent gzip-compressed to a client that accepts it, with `Vary: Accept-Encoding` (`gzip_proxied any`, `gzip_vary on`); never the proxy\'s own answers.'],
  ['gzip-disable', 'supported', '`msie6`, or one regular expression in JavaScript syntax matched against User-Agent, without case; one that does not compile is reported.'],
  ['gzip-level', 'supported', 'node:zlib\'s gzip at that level (1–9).'], ['gzip-min-length', 'supported', 'Compared with Content-Length; a response without one is compressed.'],
  ['gzip-types', 'supported', 'Space-separated types, `text/html` always among them; `*` for any (gRPC responses never).'],
  ['enable-brotli', 'supported', 'As `use-gzip`, with brotli; a client that accepts both gets brotli, as with ngx_brotli.'], ['brotli-level', 'supported', 'node:zlib\'s brotli quality (0–11).'],
  ['brotli-min-length', 'supported', 'Compared with Content-Length; a response without one is compressed.'], ['brotli-types', 'supported', 'As `gzip-types`.'],
  ['use-geoip', 'unsupported', NO_GEOIP], ['use-geoip2', 'unsupported', NO_GEOIP], ['geoip2-autoreload-in-minutes', 'unsupported', NO_GEOIP],
  ['use-http2', 'differs', "HTTP/2 is always offered by ALPN on HTTPS, and with prior knowledge (h2c) on the plain HTTP port, as nginx's `http2 on` does; `false` is `--no-http2-cleartext` for the plain port."],
  ['worker-processes', 'differs', 'Use `--workers`.'], ['worker-cpu-affinity', 'not-applicable', NGINX_INTERNAL], ['worker-shutdown-timeout', 'differs', 'Use `--grace`.'],
  ['enable-serial-reloads', 'not-applicable', 'signalbox never reloads.'],
  ['load-balance', 'supported', '`round_robin` (signalbox\'s round robin) or `ewma` (its peak-EWMA balancer), for every Ingress without the annotation or `upstream-hash-by` (default round robin).'],
  ['variables-hash-bucket-size', 'not-applicable', NGINX_INTERNAL], ['variables-hash-max-size', 'not-applicable', NGINX_INTERNAL],
  ['upstream-keepalive-connections', 'differs', 'Idle connections are not counted on their own; `signalbox.dev/max-connections` on the Service bounds all its open connections.'], ['upstream-keepalive-time', 'not-applicable', NGINX_INTERNAL],
  ['upstream-keepalive-timeout', 'not-applicable', 'Idle upstream connections are closed as the upstream\'s Keep-Alive says.'], ['upstream-keepalive-requests', 'not-applicable', NGINX_INTERNAL],
  ['limit-conn-zone-variable', 'unsupported', 'Rate limits are always keyed by the client address (`$binary_remote_addr`, after `--trusted-proxies`).'],
  ['proxy-stream-timeout', 'differs', 'Use `--stream-idle-timeout`.'], ['proxy-stream-next-upstream', 'unsupported', 'TCP services connect once.'],
  ['proxy-stream-next-upstream-timeout', 'unsupported', 'TCP services connect once.'], ['proxy-stream-next-upstream-tries', 'unsupported', 'TCP services connect once.'], ['proxy-stream-responses', 'differs', 'UDP sessions end after `--udp-idle-timeout`.'],
  ['bind-address', 'differs', 'Use `--bind`.'],
  ['use-forwarded-headers', 'differs', TRUST], ['enable-real-ip', 'differs', TRUST], ['forwarded-for-header', 'supported', 'The header the client address is read from when the peer is in `--trusted-proxies` (the right-most untrusted address in it). X-Forwarded-For is still what goes upstream, appended to.'],
  ['forwarded-for-proxy-protocol-header', 'unsupported', 'Not read.'], ['compute-full-forwarded-for', 'differs', 'X-Forwarded-For is always appended to.'],
  ['proxy-add-original-uri-header', 'supported', 'X-Original-URI (the request target as the client sent it) on every request upstream.'],
  ['generate-request-id', 'supported', 'Default true: a request without X-Request-ID gets one (32 hex digits) on its way upstream.'],
  ...['jaeger-collector-host', 'jaeger-collector-port', 'jaeger-endpoint', 'jaeger-service-name', 'jaeger-propagation-format', 'jaeger-sampler-type', 'jaeger-sampler-param', 'jaeger-sampler-host', 'jaeger-sampler-port',
    'jaeger-trace-context-header-name', 'jaeger-debug-header', 'jaeger-baggage-header', 'jaeger-trace-baggage-header-prefix', 'enable-opentelemetry', 'opentelemetry-trust-incoming-span', 'opentelemetry-operation-name',
    'opentelemetry-config', 'otlp-collector-host', 'otlp-collector-port', 'otel-max-queuesize', 'otel-schedule-delay-millis', 'otel-max-export-batch-size', 'otel-service-name', 'otel-sampler',
    'otel-sampler-parent-based', 'otel-sampler-ratio'].map((name): [string, Support, string] => [name, 'unsupported', NO_TRACING]),
  ['main-snippet', 'unsupported', 'nginx configuration; never applied.'], ['http-snippet', 'unsupported', 'nginx configuration; never applied.'],
  ['server-snippet', 'unsupported', 'nginx configuration; never applied.'], ['stream-snippet', 'unsupported', 'nginx configuration; never applied.'], ['location-snippet', 'unsupported', 'nginx configuration; never applied.'],
  ['custom-http-errors', 'supported', 'Error pages from `--default-backend-service` for every Ingress without `custom-http-errors` of its own (as the annotation); without the flag, reported and ignored.'],
  ['proxy-body-size', 'supported', 'Default 1m; `0` is no limit.'],
  ['proxy-connect-timeout', 'supported', 'Seconds.'], ['proxy-read-timeout', 'supported', 'Seconds.'],
  ['proxy-send-timeout', 'unsupported', 'Per route only (the annotation).'],
  ['proxy-buffers-number', 'not-applicable', 'Bodies stream.'], ['proxy-buffer-size', 'not-applicable', 'Bodies stream.'], ['proxy-busy-buffers-size', 'not-applicable', 'Bodies stream.'],
  ['proxy-cookie-path', 'supported', 'Every Ingress\'s default for the annotation (`off`).'], ['proxy-cookie-domain', 'supported', 'Every Ingress\'s default for the annotation (`off`).'],
  ['proxy-next-upstream', 'differs', 'See the annotation.'], ['proxy-next-upstream-timeout', 'supported', 'As the annotation, for every Ingress without its own (default 0: no limit).'],
  ['proxy-next-upstream-tries', 'supported', 'Tries, the first included (default 3).'],
  ['proxy-redirect-from', 'supported', 'Every Ingress\'s default for the annotation (`off`).'], ['proxy-request-buffering', 'not-applicable', 'Bodies stream.'],
  ['ssl-redirect', 'supported', 'Default true.'], ['force-ssl-redirect', 'supported', 'Default false.'],
  ['denylist-source-range', 'supported', 'For every Ingress.'], ['whitelist-source-range', 'supported', 'For every Ingress without its own allow list.'],
  ['skip-access-log-urls', 'supported', 'Requests whose target (path and query, as sent) is one of these write no access-log line; strings are whole targets (case ignored), `~` / `~*` regular expressions match anywhere in them. Still counted in the metrics.'], ['limit-rate', 'supported', 'As the `limit-rate` annotation, for every Ingress without its own (default 0: not paced).'], ['limit-rate-after', 'supported', 'As the `limit-rate-after` annotation, for every Ingress without its own.'],
  ['lua-shared-dicts', 'not-applicable', NGINX_INTERNAL],
  ['http-redirect-code', 'supported', 'The status of redirects to HTTPS (301, 302, 307, 308).'],
  ['proxy-buffering', 'not-applicable', 'Bodies stream.'],
  ['limit-req-status-code', 'supported', 'The status of a request over `limit-rps` / `limit-rpm` (default 503).'], ['limit-conn-status-code', 'supported', 'The status of a request over `limit-connections` (default 503).'],
  ['enable-syslog', 'unsupported', LOGS], ['syslog-host', 'unsupported', LOGS], ['syslog-port', 'unsupported', LOGS],
  ['no-tls-redirect-locations', 'supported', 'Ingress paths starting with one of these are never redirected to HTTPS, even with `force-ssl-redirect` (default `/.well-known/acme-challenge`).'],
  ['global-allowed-response-headers', 'supported', 'The headers a `custom-headers` ConfigMap may set (none by default).'],
  ['global-auth-url', 'supported', 'Asked for every Ingress without an `auth-url` of its own (`enable-global-auth: "false"` opts out); one that cannot be asked refuses those Ingresses.'],
  ...['global-auth-method', 'global-auth-signin', 'global-auth-signin-redirect-param', 'global-auth-response-headers', 'global-auth-request-redirect', 'global-auth-always-set-cookie']
    .map((name): [string, Support, string] => [name, 'supported', `As the \`${name.slice('global-'.length)}\` annotation.`]),
  ['global-auth-snippet', 'unsupported', 'nginx configuration; never applied.'],
  ['global-auth-cache-key', 'supported', 'As the `auth-cache-key` annotation, for the global auth service.'], ['global-auth-cache-duration', 'supported', 'As the `auth-cache-duration` annotation (default `200 202 401 5m`).'],
  ['no-auth-locations', 'supported', 'Paths starting with one of these are never sent to the auth service (default `/.well-known/acme-challenge`).'],
  ['block-cidrs', 'supported', '403 for these client addresses on every path, after the redirect to HTTPS; kept on Ingresses with address lists of their own, which nginx lets override it. An entry that is not an address is reported and left out.'],
  ['block-user-agents', 'supported', '403 for these User-Agent values on every route, before anything else: strings are the whole value (case ignored), `~` / `~*` regular expressions match anywhere in it; one the linear-time engine cannot run is reported and left out.'],
  ['block-referers', 'supported', 'As `block-user-agents`, for Referer.'],
  ['proxy-ssl-location-only', 'not-applicable', 'Backend TLS settings are per Ingress.'],
  ['default-type', 'not-applicable', 'signalbox sets no Content-Type on upstream answers.'],
  ['service-upstream', 'not-applicable', 'signalbox always balances over the EndpointSlice endpoints itself.'],
  ['ssl-reject-handshake', 'unsupported', 'Unknown SNI names get the default certificate.'],
  ['debug-connections', 'not-applicable', 'Use `--log-level debug`.'],
  ['strict-validate-path-type', 'supported', 'Default true: Exact and Prefix paths hold only letters, digits and `/ . _ -`.'],
  ['grpc-buffer-size-kb', 'not-applicable', 'gRPC messages stream.'],
  ['relative-redirects', 'supported', 'As the `relative-redirects` annotation, for every Ingress (an Ingress\'s `"false"` does not turn it off, as in nginx).'],
  ['use-port-in-redirects', 'supported', 'As the `use-port-in-redirects` annotation, for every Ingress without its own (default false).'],
];

/** The table, in ingress-nginx's documentation order. */
export const NGINX_CONFIG_KEYS: readonly NginxConfigKey[] = Object.freeze(rows.map(([name, support, note]) => Object.freeze({ name, support, note })));

const BY_NAME = new Map(NGINX_CONFIG_KEYS.map((k) => [k.name, k]));

/** The row of a ConfigMap key, or undefined for a key ingress-nginx does not document. */
export function nginxConfigKey(name: string): NginxConfigKey | undefined {
  return BY_NAME.get(name);
}
