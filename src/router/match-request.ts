/**
 * What the router reads of a request beyond its host and path, for routes with conditions: the
 * method, the raw headers and the query. Node's own request objects (HTTP/1 and HTTP/2) already
 * have this shape, so the proxy passes its request as it is and nothing is read or allocated for
 * the routes that test none of it (every Ingress route).
 */

/** The parts of a request that method, header and query conditions test. */
export interface MatchRequest {
  /** Upper case as sent (`GET`); absent is no method, which no method condition matches. */
  readonly method?: string | undefined;
  /** The request target as received (origin or absolute form); the query is what follows `?`. */
  readonly url?: string | undefined;
  /** Names and values, alternating, as received (names in any case). */
  readonly rawHeaders: readonly string[];
}

/**
 * The value of header `name` (lower case), its values joined with `, ` when it was sent more than
 * once (RFC 9110 §5.3), or null when it was not sent. Read from the raw headers because Node's
 * `headers` object drops the repeats of some names (`user-agent`, `authorization`…) and joins
 * `cookie` with `; `.
 */
export function headerValue(rawHeaders: readonly string[], name: string): string | null {
  let value: string | null = null;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const key = rawHeaders[i]!;
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    value = value === null ? rawHeaders[i + 1]! : `${value}, ${rawHeaders[i + 1]!}`;
  }
  return value;
}

/**
 * The query parameters of a request target, first occurrence of each name kept, names and values
 * percent-decoded (`+` is kept as it is: it means a space only in HTML forms, not in URLs). A
 * malformed escape is kept as written rather than refusing the request.
 */
export function queryParameters(url: string | undefined): ReadonlyMap<string, string> {
  const params = new Map<string, string>();
  const start = url === undefined ? -1 : url.indexOf('?');
  if (start === -1) return params;
  for (const part of url!.slice(start + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq === -1 ? part : part.slice(0, eq));
    if (!params.has(name)) params.set(name, eq === -1 ? '' : decode(part.slice(eq + 1)));
  }
  return params;
}

function decode(text: string): string {
  if (text.indexOf('%') === -1) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
