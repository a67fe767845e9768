/**
 * MurmurHash3 (x86, 32-bit; Austin Appleby, public domain algorithm) over the UTF-8 bytes of a
 * string, written from the published description. The hashing policies use it for request keys,
 * ring points and Maglev permutations: it is stable across processes and releases, so every worker
 * and every replica maps a key to the same endpoint.
 *
 * The string is encoded to UTF-8 on the fly, four bytes at a time, so hashing a request key
 * allocates nothing. Lone surrogates hash as U+FFFD, as `TextEncoder` and `Buffer.from` encode them.
 */

/**
 * Where {@link murmur3Into} leaves its result. Half of all 32-bit hashes are too large for a V8
 * small integer, so returning one from a call that is not inlined would allocate a heap number per
 * request; the large hashing loop is not inlined, but the tiny `hashKey32` that reads this is.
 */
const result = new Uint32Array(1);

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Mixes one little-endian 4-byte block into the running hash. */
function mixBlock(hash: number, block: number): number {
  let k = Math.imul(block, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  let h = hash ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finalizer: every input bit affects every output bit. Returns an int32. */
function fmix32(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * MurmurHash3_x86_32 of the UTF-8 encoding of `key`, as an unsigned 32-bit integer.
 * @param seed an unsigned 32-bit seed; different seeds give independent hashes of the same key
 *   (Maglev uses two for its offset and skip).
 */
export function hashKey32(key: string, seed = 0): number {
  murmur3Into(key, seed);
  return result[0]!;
}

/** Hashes `key` into `result[0]`. */
function murmur3Into(key: string, seed: number): void {
  const length = key.length;
  let hash = seed | 0;
  // Bytes waiting to fill a block, little-endian, and how many there are.
  let block = 0;
  let filled = 0;
  let byteLength = 0;
  let i = 0;
  while (i < length) {
    // The common case: an ASCII key starting a fresh block. Four characters make one block.
    if (filled === 0 && i + 3 < length) {
      const c0 = key.charCodeAt(i);
      const c1 = key.charCodeAt(i + 1);
      const c2 = key.charCodeAt(i + 2);
      const c3 = key.charCodeAt(i + 3);
      if ((c0 | c1 | c2 | c3) < 0x80) {
        hash = mixBlock(hash, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
        byteLength += 4;
        i += 4;
        continue;
      }
    }
    // One code point: its UTF-8 bytes packed little-endian into `bytes`, `count` of them.
    let c = key.charCodeAt(i++);
    let bytes: number;
    let count: number;
    if (c < 0x80) {
      bytes = c;
      count = 1;
    } else if (c < 0x800) {
      bytes = (0xc0 | (c >>> 6)) | ((0x80 | (c & 0x3f)) << 8);
      count = 2;
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i < length ? key.charCodeAt(i) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
        } else {
          c = 0xfffd;
        }
      }
      if (c < 0x10000) {
        bytes = (0xe0 | (c >>> 12)) | ((0x80 | ((c >>> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
        count = 3;
      } else {
        bytes = (0xf0 | (c >>> 18)) | ((0x80 | ((c >>> 12) & 0x3f)) << 8) | ((0x80 | ((c >>> 6) & 0x3f)) << 16) | ((0x80 | (c & 0x3f)) << 24);
        count = 4;
      }
    }
    byteLength += count;
    for (let b = 0; b < count; b++) {
      block |= ((bytes >>> (8 * b)) & 0xff) << (8 * filled);
      if (++filled === 4) {
        hash = mixBlock(hash, block);
        block = 0;
        filled = 0;
      }
    }
  }
  if (filled > 0) {
    let k = Math.imul(block, C1);
    k = (k << 15) | (k >>> 17);
    hash ^= Math.imul(k, C2);
  }
  result[0] = fmix32(hash ^ byteLength);
}

/**
 * A new, independent-looking 32-bit value from a 32-bit value and a small salt (Maglev's re-hash
 * of a slot whose endpoint is unusable). Integer-only, so a retry never re-reads the key.
 */
export function rehash32(hash: number, salt: number): number {
  return fmix32(hash ^ Math.imul(salt, 0x9e3779b9)) >>> 0;
}
