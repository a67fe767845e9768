/**
 * Request path normalisation, applied by the proxy before matching so that a path cannot dodge a
 * route by spelling itself differently (`/admin/../secret`, `/%2e%2e/secret`, `/%61dmin`,
 * `//admin`), nor reach a backend in a form that the backend reads as another path than the one
 * that was matched (`/public/..%2Fadmin`, `/public/..;/admin`, `/public\..\admin`).
 */

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const HASH = 0x23;
const SEMICOLON = 0x3b;
const BACKSLASH = 0x5c;
const DEL = 0x7f;
const HEX = '0123456789ABCDEF';

/** How request paths are normalised: the three choices an operator can make (flags of `serve`). */
export interface PathOptions {
  /** Merge runs of slashes into one (`//a///b` → `/a/b`), as nginx's `merge_slashes on`. */
  readonly mergeSlashes: boolean;
  /** Accept `%2F` and `%5C` (kept encoded, never a separator) instead of refusing the path. */
  readonly allowEncodedSlashes: boolean;
  /** Accept `;` (kept as it is) instead of refusing the path; `.;` and `..;` segments are still refused. */
  readonly allowPathParameters: boolean;
}

/** The safe defaults: merge slashes, refuse encoded slashes and path parameters. */
export const DEFAULT_PATH_OPTIONS: PathOptions = Object.freeze({ mergeSlashes: true, allowEncodedSlashes: false, allowPathParameters: false });

/**
 * Normalises a request path (the request target up to, not including, `?`):
 * - Percent-encoded unreserved characters (ALPHA DIGIT `-` `.` `_` `~`) are decoded, so `%2e%2e`
 *   is `..` and `%61` is `a`. Other escapes stay encoded with upper-case hex digits (`%c3` → `%C3`).
 * - Runs of slashes are merged (unless `mergeSlashes` is off), then `.` and `..` segments are
 *   resolved (RFC 3986 remove_dot_segments), after decoding.
 * - Returns null — the caller answers 400 — when the path does not start with `/`, when `..` would
 *   climb above the root, for control characters (raw or percent-encoded, NUL included), for
 *   malformed escapes (`%zz`, a trailing `%`), as nginx does, and for what backends disagree on:
 *   `#` (a fragment is never sent, RFC 9110 §4.2.4), a raw backslash (a separator on Windows and
 *   in some frameworks), `%2F` and `%5C` (a separator for backends that decode before routing;
 *   unless `allowEncodedSlashes`) and `;` (path parameters, which Java servers strip from each
 *   segment: `/admin;x` is their `/admin`, `/..;/` their `/../`; unless `allowPathParameters`).
 * Fast path: a path with no `%`, no `/.`, no `//` (when merging) and none of the refused characters
 * is returned as is — the same string, nothing allocated. Paths that normalise to themselves also
 * return the input reference.
 */
export function normalizePath(path: string, options: PathOptions = DEFAULT_PATH_OPTIONS): string | null {
  const length = path.length;
  if (length === 0 || path.charCodeAt(0) !== SLASH) return null;
  for (let i = 1; i < length; i++) {
    const c = path.charCodeAt(i);
    // Lower-case letters and most of the rest come after every character of interest.
    if (c > BACKSLASH) {
      if (c === DEL) return null;
      continue;
    }
    if (c < 0x20 || c === HASH || c === BACKSLASH) return null;
    if (c === SEMICOLON) {
      if (!options.allowPathParameters) return null;
      return normalizeSlow(path, options);
    }
    if (c === PERCENT) return normalizeSlow(path, options);
    if (c === DOT || c === SLASH) {
      const previous = path.charCodeAt(i - 1);
      if (previous === SLASH && (c === DOT || options.mergeSlashes)) return normalizeSlow(path, options);
    }
  }
  return path;
}

function normalizeSlow(path: string, options: PathOptions): string | null {
  const decoded = decodeUnreserved(path, options);
  if (decoded === null) return null;
  const result = removeDotSegments(decoded, options);
  return result === path ? path : result;
}

/**
 * Decodes escapes of unreserved characters, upper-cases the others; null when malformed, for a
 * control character, and for what the fast path refuses, which it may not have reached.
 */
function decodeUnreserved(path: string, options: PathOptions): string | null {
  let out = '';
  let start = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === DEL || c === HASH || c === BACKSLASH || (c === SEMICOLON && !options.allowPathParameters)) return null;
    if (c !== PERCENT) continue;
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return null;
    const byte = hi * 16 + lo;
    if (byte < 0x20 || byte === DEL) return null;
    if ((byte === SLASH || byte === BACKSLASH) && !options.allowEncodedSlashes) return null;
    out += path.slice(start, i) + (isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`);
    start = i + 3;
    i += 2;
  }
  return out + path.slice(start);
}

/**
 * RFC 3986 §5.2.4 for an absolute path, except that climbing above the root gives null; empty
 * segments are dropped first when merging slashes (a trailing slash stays), and a dot segment
 * with path parameters (`..;x`), which a Java server resolves as `..`, is refused.
 */
function removeDotSegments(path: string, options: PathOptions): string | null {
  const segments = path.split('/');
  const out: string[] = [];
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '.') {
      if (last) out.push('');
    } else if (segment === '..') {
      if (out.length === 0) return null;
      out.pop();
      if (last) out.push('');
    } else if (segment === '' && options.mergeSlashes && !last) {
      continue;
    } else {
      if (options.allowPathParameters && isDotSegmentWithParameters(segment)) return null;
      out.push(segment);
    }
  }
  return `/${out.join('/')}`;
}

/** `.;…` or `..;…`: what a server that strips path parameters sees as `.` or `..`. */
function isDotSegmentWithParameters(segment: string): boolean {
  const semicolon = segment.indexOf(';');
  if (semicolon === -1) return false;
  const name = segment.slice(0, semicolon);
  return name === '.' || name === '..';
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e
  );
}
