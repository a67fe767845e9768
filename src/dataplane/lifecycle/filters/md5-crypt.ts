/**
 * Poul-Henning Kamp's MD5-crypt (FreeBSD, 1994): `$1$salt$hash`, and Apache's variant of it that
 * htpasswd writes by default, `$apr1$salt$hash` — the same algorithm with another magic string.
 * Written from the reference implementation's description; checked against `openssl passwd -1`
 * and `openssl passwd -apr1` (test/dataplane/password-hashes.test.ts).
 */
import { createHash, hash as hashOnce } from 'node:crypto';
import { crypt64 } from './crypt64.ts';

// The digest's bytes, three at a time, in the order the reference code writes them.
const GROUPS = [[0, 6, 12, 4], [1, 7, 13, 4], [2, 8, 14, 4], [3, 9, 15, 4], [4, 10, 5, 4], [-1, -1, 11, 2]] as const;

/**
 * The 22-character digest of `password` with `salt` (at most 8 characters are used) under
 * `magic` (`$1$` or `$apr1$`).
 */
export function md5CryptDigest(password: Buffer, salt: string, magic: '$1$' | '$apr1$'): string {
  const s = Buffer.from(salt.slice(0, 8), 'latin1');
  const alternate = createHash('md5').update(password).update(s).update(password).digest();
  const ctx = createHash('md5').update(password).update(magic).update(s);
  for (let left = password.length; left > 0; left -= 16) ctx.update(alternate.subarray(0, Math.min(16, left)));
  // The reference code's quirk: a zero byte for each set bit of the length, the first character for each clear one.
  for (let i = password.length; i > 0; i >>>= 1) ctx.update((i & 1) === 1 ? ZERO : password.subarray(0, 1));
  let digest: Buffer = ctx.digest();
  // 1000 rounds, to slow down guessing (as it was reckoned in 1994); each hashed at once from a
  // scratch buffer, cheaper than a streaming hash object per round.
  const scratch = Buffer.alloc(16 + 2 * password.length + s.length + 16);
  for (let i = 0; i < 1000; i++) {
    let n = (i & 1) === 1 ? password.copy(scratch, 0) : digest.copy(scratch, 0);
    if (i % 3 !== 0) n += s.copy(scratch, n);
    if (i % 7 !== 0) n += password.copy(scratch, n);
    n += (i & 1) === 1 ? digest.copy(scratch, n) : password.copy(scratch, n);
    digest = hashOnce('md5', scratch.subarray(0, n), 'buffer');
  }
  return crypt64(digest, GROUPS);
}

const ZERO = Buffer.alloc(1);
