/**
 * The password hash formats of htpasswd files that a {@link BasicAuthFilter} can hold, and the
 * ones it cannot. Shared by the compiler (which reports a user it must leave out), the table check
 * (which refuses a hash the data plane would not verify) and the data plane (which verifies):
 * the format is read from the hash's prefix as nginx's `ngx_crypt` and the C library's `crypt()`
 * read it.
 *
 * Verified: `$apr1$` (htpasswd's default, Apache's MD5), `$1$` (MD5-crypt), `$5$` and `$6$`
 * (SHA-crypt, with an optional `rounds=N$`), `{SHA}` (base64 SHA-1, `htpasswd -s`), `{SSHA}`
 * (salted SHA-1), `{PLAIN}`, and bcrypt (`$2a$`, `$2b$`, `$2y$`: `htpasswd -B`, what
 * ingress-nginx's own examples use) up to cost 12. Not verified: the 13-character DES crypt of old
 * `htpasswd -d`, which checks only 8 characters of a password.
 *
 * @module
 */
/** A format signalbox verifies. */
export type HashScheme = 'apr1' | 'md5-crypt' | 'sha256-crypt' | 'sha512-crypt' | 'sha1' | 'ssha' | 'plain' | 'bcrypt';

/** The most SHA-crypt rounds a hash may ask for: each verification runs them all on a worker's thread. */
export const MAX_SHA_CRYPT_ROUNDS = 100_000;

/**
 * The highest bcrypt cost a hash may have: 2^12 rounds take some 200 ms of a worker's thread in
 * JavaScript (htpasswd's default is 5, common ones 10 to 12); a success is cached, a failure is not.
 */
export const MAX_BCRYPT_COST = 12;

/** A hash read: its scheme, or why it cannot be verified (one sentence naming the format). */
export type HashFormat = { readonly scheme: HashScheme } | { readonly scheme: null; readonly problem: string };

// ./0-9A-Za-z: the alphabet of crypt()'s salts and hashes.
const CRYPT64 = /^[./0-9A-Za-z]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The format of one hash as written after `user:` in an htpasswd file. */
export function hashFormat(hash: string): HashFormat {
  if (hash.startsWith('{PLAIN}')) return { scheme: 'plain' };
  if (hash.startsWith('{SHA}')) return base64Of(hash.slice(5), 20, 20) ? { scheme: 'sha1' } : bad('a {SHA} hash that is not the base64 of 20 bytes');
  if (hash.startsWith('{SSHA}')) return base64Of(hash.slice(6), 21, 1024) ? { scheme: 'ssha' } : bad('a {SSHA} hash that is not the base64 of 20 bytes and a salt');
  if (/^\$2[abxy]?\$/.test(hash)) {
    const m = /^\$2[aby]\$(\d\d)\$[./0-9A-Za-z]{53}$/.exec(hash);
    if (m === null) return bad('a bcrypt hash that is not $2a$, $2b$ or $2y$, a two-digit cost and 53 characters of salt and digest');
    if (Number(m[1]) > MAX_BCRYPT_COST) return bad(`a bcrypt hash of cost ${m[1]}, more than the ${MAX_BCRYPT_COST} a request may cost: write it again with htpasswd -B -C ${MAX_BCRYPT_COST} (or less)`);
    return { scheme: 'bcrypt' };
  }
  for (const [prefix, scheme, length] of [['$apr1$', 'apr1', 22], ['$1$', 'md5-crypt', 22], ['$5$', 'sha256-crypt', 43], ['$6$', 'sha512-crypt', 86]] as const) {
    if (!hash.startsWith(prefix)) continue;
    const parts = hash.slice(prefix.length).split('$');
    const rounds = parts.length === 3 && (scheme === 'sha256-crypt' || scheme === 'sha512-crypt') ? /^rounds=(\d{1,9})$/.exec(parts.shift()!) : null;
    if (parts.length !== 2) return bad(`a ${prefix} hash that is not ${prefix}salt$hash`);
    if (rounds !== null && Number(rounds[1]) > MAX_SHA_CRYPT_ROUNDS) return bad(`a ${prefix} hash of ${rounds[1]} rounds, more than the ${MAX_SHA_CRYPT_ROUNDS} a request may cost`);
    const [salt, digest] = parts as [string, string];
    if (/[$:\n]/.test(salt) || digest.length !== length || !CRYPT64.test(digest)) return bad(`a ${prefix} hash whose salt or ${length}-character digest is malformed`);
    return { scheme };
  }
  if (hash.length === 13 && CRYPT64.test(hash)) return bad('a DES crypt hash (htpasswd -d), which checks 8 characters of a password at most: signalbox refuses it; write it again with htpasswd -m');
  if (hash === '') return bad('an empty hash');
  return bad('no hash format signalbox knows ($apr1$, $1$, $2y$, $5$, $6$, {SHA}, {SSHA}, {PLAIN})');
}

function bad(problem: string): HashFormat {
  return { scheme: null, problem };
}

function base64Of(text: string, min: number, max: number): boolean {
  if (!BASE64.test(text) || text.length % 4 !== 0) return false;
  const bytes = (text.length / 4) * 3 - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0);
  return bytes >= min && bytes <= max;
}

