/**
 * Reading the `nginx.ingress.kubernetes.io/*` annotations of one Ingress into what the translation
 * (ingress-routes.ts) needs, against the table of annotation-table.ts:
 * - an annotation above `annotations-risk-level` refuses the whole Ingress, as ingress-nginx's
 *   admission does (snippets, by default), and so does a snippet while `allow-snippet-annotations`
 *   is off: never a snippet silently dropped; a snippet allowed is read by snippets.ts, and one
 *   holding anything outside its directive subset (`SnippetUnsupported`) refuses the Ingress too;
 * - a name ingress-nginx does not have is `AnnotationUnknown`; annotations signalbox does not
 *   honour are one `AnnotationUnsupported` warning naming them, those it honours differently one
 *   `AnnotationDiffers` each; a value that does not parse is `AnnotationInvalid` and its default is used.
 */
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isRecord } from '../shared/guards.ts';
import type { Identified, ObjectIdentity } from '../shared/objects.ts';
import { NGINX_PREFIX, nginxAnnotation, riskAbove } from './annotation-table.ts';
import type { ClusterOverrides } from '../../model/policy.ts';
import type { HostTlsParameters } from '../../model/tls-parameters.ts';
import { cipherListProblem } from '../shared/cipher-list.ts';
import type { BasicAuthFilter, ClientCertificateAuth, CorsFilter, ExternalAuthFilter, RateLimitFilter, ResponseRateFilter, ResponseRewriteFilter, UrlMirrorFilter } from '../../model/table.ts';
import { clientCertificateAuth, REFUSED_AUTH_TLS } from './auth-tls-annotations.ts';
import { corsFilter } from './cors-annotations.ts';
import { rateLimitFilter, responseRateFilter } from './rate-limit-annotations.ts';
import { readResponseRewrite, RESPONSE_REWRITE_KEYS } from './response-rewrite-annotations.ts';
import { externalAuth, UNUSABLE_AUTH } from './auth-annotations.ts';
import { basicAuth, type SecretIndex } from './basic-auth-annotations.ts';
import { backendOverrides } from './backend-annotations.ts';
import type { HeaderField, NginxSettings } from './settings.ts';
import { customHeaders } from './custom-headers-annotations.ts';
import { errorPagesOf, type NginxErrorPages } from './default-backend-annotations.ts';
import { urlMirror } from './mirror-annotations.ts';
import { parseSnippets, type ParsedSnippets, type SnippetSource } from './snippets.ts';
import { parseBool, parseCidrList, parseInteger, parseNginxSize, type Parsed } from './values.ts';

/** A redirect the Ingress answers every request with (`permanent-redirect`, `temporal-redirect`). */
export interface FixedRedirect {
  /** The URL, its variables left out (`https://new.example.com` of `https://new.example.com$request_uri`). */
  readonly url: URL;
  /** The URL as written. */
  readonly text: string;
  readonly code: 301 | 302 | 303 | 307 | 308;
  /**
   * `permanent-redirect` to a path (`/new-location`): nginx's `return` writes Location from it
   * (absolute unless `relative-redirects`); `url` then holds it on a placeholder origin.
   */
  readonly relative: boolean;
  /** `$host` (or `$http_host`) stood for the host: the request's own is kept. */
  readonly requestHost: boolean;
  /**
   * What follows the origin: `$request_uri` keeps the request's path and query, `$uri` its path
   * alone; null: the URL's own path and query.
   */
  readonly requestTarget: '$request_uri' | '$uri' | null;
}

/** What {@link absoluteUrl} reads: the URL without its variables, and what they stood for. */
type RedirectTarget = Pick<FixedRedirect, 'url' | 'requestHost' | 'requestTarget' | 'relative'>;

/** What one Ingress's ingress-nginx annotations ask for, defaults applied. */
export interface NginxIngress {
  /** `use-regex`: its paths are regular expressions, and so are its hosts' other paths (see ingress-routes.ts). */
  readonly useRegex: boolean;
  /** `rewrite-target`, null when unset. */
  readonly rewriteTarget: string | null;
  readonly xForwardedPrefix: string | null;
  readonly appRoot: string | null;
  /** `permanent-redirect` wins over `temporal-redirect`, as in ingress-nginx. */
  readonly redirect: FixedRedirect | null;
  readonly sslRedirect: boolean;
  readonly forceSslRedirect: boolean;
  readonly fromToWwwRedirect: boolean;
  /** `use-port-in-redirects` (or the ConfigMap's): the redirect to HTTPS names the HTTPS port, nginx's own redirects the port. */
  readonly usePortInRedirects: boolean;
  /** `relative-redirects` or the ConfigMap's: nginx's own redirects (a `permanent-redirect` to a path) write a relative Location. */
  readonly relativeRedirects: boolean;
  readonly upstreamVhost: string | null;
  /** Bytes; 0: no limit. */
  readonly proxyBodySize: number;
  readonly allowSourceRange: readonly string[];
  readonly denySourceRange: readonly string[];
  /**
   * What `server-snippet` and `configuration-snippet` ask for (snippets.ts), null without either
   * (or on a canary, which takes them from its main Ingress). Both apply to every path of this
   * Ingress: the server snippet is not spread to other Ingresses' paths of the same host.
   */
  readonly snippets: ParsedSnippets | null;
  /** The canary rules of a canary Ingress (`canary: "true"`), null for any other. */
  readonly canary: CanaryRules | null;
  /** `custom-headers`: fields set on the Ingress's responses. */
  readonly customHeaders: readonly HeaderField[];
  /** `server-alias`: more host names served like the Ingress's hosts (lower case). */
  readonly serverAliases: readonly string[];
  /** Backend settings (protocol, timeouts, balancing, affinity, retries, TLS); empty: the Service's own. */
  readonly overrides: ClusterOverrides;
  /** `auth-url` and its family; null without it. */
  readonly auth: ExternalAuthFilter | null;
  /** `auth-type: basic` with the users of its `auth-secret`; null without it. */
  readonly basicAuth: BasicAuthFilter | null;
  /**
   * `auth-tls-secret` and its family: the client-certificate check of the Ingress's hosts (the
   * first Ingress of a host that sets one gives it, as in ingress-nginx); null without it.
   */
  readonly clientAuth: ClientCertificateAuth | null;
  /**
   * `ssl-ciphers` and `ssl-prefer-server-ciphers`: the TLS parameters of the Ingress's hosts (field
   * by field, the first Ingress of a host that sets one gives it, as in ingress-nginx); null without.
   */
  readonly hostTls: HostTlsParameters | null;
  /** `enable-cors` and its family; null without it. */
  readonly cors: CorsFilter | null;
  /** `limit-rps`, `limit-rpm`, `limit-connections` and their family; null without a limit. */
  readonly rateLimit: RateLimitFilter | null;
  /** `default-backend` and `custom-http-errors`. */
  readonly errorPages: NginxErrorPages;
  /** `proxy-redirect-from`/`-to`, `proxy-cookie-path`, `proxy-cookie-domain`; null without a rewrite. */
  readonly responseRewrite: ResponseRewriteFilter | null;
  /** `mirror-target` and its family; null without it. */
  readonly mirror: UrlMirrorFilter | null;
  /** `limit-rate` and `limit-rate-after` (or the ConfigMap's); null when responses are not paced. */
  readonly responseRate: ResponseRateFilter | null;
  /** `satisfy: any`: any one access check admitting the request suffices; false for `all` (the default). */
  readonly satisfyAny: boolean;
  /** `enable-access-log` (default true): false writes no access-log line for the Ingress's requests. */
  readonly accessLog: boolean;
  /** The raw values of every annotation present, by name without the prefix (later readers take theirs from it). */
  readonly raw: ReadonlyMap<string, string>;
}

/**
 * How a canary Ingress takes requests from the Ingress with the same host and path, in
 * ingress-nginx's order: the header, then the cookie, then the weight.
 */
export interface CanaryRules {
  /** `canary-by-header`: `always` sends to the canary, `never` never (unless value/pattern say otherwise). */
  readonly header: string | null;
  /** `canary-by-header-value`: this exact value sends to the canary; others fall through. */
  readonly headerValue: string | null;
  /** `canary-by-header-pattern`, when no value is given: a matching value sends to the canary. */
  readonly headerPattern: string | null;
  /** `canary-by-cookie`: a cookie of this name `always` or `never`. */
  readonly cookie: string | null;
  /** `canary-weight` out of `canary-weight-total`. */
  readonly weight: number;
  readonly weightTotal: number;
  /**
   * `affinity-canary-behavior`: `sticky` (default) gives the canary the main Ingress's cookie
   * affinity, so that a client served by either stays there; `legacy` leaves the canary its own.
   */
  readonly affinityBehavior: 'sticky' | 'legacy';
}

/** Why an Ingress is not served at all. */
export interface RefusedIngress {
  readonly refused: true;
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
const SNIPPETS = new Set(['configuration-snippet', 'server-snippet']);

const NO_SECRETS: SecretIndex = new Map();
const NO_ERROR_PAGES: NginxErrorPages = Object.freeze({ backend: null, codes: null, ownErrorsOnly: false });

/**
 * The ingress-nginx annotations of one Ingress, or `{ refused: true }` when the Ingress must not be
 * served (reported). An Ingress without any gets the settings' defaults. `secrets` are the
 * snapshot's, by `namespace/name`: `auth-secret` names one. `keyPairSecrets` are the
 * `namespace/name` of the Secrets with a `tls.crt` and `tls.key` (see backend-annotations.ts);
 * `configMaps` the snapshot's, by `namespace/name` (`custom-headers` and `auth-proxy-set-headers` name one), and `services`
 * too (`default-backend` names one).
 */
export function readNginxIngress(id: ObjectIdentity, obj: unknown, settings: NginxSettings, sink: DiagnosticSink, secrets: SecretIndex = NO_SECRETS, keyPairSecrets: ReadonlySet<string> = new Set(), configMaps: ReadonlyMap<string, Identified> = new Map(), services: ReadonlyMap<string, Identified> = new Map()): NginxIngress | RefusedIngress {
  const annotations = field(field(obj, 'metadata'), 'annotations');
  const raw = new Map<string, string>();
  if (isRecord(annotations)) {
    for (const name of Object.keys(annotations).sort()) {
      const value = annotations[name];
      if (name.startsWith(NGINX_PREFIX) && typeof value === 'string') raw.set(name.slice(NGINX_PREFIX.length), value);
    }
  }
  const at = (name: string): string => `${id.provenance}/annotations/${NGINX_PREFIX}${name}`;

  const unenforceable = unenforceableAccess(raw);
  if (unenforceable !== null) {
    sink.report(id, 'AccessAnnotationUnsupported', 'error', `${NGINX_PREFIX}${unenforceable} asks for an access check signalbox cannot enforce; nothing of the Ingress is served rather than served without it (docs/migrating-from-ingress-nginx.md)`, at(unenforceable));
    return { refused: true };
  }
  const unsupported: string[] = [];
  for (const name of raw.keys()) {
    const row = nginxAnnotation(name);
    if (row === undefined) {
      sink.report(id, 'AnnotationUnknown', 'warning', `${NGINX_PREFIX}${name} is not an ingress-nginx annotation (a typo?); it is ignored`, at(name));
      continue;
    }
    if (riskAbove(row.risk, settings.riskLevel)) {
      sink.report(id, 'AnnotationRiskRefused', 'error', `${NGINX_PREFIX}${name} is a ${row.risk}-risk annotation and annotations-risk-level is ${settings.riskLevel}; nothing of the Ingress is served (as ingress-nginx refuses it)`, at(name));
      return { refused: true };
    }
    if (SNIPPETS.has(name) && !settings.allowSnippetAnnotations) {
      sink.report(id, 'AnnotationRiskRefused', 'error', `${NGINX_PREFIX}${name} needs allow-snippet-annotations: "true" in the ingress-nginx ConfigMap; nothing of the Ingress is served rather than served without its snippet`, at(name));
      return { refused: true };
    }
    if (row.support === 'unsupported') unsupported.push(name);
    else if (row.support === 'differs' && !SNIPPETS.has(name)) sink.report(id, 'AnnotationDiffers', 'warning', `${NGINX_PREFIX}${name}: ${row.note}`, at(name));
  }
  if (unsupported.length > 0) {
    sink.report(id, 'AnnotationUnsupported', 'warning', `ingress-nginx annotations signalbox does not honour, ignored: ${unsupported.join(', ')} (docs/migrating-from-ingress-nginx.md says why and what replaces each)`, at(unsupported[0]!));
  }

  const read = <T>(name: string, parse: (text: string) => Parsed<T>, fallback: T): T => {
    const text = raw.get(name);
    if (text === undefined) return fallback;
    const parsed = parse(text);
    if (parsed.ok) return parsed.value;
    sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}${name}: ${parsed.message}; it is ignored`, at(name));
    return fallback;
  };
  const text = (name: string, parse: (text: string) => Parsed<string> = nonEmpty): string | null => read<string | null>(name, parse, null);

  const canary = read('canary', parseBool, false) ? canaryRules(id, raw, read, sink) : null;
  let snippets: ParsedSnippets | null = null;
  if (canary === null) {
    const sources: SnippetSource[] = [];
    for (const annotation of ['server-snippet', 'configuration-snippet'] as const) {
      const text = raw.get(annotation);
      if (text !== undefined) sources.push({ annotation, text });
    }
    if (sources.length > 0) {
      const parsed = parseSnippets(sources);
      if (!parsed.ok) {
        sink.report(id, 'SnippetUnsupported', 'error', `${NGINX_PREFIX}${parsed.message}; nothing of the Ingress is served rather than served without it`, at(parsed.annotation));
        return { refused: true };
      }
      for (const note of parsed.value.notes) sink.report(id, 'AnnotationDiffers', 'warning', `${NGINX_PREFIX}${note.message}`, at(note.annotation));
      snippets = parsed.value;
    }
  }

  // An address list that does not parse must not leave what it restricts open (ingress-nginx
  // refuses such an Ingress too).
  for (const name of ['whitelist-source-range', 'allowlist-source-range', 'denylist-source-range']) {
    const text = raw.get(name);
    if (text === undefined) continue;
    const parsed = parseCidrList(text);
    if (!parsed.ok) {
      sink.report(id, 'AccessAnnotationUnsupported', 'error', `${NGINX_PREFIX}${name}: ${parsed.message}; nothing of the Ingress is served rather than served to every address`, at(name));
      return { refused: true };
    }
  }
  // An auth-url that cannot be used must not leave what it protects open.
  const own = externalAuth(id, raw, read, sink, configMaps);
  if (own === UNUSABLE_AUTH) return { refused: true };
  // The ConfigMap's global-auth-url covers every Ingress without an auth-url of its own.
  const global = own === null && read('enable-global-auth', parseBool, true) ? settings.globalAuth : null;
  if (global === 'unusable') {
    sink.report(id, 'AccessAnnotationUnsupported', 'error', 'the ingress-nginx ConfigMap\'s global-auth-url cannot be asked (reported on the ConfigMap); nothing of the Ingress is served rather than served without authentication', `${id.provenance}/annotations`);
    return { refused: true };
  }
  const auth = own ?? global;

  // auth-type: basic (any other was refused above) with its Secret's users; a canary's auth
  // annotations are ignored (reported with the rest): it takes the main Ingress's.
  const basic = canary === null ? basicAuth(id, raw, read, secrets, sink) : null;
  const clientAuth = canary === null ? clientCertificateAuth(id, raw, read, secrets, sink) : null;
  if (clientAuth === REFUSED_AUTH_TLS) return { refused: true };
  const custom = canary === null ? customHeaders(id, raw, settings.allowedResponseHeaders, configMaps, sink) : [];
  if (custom === 'refused') return { refused: true };
  const rewriteTarget = text('rewrite-target', rewriteTargetValue);
  if (rewriteTarget !== null && snippets !== null && snippets.rewriteStops !== null) {
    const name = snippets.rewriteStops.split(':')[0]!;
    sink.report(id, 'SnippetUnsupported', 'error', `${NGINX_PREFIX}${snippets.rewriteStops}: a rewrite that stops (break, last) together with rewrite-target cannot be applied: nginx runs the snippet's first and skips rewrite-target's when it matches (keep one); nothing of the Ingress is served rather than served without it`, at(name));
    return { refused: true };
  }
  const allow = raw.has('allowlist-source-range') ? 'allowlist-source-range' : 'whitelist-source-range';
  return {
    useRegex: read('use-regex', parseBool, false),
    rewriteTarget,
    xForwardedPrefix: text('x-forwarded-prefix', headerValue),
    appRoot: text('app-root', pathValue),
    redirect: fixedRedirect(raw, read),
    sslRedirect: read('ssl-redirect', parseBool, settings.sslRedirect),
    forceSslRedirect: read('force-ssl-redirect', parseBool, settings.forceSslRedirect),
    fromToWwwRedirect: read('from-to-www-redirect', parseBool, false),
    usePortInRedirects: read('use-port-in-redirects', parseBool, settings.usePortInRedirects),
    // The ConfigMap's `absolute_redirect off` is at http level; the annotation only adds a location's.
    relativeRedirects: read('relative-redirects', parseBool, false) || settings.relativeRedirects,
    upstreamVhost: text('upstream-vhost', hostValue),
    proxyBodySize: read('proxy-body-size', parseNginxSize, settings.proxyBodySize),
    allowSourceRange: read(allow, parseCidrList, settings.allowSourceRange),
    denySourceRange: read('denylist-source-range', parseCidrList, settings.denySourceRange),
    canary,
    snippets,
    serverAliases: read('server-alias', aliasList, []),
    customHeaders: custom,
    overrides: backendOverrides(id, raw, read, settings, sink, keyPairSecrets),
    auth,
    basicAuth: basic,
    clientAuth,
    hostTls: canary === null ? hostTlsParameters(read) : null,
    cors: corsFilter(id, read, sink),
    rateLimit: rateLimitFilter(id, read, settings),
    errorPages: canary === null ? errorPagesOf(id, raw, read, services, sink) : NO_ERROR_PAGES,
    responseRewrite: canary === null ? responseRewrite(id, raw, settings, sink) : null,
    mirror: canary === null ? urlMirror(read) : null,
    responseRate: responseRateFilter(read, settings),
    satisfyAny: read('satisfy', satisfyValue, 'all') === 'any',
    accessLog: read('enable-access-log', parseBool, true),
    raw,
  };
}

/**
 * The response rewrites of an Ingress: its annotations over the ConfigMap's keys of the same names.
 * A problem is reported here when the Ingress's own annotation takes part in it (the ConfigMap's
 * are reported on the ConfigMap).
 */
function responseRewrite(id: ObjectIdentity, raw: ReadonlyMap<string, string>, settings: NginxSettings, sink: DiagnosticSink): ResponseRewriteFilter | null {
  const values: Partial<Record<(typeof RESPONSE_REWRITE_KEYS)[number], string>> = { ...settings.responseRewrites };
  for (const key of RESPONSE_REWRITE_KEYS) if (raw.has(key)) values[key] = raw.get(key)!;
  const { filter, problems } = readResponseRewrite(values);
  const redirect = raw.has('proxy-redirect-from') || raw.has('proxy-redirect-to');
  for (const p of problems) {
    if (!raw.has(p.key) && !(p.key.startsWith('proxy-redirect-') && redirect)) continue;
    const at = `${id.provenance}/annotations/${NGINX_PREFIX}${p.key}`;
    if (p.kind === 'invalid') sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}${p.key}: ${p.message}; it is ignored`, at);
    else if (p.kind === 'unsupported') sink.report(id, 'AnnotationUnsupported', 'warning', `${NGINX_PREFIX}${p.key}: ${p.message}; it is ignored`, at);
    else sink.report(id, 'AnnotationIgnored', 'warning', `${NGINX_PREFIX}${p.key}: ${p.message}; set both`, at);
  }
  return filter;
}

// On a canary Ingress ingress-nginx reads only these besides canary-*: the rest comes from the main Ingress.
const CANARY_OWN = /^(canary|load-balance|upstream-hash-by|affinity|session-cookie-)/;

function canaryRules(id: ObjectIdentity, raw: ReadonlyMap<string, string>, read: Reader, sink: DiagnosticSink): CanaryRules {
  const ignored = [...raw.keys()].filter((name) => !CANARY_OWN.test(name) && nginxAnnotation(name) !== undefined);
  if (ignored.length > 0) {
    sink.report(id, 'AnnotationIgnored', 'warning', `a canary Ingress takes its other settings from the Ingress it is the canary of; ignored here: ${ignored.join(', ')}`, `${id.provenance}/annotations/${NGINX_PREFIX}${ignored[0]!}`);
  }
  const weightTotal = read('canary-weight-total', (t) => parseInteger(t, 1, 1_000_000), 100);
  const headerValue = read<string | null>('canary-by-header-value', headerValueText, null);
  return {
    header: read<string | null>('canary-by-header', headerName, null),
    headerValue,
    headerPattern: headerValue === null ? read<string | null>('canary-by-header-pattern', nonEmpty, null) : null,
    cookie: read<string | null>('canary-by-cookie', cookieName, null),
    weight: read('canary-weight', (t) => parseInteger(t, 0, weightTotal), 0),
    weightTotal,
    affinityBehavior: read<'sticky' | 'legacy'>('affinity-canary-behavior', canaryBehavior, 'sticky'),
  };
}

function aliasList(text: string): Parsed<string[]> {
  const names = text.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  const bad = names.find((n) => !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(n));
  return bad === undefined ? { ok: true, value: [...new Set(names)] } : { ok: false, message: `${JSON.stringify(bad)} is not a host name` };
}

function headerName(text: string): Parsed<string | null> {
  const t = text.trim().toLowerCase();
  return /^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(t) ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not a header name` };
}

function headerValueText(text: string): Parsed<string | null> {
  return headerValue(text);
}

function cookieName(text: string): Parsed<string | null> {
  const t = text.trim();
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(t) ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not a cookie name` };
}

/** Reads one annotation with a parser: its value, or `fallback` when absent or (reported) invalid. */
export type Reader = <T>(name: string, parse: (text: string) => Parsed<T>, fallback: T) => T;

/**
 * The first annotation asking for an access check signalbox cannot make, or null: serving such an
 * Ingress without the check would expose what it protects: any `auth-type` but `basic`.
 */
function unenforceableAccess(raw: ReadonlyMap<string, string>): string | null {
  const type = raw.get('auth-type')?.trim();
  if (type !== undefined && type !== ENFORCED_AUTH_TYPE) return 'auth-type';
  return null;
}

/** The `auth-type` signalbox enforces (basic-auth-annotations.ts); digest, or any other, refuses its Ingress. */
const ENFORCED_AUTH_TYPE: string | null = 'basic';

function fixedRedirect(raw: ReadonlyMap<string, string>, read: Reader): FixedRedirect | null {
  for (const [name, defaultCode] of [['permanent-redirect', 301], ['temporal-redirect', 302]] as const) {
    if (!raw.has(name)) continue;
    // ingress-nginx checks temporal-redirect's URL but not permanent-redirect's: nginx's `return`
    // takes a path there too.
    const target = read<RedirectTarget | null>(name, name === 'permanent-redirect' ? redirectTarget : absoluteUrl, null);
    if (target === null) continue;
    const code = read(`${name}-code`, redirectCode, defaultCode);
    return { ...target, text: raw.get(name)!.trim(), code };
  }
  return null;
}

/** `satisfy`: `all` (the default) or `any`. */
function satisfyValue(text: string): Parsed<'all' | 'any'> {
  const t = text.trim();
  return t === 'all' || t === 'any' ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not all or any` };
}

function canaryBehavior(text: string): Parsed<'sticky' | 'legacy'> {
  const t = text.trim();
  return t === 'sticky' || t === 'legacy' ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not sticky or legacy` };
}

function nonEmpty(text: string): Parsed<string> {
  const t = text.trim();
  return t === '' ? { ok: false, message: 'the value is empty' } : { ok: true, value: t };
}

// Characters that would let a value smuggle a second header field or nginx syntax.
const CONTROL = /[\u0000-\u001f\u007f]/u;

function headerValue(text: string): Parsed<string> {
  const t = text.trim();
  if (t === '' || CONTROL.test(t)) return { ok: false, message: 'the value is empty or holds control characters' };
  return { ok: true, value: t };
}

function pathValue(text: string): Parsed<string> {
  const t = text.trim();
  if (!/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(t)) return { ok: false, message: `${JSON.stringify(text)} is not a path (it must start with / and hold only URL path characters)` };
  return { ok: true, value: t };
}

function hostValue(text: string): Parsed<string> {
  const t = text.trim().toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$/.test(t)) return { ok: false, message: `${JSON.stringify(text)} is not a host name (an optional :port allowed)` };
  return { ok: true, value: t };
}

/**
 * A `rewrite-target`: a path with `$1`..`$9` capture references. nginx variables other than those
 * (`$host`, `$request_uri`…) and a query part have no equivalent here and are refused.
 */
function rewriteTargetValue(text: string): Parsed<string> {
  const t = text.trim();
  if (!t.startsWith('/')) return { ok: false, message: `${JSON.stringify(text)} must start with / (a path, with $1..$9 for the path's capture groups)` };
  if (/\$(?![1-9])/.test(t)) return { ok: false, message: `${JSON.stringify(text)} uses an nginx variable; only $1..$9 (the path's capture groups) are supported` };
  if (t.includes('?')) return { ok: false, message: `${JSON.stringify(text)} has a query part, which signalbox cannot set; write the path only` };
  if (CONTROL.test(t) || /\s/.test(t)) return { ok: false, message: `${JSON.stringify(text)} holds whitespace or control characters` };
  return { ok: true, value: t };
}

// The variables redirect URLs use: `https://new.example.com$request_uri`, `https://$host/maintenance.html`.
const MOVED = /^(https?:\/\/)(?:(\$host|\$http_host|\$best_http_host)(:\d{1,5})?|([^/?#$]+))(?:(\$request_uri|\$uri)|([/?][^$]*))?$/;

/**
 * An absolute http(s) URL. nginx expands variables in `return`; the ones redirects are written
 * with are understood — `$host` (`$http_host`) for the host, `$request_uri` or `$uri` right after
 * the host — and any other is refused.
 */
/** A `permanent-redirect`: an absolute URL as {@link absoluteUrl}, or a path without variables. */
function redirectTarget(text: string): Parsed<RedirectTarget | null> {
  const t = text.trim();
  if (!t.startsWith('/') || t.startsWith('//')) return absoluteUrl(text);
  if (t.includes('$') || !/^\/[\x21-\x7e]*$/.test(t) || t.includes('#')) return { ok: false, message: `${JSON.stringify(text)} is not an absolute URL or a path without variables, spaces or #` };
  return { ok: true, value: { url: new URL(t, 'http://host.invalid'), requestHost: true, requestTarget: null, relative: true } };
}

function absoluteUrl(text: string): Parsed<RedirectTarget | null> {
  const t = text.trim();
  let requestHost = false;
  let requestTarget: RedirectTarget['requestTarget'] = null;
  let plain = t;
  if (t.includes('$')) {
    const m = MOVED.exec(t);
    if (m === null) return { ok: false, message: `${JSON.stringify(text)} uses an nginx variable signalbox does not expand (only $host for the host, and $request_uri or $uri right after the host)` };
    requestHost = m[2] !== undefined;
    requestTarget = (m[5] as RedirectTarget['requestTarget'] | undefined) ?? null;
    plain = `${m[1]}${m[4] ?? `host.invalid${m[3] ?? ''}`}${m[6] ?? ''}`;
  }
  let url: URL;
  try {
    url = new URL(plain);
  } catch {
    return { ok: false, message: `${JSON.stringify(text)} is not an absolute URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: `${JSON.stringify(text)} is not an http or https URL` };
  return { ok: true, value: { url, requestHost, requestTarget, relative: false } };
}

function redirectCode(text: string): Parsed<FixedRedirect['code']> {
  const n = parseInteger(text, 0, 999);
  if (!n.ok) return n;
  return REDIRECT_CODES.has(n.value) ? { ok: true, value: n.value as FixedRedirect['code'] } : { ok: false, message: `${n.value} is not a redirect status (301, 302, 303, 307, 308)` };
}

/** `ssl-ciphers` (an OpenSSL cipher list OpenSSL matches a cipher with) and `ssl-prefer-server-ciphers`. */
function hostTlsParameters(read: Reader): HostTlsParameters | null {
  const ciphers = read<string | null>('ssl-ciphers', (t) => {
    const problem = cipherListProblem(t.trim());
    return problem === null ? { ok: true, value: t.trim() } : { ok: false, message: problem };
  }, null);
  const prefer = read<boolean | null>('ssl-prefer-server-ciphers', parseBool, null);
  if (ciphers === null && prefer === null) return null;
  return { ...(ciphers === null ? {} : { ciphers }), ...(prefer === null ? {} : { preferServerCiphers: prefer }) };
}
