/**
 * The settings the Ingress translation takes its defaults from: the profile's own, changed by the
 * keys of the ingress-nginx controller ConfigMap (config-map.ts) when one is read.
 */
import type { HostTlsParameters } from '../../model/tls-parameters.ts';
import type { ExternalAuthFilter, ValueMatch } from '../../model/table.ts';
import type { LbPolicy } from '../../model/policy.ts';
import type { Profile } from './profile.ts';
import type { RiskLevel } from './annotation-table.ts';
import type { ResponseRewriteValues } from './response-rewrite-annotations.ts';
import type { CompressFilter } from '../../model/table.ts';

/** HSTS as ingress-nginx sends it on HTTPS answers of hosts with TLS. */
export interface HstsSettings {
  readonly maxAgeSeconds: number;
  readonly includeSubdomains: boolean;
  readonly preload: boolean;
}

/** Redirect statuses ingress-nginx accepts for `http-redirect-code`. */
export type RedirectCode = 301 | 302 | 307 | 308;

/** What a translated Ingress defaults to. */
export interface NginxSettings {
  readonly profile: Profile;
  /** Largest request body in bytes (`proxy-body-size`); 0: no limit. */
  readonly proxyBodySize: number;
  /** Redirect plain HTTP to HTTPS on hosts with TLS (`ssl-redirect`). */
  readonly sslRedirect: boolean;
  /** Redirect plain HTTP to HTTPS on every host (`force-ssl-redirect`). */
  readonly forceSslRedirect: boolean;
  /** The status of those redirects (`http-redirect-code`). */
  readonly httpRedirectCode: RedirectCode;
  /** `use-port-in-redirects`: every Ingress's default for the annotation. */
  readonly usePortInRedirects: boolean;
  /** `relative-redirects` (nginx's `absolute_redirect off` at http level): no Ingress can turn it back on. */
  readonly relativeRedirects: boolean;
  /** Null: no HSTS header. */
  readonly hsts: HstsSettings | null;
  /** `allow-snippet-annotations`. */
  readonly allowSnippetAnnotations: boolean;
  /** `annotations-risk-level`: an Ingress with an annotation above it is refused. */
  readonly riskLevel: RiskLevel;
  /** Global `whitelist-source-range` CIDRs; empty: none. */
  readonly allowSourceRange: readonly string[];
  /** Global `denylist-source-range` CIDRs; empty: none. */
  readonly denySourceRange: readonly string[];
  /** `proxy-connect-timeout` in ms from the ConfigMap; null: the Service's (or the flags'). */
  readonly connectTimeoutMs: number | null;
  /** `proxy-read-timeout` in ms; null: the Service's (or the flags'). */
  readonly readTimeoutMs: number | null;
  /** `load-balance`: every Ingress's default for the annotation; null: the Service's (or signalbox's round robin). */
  readonly loadBalance: LbPolicy | null;
  /** `retry-non-idempotent`: POST, PATCH and LOCK are retried like the other methods. */
  readonly retryNonIdempotent: boolean;
  /** `proxy-next-upstream-tries`; null: the Service's (or signalbox's default). */
  readonly nextUpstreamTries: number | null;
  /** `proxy-next-upstream-timeout` in ms; null: no limit (its 0). */
  readonly nextUpstreamTimeoutMs: number | null;
  /** `strict-validate-path-type`: Exact and Prefix paths may hold only letters, digits, `/ . _ -`. */
  readonly strictValidatePathType: boolean;
  /** `generate-request-id`: requests without `X-Request-ID` get one on the way upstream. */
  readonly generateRequestId: boolean;
  /** `limit-req-status-code`: the status of a request over `limit-rps` / `limit-rpm` (400..599). */
  readonly limitReqStatusCode: number;
  /** `limit-conn-status-code`: the status of a request over `limit-connections` (400..599). */
  readonly limitConnStatusCode: number;
  /** `limit-rate`: kilobytes (1024 bytes) per second each response is paced to; 0: not paced. */
  readonly limitRate: number;
  /** `limit-rate-after`: kilobytes of each response sent before the pacing starts. */
  readonly limitRateAfter: number;
  /**
   * `global-auth-url` and its keys: asked for every Ingress without an `auth-url` of its own (and
   * without `enable-global-auth: "false"`); `unusable` when the URL cannot be asked (those
   * Ingresses are then refused); null: none.
   */
  readonly globalAuth: ExternalAuthFilter | 'unusable' | null;
  /** `no-auth-locations`: paths starting with one of these are never authenticated. */
  readonly noAuthLocations: readonly string[];
  /** `no-tls-redirect-locations`: paths starting with one of these are never redirected to HTTPS. */
  readonly noTlsRedirectLocations: readonly string[];
  /** `proxy-set-headers`: fields set on every request upstream, from the ConfigMap it names. */
  readonly proxySetHeaders: readonly HeaderField[];
  /** `add-headers`: fields set on every response to the client, from the ConfigMap it names. */
  readonly addHeaders: readonly HeaderField[];
  /**
   * `forwarded-for-header`, lower-case: the header the client address is read from when the peer
   * is a trusted proxy (`--trusted-proxies`, signalbox's `use-forwarded-headers`).
   */
  readonly forwardedForHeader: string;
  /** `proxy-add-original-uri-header`: X-Original-URI (the request target as sent) goes upstream. */
  readonly addOriginalUriHeader: boolean;
  /** `block-cidrs`: client addresses refused (403) on every path, canonical CIDRs; empty: none. */
  readonly blockCidrs: readonly string[];
  /** `block-user-agents`: User-Agent values refused (403) on every route; empty: none. */
  readonly blockUserAgents: readonly ValueMatch[];
  /** `block-referers`: Referer values refused (403) on every route; empty: none. */
  readonly blockReferers: readonly ValueMatch[];
  /** `skip-access-log-urls`: request targets (`$request_uri`) that write no access-log line. */
  readonly skipAccessLogUrls: readonly ValueMatch[];
  /** `hide-headers`: lower-case names of upstream response headers never passed to the client. */
  readonly hideHeaders: readonly string[];
  /** `global-allowed-response-headers`: the headers a `custom-headers` ConfigMap may set. */
  readonly allowedResponseHeaders: readonly string[];
  /**
   * `custom-http-errors`: statuses (ascending) whose answers are replaced by the global default
   * backend's page, on every Ingress that has no `custom-http-errors` of its own; empty: none.
   */
  readonly customHttpErrors: readonly number[];
  /**
   * `proxy-redirect-from`, `proxy-redirect-to`, `proxy-cookie-path`, `proxy-cookie-domain` as the
   * ConfigMap writes them (those it got wrong left out): every Ingress's defaults for the
   * annotations of the same names. Absent: `off`.
   */
  readonly responseRewrites: ResponseRewriteValues;
  /**
   * `ssl-ciphers` and `ssl-protocols`: the TLS parameters of every host
   * the Ingresses name, unless an Ingress of the host sets its own (`ssl-ciphers` annotation);
   * null: the listener's (only a ConfigMap that sets them changes anything).
   */
  readonly hostTls: HostTlsParameters | null;
  /**
   * `use-gzip` and `enable-brotli` with their `gzip-*` and `brotli-*` keys: the Compress filter
   * of every route; null (the default of both profiles): responses go as the upstream sent them.
   */
  readonly compress: CompressFilter | null;
}

/** A header field as a ConfigMap of headers gives it: a lower-case name and its value. */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

/** signalbox's defaults: nothing added that the Ingress does not ask for; snippets' safe subset applied. */
export const SIGNALBOX_SETTINGS: NginxSettings = Object.freeze({
  profile: 'signalbox',
  proxyBodySize: 0,
  sslRedirect: false,
  forceSslRedirect: false,
  httpRedirectCode: 308,
  usePortInRedirects: false,
  relativeRedirects: false,
  hsts: null,
  allowSnippetAnnotations: true,
  riskLevel: 'Critical',
  allowSourceRange: Object.freeze([]),
  denySourceRange: Object.freeze([]),
  connectTimeoutMs: null,
  readTimeoutMs: null,
  nextUpstreamTries: null,
  loadBalance: null,
  retryNonIdempotent: false,
  nextUpstreamTimeoutMs: null,
  strictValidatePathType: false,
  generateRequestId: false,
  limitReqStatusCode: 503,
  limitConnStatusCode: 503,
  limitRate: 0,
  limitRateAfter: 0,
  globalAuth: null,
  noAuthLocations: Object.freeze([]),
  noTlsRedirectLocations: Object.freeze([]),
  proxySetHeaders: Object.freeze([]),
  addHeaders: Object.freeze([]),
  hideHeaders: Object.freeze([]),
  skipAccessLogUrls: Object.freeze([]),
  blockCidrs: Object.freeze([]),
  blockUserAgents: Object.freeze([]),
  blockReferers: Object.freeze([]),
  forwardedForHeader: 'x-forwarded-for',
  addOriginalUriHeader: false,
  allowedResponseHeaders: Object.freeze([]),
  customHttpErrors: Object.freeze([]),
  responseRewrites: Object.freeze({}),
  hostTls: null,
  compress: null,
});

/** ingress-nginx v1.12–v1.15's defaults (its default ConfigMap). */
export const INGRESS_NGINX_SETTINGS: NginxSettings = Object.freeze({
  profile: 'ingress-nginx',
  proxyBodySize: 1024 * 1024,
  sslRedirect: true,
  forceSslRedirect: false,
  httpRedirectCode: 308,
  usePortInRedirects: false,
  relativeRedirects: false,
  hsts: Object.freeze({ maxAgeSeconds: 31_536_000, includeSubdomains: true, preload: false }),
  allowSnippetAnnotations: false,
  riskLevel: 'High',
  allowSourceRange: Object.freeze([]),
  denySourceRange: Object.freeze([]),
  // ingress-nginx's 5 s, 60 s and 3 tries are close to signalbox's own defaults; only a ConfigMap
  // that sets them gives every Ingress's backends clusters of their own.
  connectTimeoutMs: null,
  readTimeoutMs: null,
  nextUpstreamTries: null,
  loadBalance: null,
  retryNonIdempotent: false,
  nextUpstreamTimeoutMs: null,
  strictValidatePathType: true,
  generateRequestId: true,
  limitReqStatusCode: 503,
  limitConnStatusCode: 503,
  limitRate: 0,
  limitRateAfter: 0,
  globalAuth: null,
  noAuthLocations: Object.freeze(['/.well-known/acme-challenge']),
  noTlsRedirectLocations: Object.freeze(['/.well-known/acme-challenge']),
  proxySetHeaders: Object.freeze([]),
  addHeaders: Object.freeze([]),
  hideHeaders: Object.freeze([]),
  skipAccessLogUrls: Object.freeze([]),
  blockCidrs: Object.freeze([]),
  blockUserAgents: Object.freeze([]),
  blockReferers: Object.freeze([]),
  forwardedForHeader: 'x-forwarded-for',
  addOriginalUriHeader: false,
  allowedResponseHeaders: Object.freeze([]),
  customHttpErrors: Object.freeze([]),
  responseRewrites: Object.freeze({}),
  hostTls: null,
  compress: null,
});

/** The defaults of `profile`. */
export function profileSettings(profile: Profile): NginxSettings {
  return profile === 'ingress-nginx' ? INGRESS_NGINX_SETTINGS : SIGNALBOX_SETTINGS;
}

/** The value of an `Strict-Transport-Security` header for `hsts`. */
export function hstsValue(hsts: HstsSettings): string {
  return `max-age=${hsts.maxAgeSeconds}${hsts.includeSubdomains ? '; includeSubDomains' : ''}${hsts.preload ? '; preload' : ''}`;
}
