/**
 * Splits an HTTP request target into the host it names (absolute form only) and its path and query.
 * Proxies must accept the absolute form (`GET http://host/path HTTP/1.1`, RFC 9112 §3.2.2); its
 * authority then overrides the Host header.
 */
export interface RequestTarget {
  /** The authority from an absolute-form target, or undefined for the usual origin form. */
  readonly authority: string | undefined;
  /** The path, starting with `/`, without the query. */
  readonly path: string;
  /** `?query` including the `?`, or ''. */
  readonly query: string;
}

/**
 * Parses `url` (as Node gives it: origin form or absolute form); null when it is neither, and when
 * it has a fragment: a client never sends one (RFC 9110 §4.2.4), and what follows `#` would be
 * path or query to one server and nothing to another. The authority is not checked here (see
 * request-host.ts).
 */
export function parseRequestTarget(url: string): RequestTarget | null {
  if (url.indexOf('#') !== -1) return null;
  let authority: string | undefined;
  let rest = url;
  if (url.charCodeAt(0) !== 47 /* '/' */) {
    const scheme = /^https?:\/\//i.exec(url);
    if (scheme === null) return null;
    const start = scheme[0].length;
    const end = authorityEnd(url, start);
    authority = url.slice(start, end);
    if (authority === '') return null;
    rest = end === url.length ? '/' : url.charCodeAt(end) === 47 ? url.slice(end) : `/${url.slice(end)}`;
  }
  const q = rest.indexOf('?');
  if (q === -1) return { authority, path: rest, query: '' };
  return { authority, path: rest.slice(0, q), query: rest.slice(q) };
}

/** Where the authority that starts at `start` ends: at the first `/` or `?`, else the end. */
function authorityEnd(url: string, start: number): number {
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 || c === 63) return i;
  }
  return url.length;
}

/** The authority of an absolute-form target, undefined for any other; for the access log. */
export function absoluteAuthority(url: string): string | undefined {
  if (url.charCodeAt(0) === 47) return undefined;
  const scheme = /^https?:\/\//i.exec(url);
  return scheme === null ? undefined : url.slice(scheme[0].length, authorityEnd(url, scheme[0].length));
}
