/**
 * Request path normalisation, applied by the proxy before matching so that a path cannot dodge a
 * route by spelling itself differently (`/admin/../secret`, `/%2e%2e/secret`, `/%61dmin`).
 */

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const HEX = '0123456789ABCDEF';

/**
 * Normalises a request path (the request target up to, not including, `?`):
 * - Percent-encoded unreserved characters (ALPHA DIGIT `-` `.` `_` `~`) are decoded, so `%2e%2e`
 *   is `..` and `%61` is `a`. Other escapes stay encoded with upper-case hex digits (`%2f` →
 *   `%2F`): in particular `%2F` is never a separator for matching.
 * - `.` and `..` segments are resolved (RFC 3986 remove_dot_segments), after decoding.
 * - Repeated slashes are kept as they are (`//a` stays `//a`): merging them would change which
 *   resource a backend serves, so routes simply see them as empty segments.
 * - Returns null — the caller answers 400 — when the path does not start with `/`, when `..` would
 *   climb above the root, for control characters (raw or percent-encoded, NUL included) and for
 *   malformed escapes (`%zz`, a trailing `%`), as nginx does.
 * Fast path: a path with no `%`, no `/.` and no control character is returned as is — the same
 * string, nothing allocated. Paths that normalise to themselves also return the input reference.
 */
export function normalizePath(path: string): string | null {
  const length = path.length;
  if (length === 0 || path.charCodeAt(0) !== SLASH) return null;
  for (let i = 1; i < length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return null;
    if (c === PERCENT || (c === DOT && path.charCodeAt(i - 1) === SLASH)) return normalizeSlow(path);
  }
  return path;
}

function normalizeSlow(path: string): string | null {
  const decoded = decodeUnreserved(path);
  if (decoded === null) return null;
  const result = removeDotSegments(decoded);
  return result === path ? path : result;
}

/** Decodes escapes of unreserved characters, upper-cases the others; null when malformed or a control character. */
function decodeUnreserved(path: string): string | null {
  let out = '';
  let start = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return null;
    if (c !== PERCENT) continue;
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return null;
    const byte = hi * 16 + lo;
    if (byte < 0x20 || byte === 0x7f) return null;
    out += path.slice(start, i) + (isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`);
    start = i + 3;
    i += 2;
  }
  return out + path.slice(start);
}

/** RFC 3986 §5.2.4 for an absolute path, except that climbing above the root gives null. */
function removeDotSegments(path: string): string | null {
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
    } else {
      out.push(segment);
    }
  }
  return `/${out.join('/')}`;
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
