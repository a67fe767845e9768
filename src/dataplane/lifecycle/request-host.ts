import type { ClientRequest } from './proxy-state.ts';

/**
 * The one host of a request — what it is routed on, what the upstream receives as `Host` and as
 * `X-Forwarded-Host`, what a RouteScript sees and what the access log says — and the checks that
 * make it one: a single valid `Host` field (RFC 9112 §3.2), a valid absolute-form authority, and in
 * HTTP/2 a `host` field that agrees with `:authority` (RFC 9113 §8.3.1).
 */

const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const PERCENT = 0x25;

/**
 * The host of `req`: the authority of an absolute-form target (`authority`, which replaces Host,
 * RFC 9112 §3.2.2), else HTTP/2's `:authority`, else the `Host` field, else '' (HTTP/1.0 may have
 * none). Null — the caller answers 400 — for two `Host` fields, a `Host`, `:authority` or authority
 * that is not `host[:port]`, an HTTP/2 `host` that names another authority than `:authority`, or
 * an HTTP/1.1 request without any host.
 */
export function requestHost(req: ClientRequest, authority: string | undefined): string | null {
  const raw = req.rawHeaders;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (!isHostName(raw[i]!)) continue;
    if (host !== undefined) return null;
    host = raw[i + 1]!;
  }
  // An empty Host is allowed where the target has no authority to name (RFC 9112 §3.2).
  if (host !== undefined && host !== '' && !isValidHost(host)) return null;
  if (req.httpVersionMajor === 2) {
    // The target of an HTTP/2 request is in :path, in origin form (RFC 9113 §8.3.1).
    if (authority !== undefined) return null;
    const pseudo = req.headers[':authority'] as string | undefined;
    if (pseudo === undefined) return host ?? '';
    if (!isValidHost(pseudo)) return null;
    if (host !== undefined && !sameAuthority(pseudo, host, req.headers[':scheme'] === 'http' ? '80' : '443')) return null;
    return pseudo;
  }
  if (authority !== undefined) return isValidHost(authority) ? authority : null;
  if (host === undefined || host === '') return req.httpVersionMinor === 1 ? null : '';
  return host;
}

/** `Host` in any case, without allocating. */
function isHostName(name: string): boolean {
  return (
    name.length === 4 &&
    (name.charCodeAt(0) | 0x20) === 0x68 &&
    (name.charCodeAt(1) | 0x20) === 0x6f &&
    (name.charCodeAt(2) | 0x20) === 0x73 &&
    (name.charCodeAt(3) | 0x20) === 0x74
  );
}

/**
 * Whether `value` is `uri-host [ ":" port ]` (RFC 9112 §3.2 with RFC 3986 §3.2.2): an IP-literal in
 * brackets (IPv6 or IPvFuture; no zone), or a non-empty reg-name — unreserved characters, sub-delims
 * and well-formed percent escapes, which covers IPv4 — then optionally `:` and up to five digits
 * no greater than 65535 (an empty port is the default port, RFC 9110 §4.2.3).
 */
export function isValidHost(value: string): boolean {
  const length = value.length;
  if (length === 0) return false;
  let end: number;
  if (value.charCodeAt(0) === OPEN_BRACKET) {
    const close = value.indexOf(']');
    if (close === -1 || !isIpLiteral(value.slice(1, close))) return false;
    end = close + 1;
  } else {
    end = 0;
    while (end < length) {
      const c = value.charCodeAt(end);
      if (c === COLON) break;
      if (c === PERCENT) {
        if (!isHex(value.charCodeAt(end + 1)) || !isHex(value.charCodeAt(end + 2))) return false;
        end += 3;
        continue;
      }
      if (!isRegNameChar(c)) return false;
      end++;
    }
    if (end === 0) return false;
  }
  if (end === length) return true;
  if (value.charCodeAt(end) !== COLON) return false;
  return isPort(value, end + 1);
}

/** Digits after the colon: at most five, at most 65535; none is allowed. */
function isPort(value: string, start: number): boolean {
  const digits = value.length - start;
  if (digits > 5) return false;
  let port = 0;
  for (let i = start; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
    port = port * 10 + (c - 0x30);
  }
  return port <= 65535;
}

/** The inside of `[…]`: an IPv6 address (RFC 3986 §3.2.2) or `v<hex>.<chars>` (IPvFuture). */
function isIpLiteral(inside: string): boolean {
  if (inside.length === 0) return false;
  if ((inside.charCodeAt(0) | 0x20) === 0x76 /* v */) return /^[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/.test(inside);
  return isIPv6(inside);
}

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** RFC 3986's IPv6address: eight groups, or fewer with one `::`, the last two optionally an IPv4 address. */
function isIPv6(text: string): boolean {
  const double = text.indexOf('::');
  if (double !== -1 && text.indexOf('::', double + 1) !== -1) return false;
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const all = double === -1 ? groups(text) : [...groups(text.slice(0, double)), ...groups(text.slice(double + 2))];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const group = all[i]!;
    if (i === all.length - 1 && group.includes('.') && !text.endsWith('::')) {
      if (!IPV4.test(group)) return false;
      count += 2;
    } else if (HEX_GROUP.test(group)) {
      count += 1;
    } else {
      return false;
    }
  }
  return double === -1 ? count === 8 : count < 8;
}

/** unreserved / sub-delims (RFC 3986 §2.2, §2.3). */
function isRegNameChar(c: number): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) return true;
  switch (c) {
    case 0x2d: case 0x2e: case 0x5f: case 0x7e: // - . _ ~
    case 0x21: case 0x24: case 0x26: case 0x27: case 0x28: case 0x29: // ! $ & ' ( )
    case 0x2a: case 0x2b: case 0x2c: case 0x3b: case 0x3d: // * + , ; =
      return true;
    default:
      return false;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Whether two valid authorities name the same host and port (RFC 3986 §6.2.2–6.2.3: the host
 * ignoring case, an absent or empty port equal to the scheme's default).
 */
function sameAuthority(a: string, b: string, defaultPort: string): boolean {
  if (a === b) return true;
  const [hostA, portA] = splitAuthority(a);
  const [hostB, portB] = splitAuthority(b);
  return hostA.toLowerCase() === hostB.toLowerCase() && (portA || defaultPort) === (portB || defaultPort);
}

function splitAuthority(value: string): [host: string, port: string] {
  const close = value.charCodeAt(0) === OPEN_BRACKET ? value.indexOf(']') : -1;
  const colon = value.indexOf(':', close + 1);
  return colon === -1 ? [value, ''] : [value.slice(0, colon), value.slice(colon + 1)];
}
