/**
 * Turning a raw `Host` header or `:authority` into the key virtual hosts are indexed by.
 */

const COLON = 0x3a;
const DOT = 0x2e;
const OPEN_BRACKET = 0x5b;

/**
 * The lower-case host name of a raw Host header or `:authority`, without port and without a
 * trailing dot (`Shop.Example.COM.:8443` → `shop.example.com`). Returns '' when the value cannot
 * name a virtual host — empty, or an IP literal in brackets (`[::1]:80`) — since virtual hosts are
 * DNS names only; such requests go to the catch-all host. Allocates only when something has to be
 * stripped or lower-cased.
 */
export function hostKey(raw: string): string {
  const length = raw.length;
  if (length === 0 || raw.charCodeAt(0) === OPEN_BRACKET) return '';
  let end = length;
  let upper = false;
  for (let i = 0; i < length; i++) {
    const c = raw.charCodeAt(i);
    if (c === COLON) {
      end = i;
      break;
    }
    if (c >= 0x41 && c <= 0x5a) upper = true;
  }
  if (end > 0 && raw.charCodeAt(end - 1) === DOT) end--;
  const host = end === length ? raw : raw.slice(0, end);
  return upper ? host.toLowerCase() : host;
}
