/**
 * FNV-1a over UTF-16 code units, the hash the router's indexes use to look up a substring of a
 * request (a path prefix, a host without its port) without creating that substring.
 */

/** FNV-1a 32-bit offset basis, as an int32. */
export const FNV_OFFSET = 0x811c9dc5 | 0;
/** FNV-1a 32-bit prime. */
export const FNV_PRIME = 0x01000193;
/** Hashes are masked to 30 bits before use as map keys, so keys stay small integers (no heap numbers). */
export const HASH_MASK = 0x3fffffff;

/**
 * The masked hash of `text[start, end)`. With `fold`, ASCII upper-case letters hash like their
 * lower-case forms (host names are case-insensitive).
 */
export function hashRange(text: string, start: number, end: number, fold: boolean): number {
  let hash = FNV_OFFSET;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (fold && c >= 0x41 && c <= 0x5a) c += 0x20;
    hash = Math.imul(hash ^ c, FNV_PRIME);
  }
  return hash & HASH_MASK;
}
