/**
 * ingress-nginx's value syntaxes, shared by its annotations and ConfigMap keys: Go's
 * `strconv.ParseBool`, integers, nginx sizes (`1m`) and CIDR lists. Each parser returns the value or
 * a message saying what is wrong.
 */
import { normalizeCidr } from '../../model/cidr.ts';

/** A parse result: the value, or why the text is not one. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (message: string): Parsed<never> => ({ ok: false, message });

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** A boolean as Go's `strconv.ParseBool` reads it (what ingress-nginx uses). */
export function parseBool(text: string): Parsed<boolean> {
  const t = text.trim();
  if (TRUE.has(t)) return ok(true);
  if (FALSE.has(t)) return ok(false);
  return bad(`${JSON.stringify(text)} is not a boolean (true or false)`);
}

/** A whole number from `min` to `max`. */
export function parseInteger(text: string, min: number, max: number): Parsed<number> {
  const t = text.trim();
  if (!/^-?\d{1,15}$/.test(t)) return bad(`${JSON.stringify(text)} is not a whole number`);
  const n = Number(t);
  if (n < min || n > max) return bad(`${n} is not between ${min} and ${max}`);
  return ok(n);
}

/** A timeout in whole seconds (ingress-nginx's proxy timeouts), as milliseconds; at most a day. */
export function parseSeconds(text: string): Parsed<number> {
  const t = text.trim();
  // ingress-nginx documents bare seconds; nginx itself also takes a unit, which users write too.
  const m = /^(\d{1,6})(s?)$/.exec(t);
  if (m === null) return bad(`${JSON.stringify(text)} is not a number of seconds`);
  const seconds = Number(m[1]);
  if (seconds < 1 || seconds > 86_400) return bad(`${seconds} seconds is not between 1 and 86400`);
  return ok(seconds * 1000);
}

/** A time limit in whole seconds where `0` is none (`proxy-next-upstream-timeout`): milliseconds, or null. */
export function parseSecondsOrNone(text: string): Parsed<number | null> {
  const t = text.trim();
  if (/^0+s?$/.test(t)) return ok(null);
  return parseSeconds(t);
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** An nginx size (`100`, `8k`, `1m`, `2g`; unit case-insensitive) in bytes; `0` is 0 (no limit). */
export function parseNginxSize(text: string): Parsed<number> {
  const m = /^(\d{1,12})([kKmMgG]?)$/.exec(text.trim());
  if (m === null) return bad(`${JSON.stringify(text)} is not an nginx size (a number with an optional k, m or g)`);
  const bytes = Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(bytes)) return bad(`${JSON.stringify(text)} is too large`);
  return ok(bytes);
}

/**
 * A comma-separated list of CIDRs or addresses (`10.0.0.0/8, 192.168.1.7, 2001:db8::/32`), as
 * ingress-nginx's source-range annotations take them, each in canonical form (`10.1.2.3/8` is
 * `10.0.0.0/8`, a bare address /32 or /128). Every entry must be valid: ingress-nginx refuses the
 * whole list when one is not, and so does this.
 */
export function parseCidrList(text: string): Parsed<string[]> {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const cidr = normalizeCidr(entry);
    if (cidr === null) return bad(`${JSON.stringify(entry)} is not an IP address or CIDR`);
    if (!out.includes(cidr)) out.push(cidr);
  }
  return ok(out);
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A comma-separated list of header field names (`hide-headers`), lower-cased, each once; the
 * entries that are not field names are returned apart so that the rest can still be applied.
 */
export function parseHeaderNameList(text: string): { names: string[]; bad: string[] } {
  const names: string[] = [];
  const bad: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (!HEADER_NAME.test(entry)) bad.push(entry);
    else if (!names.includes(entry.toLowerCase())) names.push(entry.toLowerCase());
  }
  return { names, bad };
}
