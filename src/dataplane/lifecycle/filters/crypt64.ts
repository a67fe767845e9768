/**
 * crypt()'s base-64 encoding (`./0-9A-Za-z`, least significant six bits first), in which
 * MD5-crypt and SHA-crypt write their digests.
 */
const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Appends `n` characters of the 24-bit group `b2 b1 b0` (b2 most significant) to `out`. */
export function crypt64Group(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ALPHABET[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

/**
 * Encodes `digest` the crypt() way: `groups` lists, for each 24-bit group, the indices of its three
 * bytes (most significant first) and how many characters it gives (4, or fewer for the last).
 */
export function crypt64(digest: Uint8Array, groups: readonly (readonly [number, number, number, number])[]): string {
  let out = '';
  for (const [a, b, c, n] of groups) out += crypt64Group(a < 0 ? 0 : digest[a]!, b < 0 ? 0 : digest[b]!, digest[c]!, n);
  return out;
}
