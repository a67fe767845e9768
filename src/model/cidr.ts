/**
 * IP addresses and CIDR blocks as the table writes them (a ClientAddress filter's `allow` and
 * `deny`): parsing, the canonical text, and the range of addresses a block covers. Pure, so the
 * table checker, the front ends and the data plane share one reading of an address.
 *
 * Canonical form: `<network>/<bits>`, the network with its host bits zero; IPv4 in dotted decimal,
 * IPv6 as RFC 5952 writes it (lower case, the longest run of two or more zero groups as `::`). An
 * IPv4-mapped IPv6 block (`::ffff:10.0.0.0/104`) is written as the IPv4 block it is (`10.0.0.0/8`):
 * a client connecting over IPv4 to a dual-stack socket is seen as `::ffff:a.b.c.d`, and it is the
 * same client.
 */

/** An address: IPv4 as a 32-bit value, IPv6 as a 128-bit one. */
export interface ParsedAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A CIDR block as the range of addresses it covers, both ends included. */
export interface AddressRange {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
}

const V4_MASK = 0xffff_ffffn;

/**
 * The IPv4 value of a dotted-decimal address (`10.1.2.3`), or -1. Four decimal parts of 0..255,
 * no leading zeros (an octal-looking part is ambiguous, so it is refused as inet_pton refuses it).
 */
export function parseIPv4(text: string): number {
  let value = 0;
  let part = -1;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (part < 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1;
      part = part < 0 ? c - 48 : part * 10 + c - 48;
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || part < 0) return -1;
  return value * 256 + part;
}

/**
 * Reads an IPv6 address (`2001:db8::1`, `::ffff:10.0.0.1`) into its eight 16-bit groups, in
 * `groups`; false when it is none. A zone (`%eth0`) is ignored. One pass over the text, no regular
 * expression and no allocation: the data plane reads a client address per request with it.
 */
export function parseIPv6Groups(text: string, groups: number[]): boolean {
  let count = 0;
  let gap = -1;
  let group = 0;
  let digits = 0;
  let end = text.indexOf('%');
  if (end === -1) end = text.length;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const hex = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (hex >= 0) {
      if (++digits > 4) return false;
      group = group * 16 + hex;
    } else if (c === 58 /* : */) {
      if (digits === 0) {
        // `::` (at the start: its first colon is taken with the second).
        if (i === 0 && text.charCodeAt(1) === 58) continue;
        if (gap !== -1 || i === 0 || text.charCodeAt(i - 1) !== 58) return false;
        gap = count;
        continue;
      }
      if (count === 8) return false;
      groups[count++] = group;
      group = digits = 0;
    } else if (c === 46 /* . */) {
      // A dotted IPv4 part ends the address, standing for its last two groups.
      let start = i;
      while (start > 0 && text.charCodeAt(start - 1) !== 58) start--;
      const v4 = parseIPv4(text.slice(start, end));
      if (v4 < 0 || count > 6) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      digits = -1;
      break;
    } else return false;
  }
  if (digits > 0) {
    if (count === 8) return false;
    groups[count++] = group;
  } else if (digits === 0 && gap !== count) return false; // a trailing single colon
  if (gap === -1 ? count !== 8 : count > 7) return false;
  if (gap !== -1) {
    const move = count - gap;
    for (let k = 1; k <= move; k++) groups[8 - k] = groups[count - k]!;
    for (let k = gap; k < 8 - move; k++) groups[k] = 0;
  }
  return true;
}

/** The 128-bit value of an IPv6 address, or null (see {@link parseIPv6Groups}). */
export function parseIPv6(text: string): bigint | null {
  const groups = GROUPS;
  if (!parseIPv6Groups(text, groups)) return null;
  const word = (k: number): bigint => BigInt(groups[k]! * 65536 + groups[k + 1]!);
  return (word(0) << 96n) | (word(2) << 64n) | (word(4) << 32n) | word(6);
}

/** Scratch space of {@link parseIPv6}'s groups (the parse is synchronous). */
const GROUPS = new Array<number>(8).fill(0);

/**
 * An address in either family, or null. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4
 * address it maps.
 */
export function parseAddress(text: string): ParsedAddress | null {
  if (!text.includes(':')) {
    const v4 = parseIPv4(text);
    return v4 < 0 ? null : { family: 4, value: BigInt(v4) };
  }
  const v6 = parseIPv6(text);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & V4_MASK };
  return { family: 6, value: v6 };
}

/**
 * The block `text` names — `a.b.c.d/n`, `x:y::/n`, or a bare address (one address: /32 or /128) —
 * or null when it is none. Host bits may be set (they are cleared: `10.1.2.3/8` is `10.0.0.0/8`,
 * as nginx reads it).
 */
export function parseCidr(text: string): AddressRange | null {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const bitsText = slash === -1 ? null : text.slice(slash + 1);
  if (addressText.includes('%')) return null;
  let family: 4 | 6;
  let value: bigint;
  let width: number;
  let mapped = false;
  if (addressText.includes(':')) {
    const v6 = parseIPv6(addressText);
    if (v6 === null) return null;
    mapped = v6 >> 32n === 0xffffn;
    family = 6;
    value = v6;
    width = 128;
  } else {
    const v4 = parseIPv4(addressText);
    if (v4 < 0) return null;
    family = 4;
    value = BigInt(v4);
    width = 32;
  }
  let bits = width;
  if (bitsText !== null) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(bitsText)) return null;
    bits = Number(bitsText);
    if (bits > width) return null;
  }
  const hostBits = BigInt(width - bits);
  const first = (value >> hostBits) << hostBits;
  const last = first | ((1n << hostBits) - 1n);
  // A mapped block wholly inside ::ffff:0:0/96 is an IPv4 block; a wider one keeps its IPv6 form.
  if (mapped && bits >= 96) return { family: 4, first: first & V4_MASK, last: last & V4_MASK };
  return { family, first, last };
}

/** The canonical text of a block (see the module comment), e.g. `10.0.0.0/8`, `2001:db8::/32`. */
export function formatRange(range: AddressRange): string {
  const width = range.family === 4 ? 32 : 128;
  let bits = width;
  for (let span = range.last - range.first + 1n; span > 1n; span >>= 1n) bits--;
  return `${range.family === 4 ? formatIPv4(range.first) : formatIPv6(range.first)}/${bits}`;
}

/** `text` in canonical form (a bare address gets /32 or /128), or null when it is not an address or block. */
export function normalizeCidr(text: string): string | null {
  const range = parseCidr(text);
  return range === null ? null : formatRange(range);
}

function formatIPv4(value: bigint): string {
  const v = Number(value);
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 §4: lower case, no leading zeros, the first longest run of 2+ zero groups as `::`. */
function formatIPv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestAt = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt === -1) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLength).join(':')}`;
}

