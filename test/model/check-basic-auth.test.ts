/**
 * `checkTable` on the BasicAuth filter: the realms and htpasswd users ingress-nginx takes pass; a
 * realm that cannot be quoted as it is, a user name an htpasswd line cannot hold, a user listed
 * twice, and every hash the data plane would not verify (costly bcrypt, DES crypt, malformed, too many
 * rounds) are refused with the route's provenance.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTable } from '../../src/model/check-table.ts';
import type { BasicAuthFilter, BasicAuthUser } from '../../src/model/table.ts';
import { filterMessages, oneRouteTable } from '../helpers/filter-table.ts';

const SOUND: BasicAuthFilter = {
  type: 'BasicAuth',
  realm: 'Team only - web/1:2',
  users: [
    { name: 'alice', hash: '$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/' },
    { name: 'bob', hash: '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.' },
    { name: 'jürgen', hash: '{SHA}uE1+cBGmURe+4zihKsjfuHZgJbQ=' },
    { name: 'plain', hash: '{PLAIN}text' },
  ],
  forwardAuthorization: false,
};

/** The messages checkTable gives for a route with the sound filter changed by `change`. */
function messages(change: Partial<BasicAuthFilter>): string[] {
  return filterMessages({ ...SOUND, ...change } as BasicAuthFilter);
}

describe('checkTable: BasicAuth', () => {
  test('htpasswd users in every verified format pass, and so do no users and unreadable ones', () => {
    assert.deepEqual(checkTable(oneRouteTable([SOUND])), []);
    assert.deepEqual(checkTable(oneRouteTable([{ ...SOUND, users: [] }])), []);
    assert.deepEqual(checkTable(oneRouteTable([{ ...SOUND, users: null, realm: '' }])), []);
  });

  const user = (name: string, hash = '{PLAIN}x'): BasicAuthUser[] => [{ name, hash }];
  const refused: [string, Partial<BasicAuthFilter>, RegExp][] = [
    ['a realm with a quote', { realm: 'a "b"' }, /realm "a \\"b\\"" holds a quote/],
    ['a realm with a backslash', { realm: 'a\\b' }, /holds a quote, a backslash/],
    ['a realm with a line break', { realm: 'a\r\nSet-Cookie: x' }, /not printable ASCII/],
    ['an empty user name', { users: user('') }, /user "" is empty or holds a colon/],
    ['a user name with a colon', { users: user('a:b') }, /holds a colon/],
    ['a user listed twice', { users: [...user('alice'), ...user('alice', '{PLAIN}y')] }, /user "alice" is listed twice/],
    ['a bcrypt hash too costly', { users: user('erin', '$2y$13$N77PhixS5J/bFHLY9x14pO0YuaupXhbY3ibaUGrenA1Q1TxoioClu') }, /user "erin" has a bcrypt hash of cost 13/],
    ['a DES crypt hash', { users: user('frank', 'rXhCC2DmXNq4A') }, /DES crypt/],
    ['a hash in no known format', { users: user('gina', 'hunter2') }, /no hash format/],
    ['too many SHA-crypt rounds', { users: user('hal', '$6$rounds=5000000$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/') }, /5000000 rounds/],
  ];
  for (const [what, change, message] of refused) {
    test(`refuses ${what}`, () => {
      const found = messages(change);
      assert.equal(found.length, 1, `${what}: ${JSON.stringify(found)}`);
      assert.match(found[0]!, message);
    });
  }
});
