/**
 * ingress-nginx's external authentication annotations (`auth-url` and its family: oauth2-proxy,
 * Authelia, Authentik setups) read into an {@link ExternalAuthFilter}.
 */
import type { ExternalAuthCache, ExternalAuthFilter } from '../../model/table.ts';
import { cacheKey, cacheRules } from './auth-cache-annotations.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import type { Identified, ObjectIdentity } from '../shared/objects.ts';
import { authProxyHeaders } from './auth-proxy-headers.ts';
import { NGINX_PREFIX } from './annotation-table.ts';
import type { Reader } from './ingress-annotations.ts';
import { parseBool, type Parsed } from './values.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** How long the auth service may take, as nginx's default proxy_read_timeout for the auth location. */
const AUTH_TIMEOUT_MS = 60_000;

/** What {@link externalAuth} gives for an `auth-url` that cannot be asked: the Ingress is not served. */
export const UNUSABLE_AUTH = 'unusable-auth-url';

/**
 * The filter of `auth-url`, null when the Ingress sets none, or {@link UNUSABLE_AUTH} (reported)
 * when it sets one signalbox cannot ask: then nothing of the Ingress may be served, since serving
 * it without the check would open what its author closed (ingress-nginx answers 503 for the paths
 * of an auth-url it cannot parse; one it can, with variables, it asks).
 */
export function externalAuth(id: ObjectIdentity, raw: ReadonlyMap<string, string>, read: Reader, sink: DiagnosticSink, configMaps: ReadonlyMap<string, Identified> = new Map()): ExternalAuthFilter | null | typeof UNUSABLE_AUTH {
  const text = raw.get('auth-url');
  if (text === undefined) return null;
  const parsed = authUrl(text);
  if (!parsed.ok) {
    sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}auth-url: ${parsed.message}; nothing of the Ingress is served rather than served without its authentication`, `${id.provenance}/annotations/${NGINX_PREFIX}auth-url`);
    return UNUSABLE_AUTH;
  }
  const url = parsed.value;
  const requestHeaders = authProxyHeaders(id, raw, configMaps, sink);
  if (requestHeaders === 'refused') return UNUSABLE_AUTH;
  const signin = read<string | null>('auth-signin', signinUrl, null);
  return {
    type: 'ExternalAuth',
    url,
    method: read('auth-method', method, 'GET'),
    responseHeaders: read('auth-response-headers', headerList, []),
    requestHeaders,
    requestRedirect: read<string | null>('auth-request-redirect', plain, null),
    signin: signin === null ? null : { url: signin, redirectParam: read('auth-signin-redirect-param', param, 'rd') },
    alwaysSetCookie: read('auth-always-set-cookie', parseBool, false),
    timeoutMs: AUTH_TIMEOUT_MS,
    ...cacheOf(read<string | null>('auth-cache-key', cacheKey, null), () => read('auth-cache-duration', cacheRules, null)),
  };
}

/**
 * The `cache` member of the filter: none without a key; with one, the duration's rules (ingress-nginx's
 * default when absent). A key or duration that does not parse is reported and leaves the service
 * asked for every request, which checks no less.
 */
function cacheOf(key: string | null, rules: () => ExternalAuthCache['rules'] | null): { cache?: ExternalAuthCache } {
  if (key === null) return {};
  const parsed = rules();
  return parsed === null ? {} : { cache: { key, rules: parsed } };
}

function absolute(text: string, variables: boolean): Parsed<string> {
  const t = text.trim();
  if (!variables && t.includes('$')) return { ok: false, message: `${JSON.stringify(text)} uses an nginx variable, which signalbox does not expand here` };
  let url: URL;
  try {
    url = new URL(t.replace(/\$[a-z_]+/g, 'x'));
  } catch {
    return { ok: false, message: `${JSON.stringify(text)} is not an absolute URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: `${JSON.stringify(text)} is not an http or https URL` };
  if (/[\s\u0000-\u001f\u007f]/u.test(t)) return { ok: false, message: `${JSON.stringify(text)} holds whitespace or control characters` };
  return { ok: true, value: t };
}

const URL_VARIABLES = new Set(['$scheme', '$pass_access_scheme', '$host', '$http_host', '$best_http_host', '$request_uri', '$escaped_request_uri', '$request_method']);

/** An auth or sign-in URL: absolute, with only the variables the data plane expands per request. */
function urlWithVariables(text: string): Parsed<string> {
  const unknown = (text.match(/\$[a-z_]+/g) ?? []).find((v) => !URL_VARIABLES.has(v));
  if (unknown !== undefined) return { ok: false, message: `${JSON.stringify(text)} uses ${unknown}; only ${[...URL_VARIABLES].join(', ')} are expanded` };
  return absolute(text, true);
}

const authUrl = urlWithVariables;
const signinUrl = (text: string): Parsed<string | null> => urlWithVariables(text);

function method(text: string): Parsed<string> {
  const t = text.trim().toUpperCase();
  return METHODS.has(t) ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not one of ${[...METHODS].join(', ')}` };
}

function headerList(text: string): Parsed<string[]> {
  const names = text.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  const bad = names.find((n) => !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(n));
  if (bad !== undefined) return { ok: false, message: `${JSON.stringify(bad)} is not a header name` };
  return { ok: true, value: [...new Set(names)] };
}

function plain(text: string): Parsed<string | null> {
  const t = text.trim();
  return t === '' || /[\u0000-\u001f\u007f]/u.test(t) ? { ok: false, message: 'the value is empty or holds control characters' } : { ok: true, value: t };
}

function param(text: string): Parsed<string> {
  const t = text.trim();
  return /^[A-Za-z0-9_.-]{1,64}$/.test(t) ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not a query parameter name` };
}

/**
 * The ConfigMap's `global-auth-*` keys (ingress-nginx's global external authentication, asked for
 * every Ingress without an `auth-url` of its own and without `enable-global-auth: "false"`), read
 * like the annotations; `report` names a key whose value does not parse. {@link UNUSABLE_AUTH}
 * when `global-auth-url` itself cannot be asked: then no Ingress it would cover is served.
 */
export function globalExternalAuth(data: Readonly<Record<string, unknown>>, report: (key: string, message: string) => void): ExternalAuthFilter | null | typeof UNUSABLE_AUTH {
  const text = (key: string): string | undefined => (typeof data[key] === 'string' ? (data[key] as string) : undefined);
  const urlText = text('global-auth-url');
  if (urlText === undefined || urlText.trim() === '') return null;
  const url = authUrl(urlText);
  if (!url.ok) {
    report('global-auth-url', `${url.message}; no Ingress it covers is served rather than served without authentication`);
    return UNUSABLE_AUTH;
  }
  const value = <T>(key: string, parse: (t: string) => Parsed<T>, fallback: T): T => {
    const t = text(key);
    if (t === undefined) return fallback;
    const parsed = parse(t);
    if (parsed.ok) return parsed.value;
    report(key, `${parsed.message}; its default is used`);
    return fallback;
  };
  const signin = value<string | null>('global-auth-signin', signinUrl, null);
  return {
    type: 'ExternalAuth',
    url: url.value,
    method: value('global-auth-method', method, 'GET'),
    responseHeaders: value('global-auth-response-headers', headerList, []),
    requestHeaders: [],
    requestRedirect: value<string | null>('global-auth-request-redirect', plain, null),
    signin: signin === null ? null : { url: signin, redirectParam: value('global-auth-signin-redirect-param', param, 'rd') },
    alwaysSetCookie: value('global-auth-always-set-cookie', parseBool, false),
    timeoutMs: AUTH_TIMEOUT_MS,
    ...cacheOf(value<string | null>('global-auth-cache-key', (t) => (t.trim() === '' ? { ok: true, value: null } : cacheKey(t)), null), () => value('global-auth-cache-duration', cacheRules, null)),
  };
}
