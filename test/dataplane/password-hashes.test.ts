/**
 * The password checks of BasicAuth: each htpasswd hash format against known answers — Drepper's
 * SHA-crypt specification's own test vectors, and hashes made here with `openssl passwd -1`,
 * `-apr1`, `-5` and `-6` (the salt given with `-salt`) — the formats refused with a reason, the
 * `Authorization: Basic` parser, and the bound of the per-worker cache of verified credentials.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashFormat, MAX_SHA_CRYPT_ROUNDS } from '../../src/model/password-hash-schemes.ts';
import { parseBasicCredentials } from '../../src/dataplane/lifecycle/filters/basic-credentials.ts';
import { prepareHash, verifyPassword } from '../../src/dataplane/lifecycle/filters/password-hashes.ts';
import { MAX_VERIFIED, noteVerified, verifiedCount, verifiedKey, verifiedScope, wasVerified } from '../../src/dataplane/lifecycle/filters/verified-cache.ts';

/** Whether `password` matches `hash`; throws on a hash in no verified format. */
function matches(password: string, hash: string): boolean {
  const prepared = prepareHash(hash);
  assert.notEqual(prepared, null, `${hash} is in a verified format`);
  return verifyPassword(Buffer.from(password, 'utf8'), prepared!);
}

/** [password, hash]: every one must match, and the password with one more character must not. */
function assertVectors(vectors: readonly (readonly [string, string])[]): void {
  for (const [password, hash] of vectors) {
    assert.ok(matches(password, hash), `${JSON.stringify(password)} matches ${hash}`);
    assert.ok(!matches(`${password}x`, hash), `${JSON.stringify(`${password}x`)} does not match ${hash}`);
    assert.ok(!matches(password.slice(1), hash), `${JSON.stringify(password.slice(1))} does not match ${hash}`);
  }
}

describe('password hashes', () => {
  it('MD5-crypt ($1$) as openssl passwd -1 makes it', () => {
    assertVectors([
      ['password', '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/'],
      // A password longer than one MD5 block of the alternate sum, and a short salt.
      ['a-password-longer-than-sixteen-bytes-for-the-md5-loop', '$1$sa$Eg19rs20jg7KtpcqNV22b.'],
    ]);
    // The empty password with an empty salt.
    assert.ok(matches('', '$1$$qRPK7m23GJusamGpoGLby/'));
    assert.ok(!matches('x', '$1$$qRPK7m23GJusamGpoGLby/'));
  });

  it('Apache MD5 ($apr1$, htpasswd\'s default) as openssl passwd -apr1 makes it', () => {
    assertVectors([
      ['password', '$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/'],
      // UTF-8 passwords are compared as their bytes.
      ['pässwörd', '$apr1$x$Kzn.cSDdCrYQZfFg5UXZM.'],
    ]);
    // Only the first 8 characters of a salt count: openssl wrote `abcdefgh` for `abcdefghij`.
    assert.ok(matches('cut-to-8', '$apr1$abcdefgh$bBcAGns059NiBMEyaRfAh/'));
    // The same digest under the other magic string is another hash.
    assert.ok(!matches('password', '$1$saltsalt$yAAkm4libquA.ZWLHbSBq/'));
  });

  it('SHA-crypt ($5$, $6$) with the specification\'s test vectors, rounds= included', () => {
    assertVectors([
      ['Hello world!', '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA'],
      ['This is just a test', '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5'],
      // Fewer than 1000 rounds are raised to 1000, as the specification says.
      ['the minimum number is still observed', '$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC'],
      ['Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
      ['Hello world!', '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
    ]);
  });

  it('SHA-crypt as openssl passwd -5 and -6 make it', () => {
    assertVectors([
      ['password', '$5$saltsalt$gOjOtoMpVhru2uyjeJSEc/JaLQWOXMNmlOnj6T4AtC.'],
      ['Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
      ['password', '$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/'],
      // openssl cut the 20-character salt to 16.
      ['long-salt-cut-to-16', '$6$saltsaltsaltsalt$jg0LsJExmSlK.C10rnl4HR65DaovDH086SJFDjjm3sc1ip.BAT.IOzL4ZL1P0UIo6uwE7zmJqXMl3GlWgHi5y/'],
    ]);
  });

  it('bcrypt: the OpenBSD vector, its $2b$/$2y$ spellings, and htpasswd -B', () => {
    assertVectors([
      ['U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
      ['U*U', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
      ['U*U', '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
      ['erin-pw', '$2y$05$N77PhixS5J/bFHLY9x14pO0YuaupXhbY3ibaUGrenA1Q1TxoioClu'],
    ]);
  });

  it('{SHA} (htpasswd -s), {SSHA} and {PLAIN}', () => {
    assertVectors([
      ['dave-pw', '{SHA}uE1+cBGmURe+4zihKsjfuHZgJbQ='],
      // openssl sha1 of "secret" + "NaCl", then the salt, in base64.
      ['secret', '{SSHA}dj2lH1ocucmj5OQsjP6mQrVx6FhOYUNs'],
      ['plain text', '{PLAIN}plain text'],
    ]);
  });

  it('refuses DES crypt, malformed and too costly hashes, saying why', () => {
    const refused: [string, RegExp][] = [
      ['$2y$13$N77PhixS5J/bFHLY9x14pO0YuaupXhbY3ibaUGrenA1Q1TxoioClu', /bcrypt hash of cost 13/],
      ['$2y$05$short', /bcrypt hash that is not/],
      ['rXhCC2DmXNq4A', /DES/],
      ['', /empty/],
      ['password', /no hash format/],
      ['$apr1$saltsalt$tooShort', /malformed/],
      ['$6$salt', /not \$6\$salt\$hash/],
      ['{SHA}bm90IDIwIGJ5dGVz', /20 bytes/],
      [`$6$rounds=${MAX_SHA_CRYPT_ROUNDS + 1}$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/`, /rounds/],
    ];
    for (const [hash, why] of refused) {
      const format = hashFormat(hash);
      assert.equal(format.scheme, null, hash);
      assert.match((format as { problem: string }).problem, why, hash);
      assert.equal(prepareHash(hash), null, hash);
    }
  });
});

describe('Authorization: Basic', () => {
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

  it('reads the user-id and the password, split at the first colon, the scheme in any case', () => {
    assert.deepEqual(parseBasicCredentials(`Basic ${b64('alice:pw')}`), { user: 'alice', password: Buffer.from('pw') });
    assert.deepEqual(parseBasicCredentials(`basic   ${b64('bob:a:b:c')}`), { user: 'bob', password: Buffer.from('a:b:c') });
    assert.deepEqual(parseBasicCredentials(`BASIC ${b64('carol:')}`), { user: 'carol', password: Buffer.alloc(0) });
    // Unpadded base64 is taken, as nginx takes it.
    assert.deepEqual(parseBasicCredentials(`Basic ${b64('alice:pw').replace(/=+$/, '')}`), { user: 'alice', password: Buffer.from('pw') });
    // The user-id's bytes, compared as they are: UTF-8 stays UTF-8.
    assert.equal(parseBasicCredentials(`Basic ${b64('jürgen:pw')}`)!.user, Buffer.from('jürgen').toString('latin1'));
  });

  it('gives nothing for another scheme, malformed base64 or no colon', () => {
    for (const field of [
      undefined, '', 'Basic', 'Basic ', 'Bearer abc', `Basicx ${b64('a:b')}`, `Digest ${b64('a:b')}`,
      'Basic YWxpY2U6cHc*', 'Basic YWxp Y2U6cHc=', 'Basic YWxpY2U6cHc=YQ==', 'Basic YWxpY2U6cHc===', 'Basic YWxpY', 'Basic YWxpY2U6cH=',
      `Basic ${b64('no colon here')}`,
    ]) {
      assert.equal(parseBasicCredentials(field), null, JSON.stringify(field));
    }
  });
});

describe('the cache of verified credentials', () => {
  it('stays within its bound, forgetting the least recently used first', () => {
    const scope = verifiedScope();
    const key = (i: number): string => verifiedKey(scope, 'user', Buffer.from(`password ${i}`));
    for (let i = 0; i <= MAX_VERIFIED; i++) noteVerified(key(i));
    assert.ok(verifiedCount() <= MAX_VERIFIED);
    assert.equal(wasVerified(key(0)), false, 'the oldest was evicted');
    assert.equal(wasVerified(key(MAX_VERIFIED)), true);
    // A lookup makes an entry the most recent: key(1) survives the next insertion, key(2) does not.
    assert.equal(wasVerified(key(1)), true);
    noteVerified(key(MAX_VERIFIED + 1));
    assert.equal(wasVerified(key(1)), true);
    assert.equal(wasVerified(key(2)), false);
  });

  it('keys by scope, user and password, never holding the password itself', () => {
    const [a, b] = [verifiedScope(), verifiedScope()];
    const pw = Buffer.from('hunter2');
    assert.notEqual(verifiedKey(a, 'alice', pw), verifiedKey(b, 'alice', pw), 'a new table\'s step never finds an old one\'s entries');
    assert.notEqual(verifiedKey(a, 'alice', pw), verifiedKey(a, 'bob', pw));
    assert.ok(!verifiedKey(a, 'alice', pw).includes('hunter2'));
    assert.equal(verifiedKey(a, 'alice', pw), verifiedKey(a, 'alice', Buffer.from('hunter2')));
  });
});
