/**
 * Which codings an Accept-Encoding field accepts (RFC 9110 §12.5.3), as the Compress filter reads
 * it: q-values, `*` for codings not named, `x-gzip`, case and spacing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acceptsCoding } from '../../src/dataplane/lifecycle/filters/accept-encoding.ts';

describe('acceptsCoding', () => {
  const cases: [string | undefined, string, boolean][] = [
    [undefined, 'gzip', false],
    ['', 'gzip', false],
    ['gzip, deflate, br', 'gzip', true],
    ['gzip, deflate, br', 'br', true],
    ['deflate', 'gzip', false],
    ['GZIP', 'gzip', true],
    ['x-gzip', 'gzip', true],
    ['gzip;q=0', 'gzip', false],
    ['gzip ; q=0.000', 'gzip', false],
    ['gzip;q=0.5', 'gzip', true],
    ['br;q=0, gzip', 'br', false],
    ['*', 'br', true],
    ['*;q=0', 'gzip', false],
    // A coding named outweighs the wildcard, either way.
    ['gzip;q=0, *', 'gzip', false],
    ['gzip, *;q=0', 'gzip', true],
    ['identity', 'gzip', false],
  ];
  for (const [header, coding, expected] of cases) {
    test(`${JSON.stringify(header)} ${expected ? 'accepts' : 'does not accept'} ${coding}`, () => {
      assert.equal(acceptsCoding(header, coding), expected);
    });
  }
  test('several fields are one list', () => {
    assert.equal(acceptsCoding(['deflate', 'br'], 'br'), true);
  });
});
