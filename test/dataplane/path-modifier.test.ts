import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathRewriter } from '../../src/dataplane/lifecycle/filters/path-modifier.ts';
import type { PathMatch } from '../../src/model/table.ts';

const prefix = (value: string): PathMatch => ({ type: 'Prefix', value });

describe('path modifiers', () => {
  it('ReplacePrefixMatch replaces the matched segments, one slash between the parts', () => {
    const cases: [string, string, string, string][] = [
      ['/foo', '/bar', '/foo/x', '/bar/x'],
      ['/foo', '/bar', '/foo', '/bar'],
      ['/foo/', '/bar', '/foo/x', '/bar/x'],
      ['/foo', '/', '/foo/x', '/x'],
      ['/foo', '/', '/foo', '/'],
      ['/foo', '/bar/', '/foo/', '/bar/'],
      ['/', '/api', '/x/y', '/api/x/y'],
      ['/foo', '/bar', '/foobar', '/foobar'],
    ];
    for (const [match, value, path, expected] of cases) {
      assert.equal(pathRewriter({ type: 'ReplacePrefixMatch', value }, prefix(match))(path), expected, `${match} → ${value} on ${path}`);
    }
  });

  it('ReplaceFullPath replaces the whole path', () => {
    assert.equal(pathRewriter({ type: 'ReplaceFullPath', value: '/only' }, prefix('/a'))('/a/b/c'), '/only');
  });

  it('ReplaceRegexMatch substitutes capture groups and leaves a path it does not match alone', () => {
    const rewrite = pathRewriter({ type: 'ReplaceRegexMatch', pattern: '/u/([^/]+)/(.*)', substitution: '/users/$1/files/$2$9' }, prefix('/'));
    assert.equal(rewrite('/u/ann/photos/1'), '/users/ann/files/photos/1');
    assert.equal(rewrite('/v/ann'), '/v/ann');
  });
});
