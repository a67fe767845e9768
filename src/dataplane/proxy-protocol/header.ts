import { isIPv4, isIPv6 } from 'node:net';

/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt), versions 1 (text) and 2 (binary): what a
 * load balancer in front of signalbox sends first on a connection to say whose it is.
 */

/** The 12 bytes every v2 header starts with. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 header the specification allows, CRLF included. */
export const V1_MAX_BYTES = 107;
/** The longest v2 header accepted: the 16 fixed bytes and a payload of addresses and TLVs. */
export const V2_MAX_BYTES = 16 + 1024;

/** The addresses a header carries; null for a LOCAL (v2) or UNKNOWN (v1) connection: use the peer's own. */
export interface ProxiedAddresses {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

/** What the first bytes of a connection are. */
export type HeaderParse =
  /** Not enough bytes yet to tell. */
  | { readonly kind: 'more' }
  /** They do not start a PROXY header. */
  | { readonly kind: 'none' }
  /** They start one that is broken or too long. */
  | { readonly kind: 'malformed'; readonly why: string }
  /** A complete header of `length` bytes; `addresses` null for LOCAL/UNKNOWN. */
  | { readonly kind: 'header'; readonly length: number; readonly addresses: ProxiedAddresses | null };

const MORE = Object.freeze({ kind: 'more' as const });
const NONE = Object.freeze({ kind: 'none' as const });

/** Whether `bytes` agree with `prefix` as far as both go. */
function agrees(bytes: Buffer, prefix: Buffer): boolean {
  const n = Math.min(bytes.length, prefix.length);
  return bytes.subarray(0, n).equals(prefix.subarray(0, n));
}

/** Reads a PROXY header, v1 or v2, off the start of `bytes` (all a connection has sent so far). */
export function parseHeader(bytes: Buffer): HeaderParse {
  if (bytes.length === 0) return MORE;
  if (agrees(bytes, V2_SIGNATURE)) return bytes.length < V2_SIGNATURE.length ? MORE : parseV2(bytes);
  if (agrees(bytes, V1_PREFIX)) return bytes.length < V1_PREFIX.length ? MORE : parseV1(bytes);
  return NONE;
}

function malformed(why: string): HeaderParse {
  return { kind: 'malformed', why };
}

const PORT = /^(0|[1-9]\d{0,4})$/;

function parseV1(bytes: Buffer): HeaderParse {
  const end = bytes.indexOf('\r\n', 0, 'latin1');
  if (end < 0) return bytes.length >= V1_MAX_BYTES ? malformed('v1 header longer than 107 bytes') : MORE;
  if (end + 2 > V1_MAX_BYTES) return malformed('v1 header longer than 107 bytes');
  const parts = bytes.toString('latin1', 0, end).split(' ');
  const family = parts[1];
  if (family === 'UNKNOWN') return { kind: 'header', length: end + 2, addresses: null };
  if (parts.length !== 6 || (family !== 'TCP4' && family !== 'TCP6')) return malformed('v1 header is not PROXY TCP4|TCP6|UNKNOWN src dst sport dport');
  const [, , src = '', dst = '', sport = '', dport = ''] = parts;
  const valid = family === 'TCP4' ? isIPv4 : isIPv6;
  if (!valid(src) || !valid(dst)) return malformed(`v1 header addresses are not ${family} addresses`);
  if (!PORT.test(sport) || !PORT.test(dport) || Number(sport) > 65535 || Number(dport) > 65535) return malformed('v1 header ports are not ports');
  return { kind: 'header', length: end + 2, addresses: { sourceAddress: src, sourcePort: Number(sport), destinationAddress: dst, destinationPort: Number(dport) } };
}

function parseV2(bytes: Buffer): HeaderParse {
  if (bytes.length < 16) return MORE;
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return malformed('v2 header with a version other than 2');
  const command = versionCommand & 0x0f;
  if (command > 1) return malformed('v2 header with a command other than LOCAL or PROXY');
  const length = 16 + bytes.readUInt16BE(14);
  if (length > V2_MAX_BYTES) return malformed(`v2 header longer than ${V2_MAX_BYTES} bytes`);
  if (bytes.length < length) return MORE;
  // LOCAL: the balancer's own connection (a health check); the addresses, if any, are ignored.
  if (command === 0) return { kind: 'header', length, addresses: null };
  const familyProtocol = bytes[13]!;
  const family = familyProtocol >> 4;
  const body = bytes.subarray(16, length);
  if (family === 1) {
    if (body.length < 12) return malformed('v2 IPv4 header shorter than its addresses');
    return { kind: 'header', length, addresses: { sourceAddress: ipv4(body, 0), destinationAddress: ipv4(body, 4), sourcePort: body.readUInt16BE(8), destinationPort: body.readUInt16BE(10) } };
  }
  if (family === 2) {
    if (body.length < 36) return malformed('v2 IPv6 header shorter than its addresses');
    return { kind: 'header', length, addresses: { sourceAddress: ipv6(body, 0), destinationAddress: ipv6(body, 16), sourcePort: body.readUInt16BE(32), destinationPort: body.readUInt16BE(34) } };
  }
  // AF_UNSPEC or AF_UNIX: nothing an IP client address can be made of; the spec says use the peer's.
  if (family === 0 || family === 3) return { kind: 'header', length, addresses: null };
  return malformed('v2 header with an unknown address family');
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + i * 2).toString(16));
  // The canonical short form (as Node reports peers): the longest run of zero groups becomes ::.
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) { best = i; bestLength = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

/** The PROXY protocol version a backend asks for. */
export type ProxyProtocolVersion = 'v1' | 'v2';

/**
 * The header that starts a connection to a backend on behalf of a client: TCP4 when both addresses
 * are IPv4, TCP6 when both are IPv6 (an IPv4-mapped IPv6 address counts as IPv4), else — a mix the
 * protocol cannot say — UNKNOWN (v1) or LOCAL (v2), which tells the backend to use the peer's address.
 */
export function encodeHeader(version: ProxyProtocolVersion, a: ProxiedAddresses): Buffer {
  const src = unmapped(a.sourceAddress);
  const dst = unmapped(a.destinationAddress);
  const family = isIPv4(src) && isIPv4(dst) ? 4 : isIPv6(src) && isIPv6(dst) ? 6 : 0;
  if (version === 'v1') {
    if (family === 0) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    return Buffer.from(`PROXY TCP${family} ${src} ${dst} ${a.sourcePort} ${a.destinationPort}\r\n`, 'latin1');
  }
  const size = family === 4 ? 12 : family === 6 ? 36 : 0;
  const out = Buffer.alloc(16 + size);
  V2_SIGNATURE.copy(out, 0);
  out[12] = family === 0 ? 0x20 : 0x21;
  out[13] = family === 4 ? 0x11 : family === 6 ? 0x21 : 0x00;
  out.writeUInt16BE(size, 14);
  if (family === 4) {
    writeIPv4(out, 16, src);
    writeIPv4(out, 20, dst);
    out.writeUInt16BE(a.sourcePort, 24);
    out.writeUInt16BE(a.destinationPort, 26);
  } else if (family === 6) {
    writeIPv6(out, 16, src);
    writeIPv6(out, 32, dst);
    out.writeUInt16BE(a.sourcePort, 48);
    out.writeUInt16BE(a.destinationPort, 50);
  }
  return out;
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function writeIPv4(out: Buffer, at: number, address: string): void {
  address.split('.').forEach((octet, i) => { out[at + i] = Number(octet); });
}

function writeIPv6(out: Buffer, at: number, address: string): void {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), at + i * 2));
}
