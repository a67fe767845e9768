/**
 * Counting a path pattern's capture groups for `rewrite-target` (src/compile/ingress-nginx/rewrite-groups.ts):
 * nginx refuses a rewrite naming a group the pattern lacks, so the count must be exact.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { captureGroups, highestReference } from '../../src/compile/ingress-nginx/rewrite-groups.ts';

describe('rewrite-target capture groups', () => {
  test('counts plain and named groups, not non-capturing ones, lookarounds, escapes or classes', () => {
    const cases: [string, number][] = [
      ['/api', 0],
      ['/api(/|$)(.*)', 2],
      ['/something/(.*)', 1],
      ['/static/(.*\\.(?:css|js))$', 1],
      ['/(?P<id>[0-9]+)/(?<rest>.*)', 2],
      ['/a\\(b\\)/(c)', 1],
      ['/[(]x[)]/(y)', 1],
      ['/[]()]+/(z)', 1],
      ['/(?i)x/(y)', 1],
    ];
    for (const [pattern, groups] of cases) assert.equal(captureGroups(pattern), groups, pattern);
  });

  test('the highest $N of a target', () => {
    assert.equal(highestReference('/'), 0);
    assert.equal(highestReference('/$2'), 2);
    assert.equal(highestReference('/users/$1/$3'), 3);
  });
});
