/**
 * ingress-nginx's external authentication annotations (`auth-url` and its family: oauth2-proxy,
 * Authelia, Authentik setups) read into an {@link ExternalAuthFilter}.
 */
import type { ExternalAuthFilter } from '../../model/table.ts';
import type { Reader } from './ingress-annotations.ts';
import { parseBool, type Parsed } from './values.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** How long the auth service may take, as nginx's default proxy_read_timeout for the auth location. */
const AUTH_TIMEOUT_MS = 60_000;

/** The filter of `auth-url`, or null when the Ingress sets none (or an unusable one, reported). */
export function externalAuth(raw: ReadonlyMap<string, string>, read: Reader): ExternalAuthFilter | null {
  if (!raw.has('auth-url')) return null;
  const url = read<string | null>('auth-url', authUrl, null);
  if (url === null) return null;
  const signin = read<string | null>('auth-signin', signinUrl, null);
  return {
    type: 'ExternalAuth',
    url,
    method: read('auth-method', method, 'GET'),
    responseHeaders: read('auth-response-headers', headerList, []),
    requestHeaders: [],
    requestRedirect: read<string | null>('auth-request-redirect', plain, null),
    signin: signin === null ? null : { url: signin, redirectParam: read('auth-signin-redirect-param', param, 'rd') },
    alwaysSetCookie: read('auth-always-set-cookie', parseBool, false),
    timeoutMs: AUTH_TIMEOUT_MS,
  };
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

const URL_VARIABLES = new Set(['$scheme', '$pass_access_scheme', '$host', '$http_host', '$best_http_host', '$request_uri', '$escaped_request_uri']);

/** An auth or sign-in URL: absolute, with only the variables the data plane expands per request. */
function urlWithVariables(text: string): Parsed<string | null> {
  const unknown = (text.match(/\$[a-z_]+/g) ?? []).find((v) => !URL_VARIABLES.has(v));
  if (unknown !== undefined) return { ok: false, message: `${JSON.stringify(text)} uses ${unknown}; only ${[...URL_VARIABLES].join(', ')} are expanded` };
  return absolute(text, true);
}

const authUrl = urlWithVariables;
const signinUrl = urlWithVariables;

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
