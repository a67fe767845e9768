/**
 * Ulrich Drepper's SHA-crypt ("Unix crypt using SHA-256 and SHA-512", the glibc specification):
 * `$5$salt$hash` and `$6$salt$hash`, optionally `$5$rounds=N$salt$hash`. Written from the
 * specification's steps; checked against its test vectors and `openssl passwd -5` / `-6`
 * (test/dataplane/password-hashes.test.ts).
 */
import { createHash, hash as hashOnce } from 'node:crypto';
import { crypt64 } from './crypt64.ts';

/** The specification's default, used when the hash names no `rounds=`. */
export const DEFAULT_ROUNDS = 5000;
const MIN_ROUNDS = 1000;
const MAX_ROUNDS = 999_999_999;

// The specification's byte order of the final encoding, three bytes at a time.
const SHA256_GROUPS = [
  [0, 10, 20, 4], [21, 1, 11, 4], [12, 22, 2, 4], [3, 13, 23, 4], [24, 4, 14, 4],
  [15, 25, 5, 4], [6, 16, 26, 4], [27, 7, 17, 4], [18, 28, 8, 4], [9, 19, 29, 4], [-1, 31, 30, 3],
] as const;
const SHA512_GROUPS = [
  [0, 21, 42, 4], [22, 43, 1, 4], [44, 2, 23, 4], [3, 24, 45, 4], [25, 46, 4, 4], [47, 5, 26, 4], [6, 27, 48, 4],
  [28, 49, 7, 4], [50, 8, 29, 4], [9, 30, 51, 4], [31, 52, 10, 4], [53, 11, 32, 4], [12, 33, 54, 4], [34, 55, 13, 4],
  [56, 14, 35, 4], [15, 36, 57, 4], [37, 58, 16, 4], [59, 17, 38, 4], [18, 39, 60, 4], [40, 61, 19, 4], [62, 20, 41, 4],
  [-1, -1, 63, 2],
] as const;

/** The parameters of a `$5$`/`$6$` hash: its salt (at most 16 characters used) and rounds. */
export interface ShaCryptParams {
  readonly salt: string;
  /** As written; clamped to 1000..999,999,999 as the specification says. */
  readonly rounds: number;
}

/** The digest (43 characters for SHA-256, 86 for SHA-512) of `password` under `params`. */
export function shaCryptDigest(password: Buffer, params: ShaCryptParams, algorithm: 'sha256' | 'sha512'): string {
  const size = algorithm === 'sha256' ? 32 : 64;
  const p = password;
  const s = Buffer.from(params.salt.slice(0, 16), 'latin1');
  const rounds = Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, params.rounds));
  const hash = (): ReturnType<typeof createHash> => createHash(algorithm);

  // Steps 4-8: digest B of password, salt, password.
  const b = hash().update(p).update(s).update(p).digest();
  // Steps 1-3, 9-12: digest A.
  const a = hash().update(p).update(s);
  a.update(repeatTo(b, p.length));
  for (let n = p.length; n > 0; n >>>= 1) a.update((n & 1) === 1 ? b : p);
  let c: Buffer = a.digest();
  // Steps 13-16: the byte sequence P, the password's digest repeated to its length.
  const dp = hash();
  for (let i = 0; i < p.length; i++) dp.update(p);
  const pBytes = repeatTo(dp.digest(), p.length);
  // Steps 17-20: the byte sequence S, from the salt repeated 16 + A[0] times.
  const ds = hash();
  for (let i = 0; i < 16 + c[0]!; i++) ds.update(s);
  const sBytes = repeatTo(ds.digest(), s.length);
  // Step 21: the rounds, each one hash of a few of C, S and P: written into one scratch buffer and
  // hashed at once, which costs a fraction of a streaming hash object per round.
  const scratch = Buffer.alloc(size + 2 * pBytes.length + sBytes.length + size);
  for (let i = 0; i < rounds; i++) {
    let n = (i & 1) === 1 ? pBytes.copy(scratch, 0) : c.copy(scratch, 0);
    if (i % 3 !== 0) n += sBytes.copy(scratch, n);
    if (i % 7 !== 0) n += pBytes.copy(scratch, n);
    n += (i & 1) === 1 ? c.copy(scratch, n) : pBytes.copy(scratch, n);
    c = hashOnce(algorithm, scratch.subarray(0, n), 'buffer');
  }
  if (c.length !== size) throw new Error('unexpected digest size');
  return crypt64(c, algorithm === 'sha256' ? SHA256_GROUPS : SHA512_GROUPS);
}

/** `block` repeated (and cut) to `length` bytes. */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
  return out;
}
