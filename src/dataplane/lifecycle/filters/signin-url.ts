import type { ExternalAuthSignin } from '../../../model/table.ts';

/** What a sign-in URL's variables stand for, for one request. */
export interface SigninFacts {
  /** `http` or `https`: the listener's. */
  readonly scheme: string;
  /** The host as the client named it (Host, `:authority` or an absolute target), port included. */
  readonly httpHost: string;
  /** The host name alone: lower case, no port. */
  readonly host: string;
  /** The original request target: path and query, as the client sent them. */
  readonly requestUri: string;
  /** The request's method (`$request_method`: Authelia's sign-in URL carries it as `rm`). */
  readonly method: string;
}

const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * The Location of ExternalAuth's sign-in redirect, as ingress-nginx builds it (buildAuthSignURL and
 * the `$escaped_request_uri` it sets): the URL's variables expanded and, unless its query already
 * carries `redirectParam`, `<redirectParam>=<scheme>://<host as named><escaped request URI>`
 * appended — `https://auth.example/start?rd=https://shop.example%2Fcart%3Fid%3D7`. The table's
 * check refused any other variable, so an unknown one cannot be met here.
 */
export function signinLocation(signin: ExternalAuthSignin, facts: SigninFacts): string {
  const escaped = escapeComponent(facts.requestUri);
  const url = signin.url;
  const expanded = expandVariables(url, facts);
  if (carries(url, signin.redirectParam)) return expanded;
  const q = expanded.indexOf('?');
  const joiner = q === -1 ? '?' : q === expanded.length - 1 ? '' : '&';
  return `${expanded}${joiner}${signin.redirectParam}=${facts.scheme}://${facts.httpHost}${escaped}`;
}

/**
 * `url` with the variables of {@link SigninFacts} expanded (`$scheme`, `$pass_access_scheme`,
 * `$host`, `$http_host`, `$best_http_host`, `$request_uri`, `$escaped_request_uri`); the table's
 * check refused any other. The auth URL (`https://$host/oauth2/auth`) is expanded the same way.
 */
export function expandVariables(url: string, facts: SigninFacts): string {
  if (!url.includes('$')) return url;
  const values: Readonly<Record<string, string>> = {
    scheme: facts.scheme,
    pass_access_scheme: facts.scheme,
    host: facts.host,
    http_host: facts.httpHost,
    best_http_host: facts.httpHost,
    request_uri: facts.requestUri,
    escaped_request_uri: escapeComponent(facts.requestUri),
    request_method: facts.method,
  };
  return url.replace(VARIABLE, (whole, braced: string | undefined, bare: string | undefined) => values[braced ?? bare ?? ''] ?? whole);
}

/** Whether the query of `url` (as written, variables unexpanded) gives `param` a non-empty value. */
function carries(url: string, param: string): boolean {
  const q = url.indexOf('?');
  if (q === -1) return false;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash === -1 ? undefined : hash);
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq) === param && eq < pair.length - 1) return true;
  }
  return false;
}

/**
 * `text` percent-encoded as one query value, every character but the unreserved ones (RFC 3986
 * §2.3) escaped as UTF-8 — what set-misc's `set_escape_uri` gives ingress-nginx.
 */
export function escapeComponent(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
