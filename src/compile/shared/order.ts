/**
 * Deterministic ordering helpers. Everything the compiler sorts goes through plain UTF-16 code-unit
 * comparison, never `localeCompare`, whose result depends on the ICU data and locale of the
 * process: the same snapshot must give byte-identical output on every machine.
 */

/** Compares two strings by code units: -1, 0 or 1. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two numbers ascending. */
export function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const DIGITS = /^[0-9]+$/;

/**
 * Compares provenance paths segment by segment (`/`-separated), numeric segments as numbers:
 * `Ingress/a/b/rule/2` < `Ingress/a/b/rule/10` < `Ingress/a/b/tls`.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const left = a.split('/');
  const right = b.split('/');
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const x = left[i]!;
    const y = right[i]!;
    if (x === y) continue;
    if (DIGITS.test(x) && DIGITS.test(y)) return compareNumbers(Number(x), Number(y)) || compareStrings(x, y);
    return compareStrings(x, y);
  }
  return compareNumbers(left.length, right.length);
}

/**
 * A sort key for an IP address, such that comparing keys by code units orders addresses by value:
 * - IPv4 (`4` + 8 hex digits) before IPv6 (`6` + 32 hex digits); IPv4 by its 32-bit value, so
 *   `10.0.0.2` < `10.0.0.10` < `10.0.1.1`;
 * - IPv6 by its 128-bit value (the fully expanded form, hex digits lower-cased; an embedded IPv4
 *   tail such as `::ffff:10.0.0.1` is read as its two groups; a `%zone` is ignored);
 * - anything that is not an address after both (`~`), and {@link compareAddresses} orders those,
 *   like spellings of one value (`2001:db8::1`, `2001:DB8:0::1`), by plain string order.
 */
export function addressSortKey(address: string): string {
  const v4 = ipv4Groups(address);
  if (v4 !== null) return `4${v4.map((b) => hex(b, 2)).join('')}`;
  const v6 = ipv6Groups(address);
  if (v6 !== null) return `6${v6.map((g) => hex(g, 4)).join('')}`;
  return '~';
}

/** Compares IP addresses by value, as {@link addressSortKey} describes; ties by string order. */
export function compareAddresses(a: string, b: string): number {
  return a === b ? 0 : compareStrings(addressSortKey(a), addressSortKey(b)) || compareStrings(a, b);
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

const IPV4_PART = /^(?:0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The four bytes of a dotted-quad IPv4 address (no leading zeros), or null. */
function ipv4Groups(address: string): number[] | null {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((p) => IPV4_PART.test(p))) return null;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, `%zone` dropped), or null. */
function ipv6Groups(address: string): number[] | null {
  const zone = address.indexOf('%');
  const text = zone === -1 ? address : address.slice(0, zone);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = ipv4Groups(part);
        if (v4 === null) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (IPV6_GROUP.test(part)) {
        out.push(Number.parseInt(part, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 address may only end the address.
  if (halves.length === 2 && head.length > 0 && halves[0]!.includes('.')) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/**
 * A canonical JSON text for any value: object keys sorted, so two objects that differ only in key
 * order give the same text. Used to pick deterministically between duplicate objects. Never
 * throws: values JSON cannot represent (cycles, BigInt) fall back to a fixed marker.
 */
export function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        // A null prototype, so a `__proto__` key is copied as data instead of setting the prototype.
        const sorted: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        for (const k of Object.keys(v).sort(compareStrings)) sorted[k] = (v as Record<string, unknown>)[k];
        return sorted;
      }
      return v;
    }) ?? '';
  } catch {
    return '\u0000unserialisable';
  }
}
