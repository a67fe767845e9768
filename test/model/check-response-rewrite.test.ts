/**
 * `checkTable` on the ResponseRewrite filter: what ingress-nginx's annotations give passes; a
 * replacement that could split a field, add a cookie attribute or never match is refused at the
 * filter, with a message naming the value.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTable } from '../../src/model/check-table.ts';
import type { ResponseRewriteFilter } from '../../src/model/table.ts';
import { filterMessages, oneRouteTable } from '../helpers/filter-table.ts';

const SOUND: ResponseRewriteFilter = {
  type: 'ResponseRewrite',
  location: [{ from: 'http://backend.internal:8080/', to: '/' }],
  cookiePath: [{ from: '/', to: '/app/' }],
  cookieDomain: [{ from: 'backend.internal', to: 'example.com' }],
};

describe('checkTable: ResponseRewrite', () => {
  test('ingress-nginx-style rewrites pass, one list alone too', () => {
    assert.deepEqual(checkTable(oneRouteTable([SOUND])), []);
    assert.deepEqual(checkTable(oneRouteTable([{ type: 'ResponseRewrite', cookiePath: [{ from: '/', to: '' }] }])), []);
  });

  const refused: [string, ResponseRewriteFilter, RegExp][] = [
    ['a filter that rewrites nothing', { type: 'ResponseRewrite' }, /no location, cookiePath or cookieDomain/],
    ['an empty list', { type: 'ResponseRewrite', location: [] }, /location is an empty list/],
    ['an empty from', { type: 'ResponseRewrite', location: [{ from: '', to: '/' }] }, /location from "" is not printable ASCII without spaces, or is empty/],
    ['a replacement that would split the field', { type: 'ResponseRewrite', location: [{ from: '/', to: '/\r\nx-injected: 1' }] }, /location to .* is not printable ASCII/],
    ['a space', { type: 'ResponseRewrite', cookiePath: [{ from: '/a b', to: '/' }] }, /cookiePath from "\/a b"/],
    ['a cookie path that adds an attribute', { type: 'ResponseRewrite', cookiePath: [{ from: '/', to: '/;Domain=evil.example' }] }, /cookiePath to .* holds a ;/],
    ['a domain with its leading dot', { type: 'ResponseRewrite', cookieDomain: [{ from: '.backend.internal', to: 'example.com' }] }, /cookieDomain from ".backend.internal" starts with a dot/],
  ];
  for (const [name, filter, message] of refused) {
    test(`refuses ${name}`, () => {
      const found = filterMessages(filter);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.match(found[0]!, message);
    });
  }
});
