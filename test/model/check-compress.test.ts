/**
 * `checkTable` on the Compress filter: what the ingress-nginx front end gives passes; levels the
 * encoders would refuse, types the data plane could never match and a User-Agent pattern that does
 * not compile are refused at the filter, with a message naming the value.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTable } from '../../src/model/check-table.ts';
import type { CompressCoding, CompressFilter } from '../../src/model/table.ts';
import { filterMessages, oneRouteTable } from '../helpers/filter-table.ts';

const GZIP: CompressCoding = { level: 1, minLength: 256, types: ['text/html', 'application/json'] };
const SOUND: CompressFilter = { type: 'Compress', gzip: GZIP, brotli: { level: 4, minLength: 20, types: ['*'] }, gzipDisable: 'MSIE [4-6]\\.' };

describe('checkTable: Compress', () => {
  test('gzip and brotli pass, each alone too', () => {
    assert.deepEqual(checkTable(oneRouteTable([SOUND])), []);
    assert.deepEqual(checkTable(oneRouteTable([{ ...SOUND, brotli: null, gzipDisable: null }])), []);
    assert.deepEqual(checkTable(oneRouteTable([{ ...SOUND, gzip: null, brotli: { level: 0, minLength: 0, types: ['text/html'] } }])), []);
  });

  const refused: [string, CompressFilter, RegExp][] = [
    ['a filter that compresses nothing', { ...SOUND, gzip: null, brotli: null }, /neither gzip nor brotli/],
    ['gzip level 0', { ...SOUND, gzip: { ...GZIP, level: 0 } }, /gzip level 0 is not a whole number from 1 to 9/],
    ['brotli level 12', { ...SOUND, brotli: { ...GZIP, level: 12 } }, /brotli level 12 is not a whole number from 0 to 11/],
    ['a negative minimum', { ...SOUND, gzip: { ...GZIP, minLength: -1 } }, /gzip minLength -1/],
    ['no types', { ...SOUND, gzip: { ...GZIP, types: [] } }, /gzip types is empty/],
    ['an upper-case type', { ...SOUND, gzip: { ...GZIP, types: ['Text/HTML'] } }, /gzip type "Text\/HTML" is not a lower-case type\/subtype/],
    ['a type with parameters', { ...SOUND, gzip: { ...GZIP, types: ['text/html; charset=utf-8'] } }, /is not a lower-case type\/subtype/],
    ['* among other types', { ...SOUND, gzip: { ...GZIP, types: ['*', 'text/html'] } }, /gzip types has \* with other types/],
    ['a type twice', { ...SOUND, gzip: { ...GZIP, types: ['text/html', 'text/html'] } }, /gzip type text\/html is listed twice/],
    ['a pattern that does not compile', { ...SOUND, gzipDisable: 'MSIE (' }, /gzipDisable "MSIE \(" is not a regular expression/],
  ];
  for (const [name, filter, message] of refused) {
    test(`refuses ${name}`, () => {
      const found = filterMessages(filter);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.match(found[0]!, message);
    });
  }
});
