/**
 * Verifies a password against an htpasswd hash, in the formats of
 * src/model/password-hash-schemes.ts: the digest the password gives is compared with the one the
 * hash holds in constant time (`crypto.timingSafeEqual` on equal lengths), so how long a wrong
 * password takes says nothing of how much of it was right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { hashFormat, type HashScheme } from '../../../model/password-hash-schemes.ts';
import { md5CryptDigest } from './md5-crypt.ts';
import { DEFAULT_ROUNDS, shaCryptDigest } from './sha-crypt.ts';

/** A hash prepared once per table swap: its scheme and its parts, or null for one not verified. */
export interface PreparedHash {
  readonly scheme: HashScheme;
  /** What the password's digest is compared with. */
  readonly expected: Buffer;
  /** The salt (crypt schemes, {SSHA}); empty otherwise. */
  readonly salt: string;
  readonly rounds: number;
  /** The bytes of an {SSHA} salt. */
  readonly saltBytes: Buffer;
}

/** Reads `hash` for {@link verifyPassword}; null when it is in no format signalbox verifies. */
export function prepareHash(hash: string): PreparedHash | null {
  const format = hashFormat(hash);
  if (format.scheme === null) return null;
  const none = Buffer.alloc(0);
  switch (format.scheme) {
    case 'plain':
      // Compared as SHA-256 digests: equal lengths whatever the password, so its length leaks nothing.
      return { scheme: 'plain', expected: createHash('sha256').update(hash.slice(7), 'utf8').digest(), salt: '', rounds: 0, saltBytes: none };
    case 'sha1':
      return { scheme: 'sha1', expected: Buffer.from(hash.slice(5), 'base64'), salt: '', rounds: 0, saltBytes: none };
    case 'ssha': {
      const bytes = Buffer.from(hash.slice(6), 'base64');
      return { scheme: 'ssha', expected: bytes.subarray(0, 20), salt: '', rounds: 0, saltBytes: bytes.subarray(20) };
    }
    case 'bcrypt':
      // The whole hash: bcrypt recomputes it from its own cost and salt.
      return { scheme: 'bcrypt', expected: Buffer.from(hash, 'latin1'), salt: hash, rounds: 0, saltBytes: none };
    default: {
      // $id$[rounds=N$]salt$digest
      const parts = hash.split('$');
      const digest = parts[parts.length - 1]!;
      const salt = parts[parts.length - 2]!;
      const rounds = parts.length === 5 ? Number(parts[2]!.slice('rounds='.length)) : DEFAULT_ROUNDS;
      return { scheme: format.scheme, expected: Buffer.from(digest, 'latin1'), salt, rounds, saltBytes: none };
    }
  }
}

/** Whether `password` (the bytes the client sent) is the one `hash` was made from. */
export function verifyPassword(password: Buffer, hash: PreparedHash): boolean {
  const actual = digestOf(password, hash);
  // Every scheme gives a digest of its fixed length; a hash that holds another fails, in no time.
  if (actual.length !== hash.expected.length) return false;
  return timingSafeEqual(actual, hash.expected);
}

function digestOf(password: Buffer, hash: PreparedHash): Buffer {
  switch (hash.scheme) {
    case 'plain':
      return createHash('sha256').update(password).digest();
    case 'sha1':
      return createHash('sha1').update(password).digest();
    case 'ssha':
      return createHash('sha1').update(password).update(hash.saltBytes).digest();
    case 'apr1':
      return Buffer.from(md5CryptDigest(password, hash.salt, '$apr1$'), 'latin1');
    case 'md5-crypt':
      return Buffer.from(md5CryptDigest(password, hash.salt, '$1$'), 'latin1');
    case 'sha256-crypt':
      return Buffer.from(shaCryptDigest(password, { salt: hash.salt, rounds: hash.rounds }, 'sha256'), 'latin1');
    case 'sha512-crypt':
      return Buffer.from(shaCryptDigest(password, { salt: hash.salt, rounds: hash.rounds }, 'sha512'), 'latin1');
    case 'bcrypt':
      // bcrypt reads at most 72 bytes of the password, as every implementation does.
      return Buffer.from(bcrypt.hashSync(password.toString('utf8'), hash.salt), 'latin1');
  }
}
