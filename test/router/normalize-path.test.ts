import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_PATH_OPTIONS, normalizePath, type PathOptions } from '../../src/router/normalize-path.ts';

describe('normalizePath', () => {
  const cases: readonly (readonly [string, string | null])[] = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    // Dot segments (RFC 3986 remove_dot_segments).
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/a/.', '/a/'],
    ['/.', '/'],
    ['/a/..', '/'],
    ['/.hidden/.x', '/.hidden/.x'],
    ['/a/..b/c.', '/a/..b/c.'],
    // Escaping above the root is refused, not clamped.
    ['/..', null],
    ['/a/../..', null],
    ['/../a', null],
    // Escaped unreserved characters are decoded, so escaped dots cannot bypass.
    ['/%2e%2e/secret', null],
    ['/a/%2E%2e/b', '/b'],
    ['/a/.%2E/b', '/b'],
    ['/%61dmin', '/admin'],
    ['/%7Euser/%2D%5F', '/~user/-_'],
    // Other escapes stay encoded, upper-cased.
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a%20b', '/a%20b'],
    ['/a%3Bb%23c', '/a%3Bb%23c'],
    // Encoded slashes and backslashes are refused: a backend that decodes them sees other segments.
    ['/a%2fb', null],
    ['/public/..%2Fadmin', null],
    ['/public/..%5cadmin', null],
    // Repeated slashes are merged, before dot segments are resolved (as nginx's merge_slashes).
    ['//admin', '/admin'],
    ['//a//b', '/a/b'],
    ['/a///b/', '/a/b/'],
    ['/a//', '/a/'],
    ['//', '/'],
    ['/a//../b', '/b'],
    ['//..', null],
    // A fragment, a raw backslash and path parameters are refused.
    ['/admin#x', null],
    ['/a\\b', null],
    ['/public\\..\\admin', null],
    ['/admin;x', null],
    ['/public/..;/admin', null],
    // Refused: no leading slash, control characters (raw or escaped), malformed escapes.
    ['', null],
    ['a/b', null],
    ['*', null],
    ['/a\u0000b', null],
    ['/a\tb', null],
    ['/a\u007fb', null],
    ['/a%00b', null],
    ['/a%0Ab', null],
    ['/a%7f', null],
    ['/a%zz', null],
    ['/a%2', null],
    ['/a%', null],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePath(input), expected);
    });
  }

  const raw: PathOptions = { mergeSlashes: false, allowEncodedSlashes: true, allowPathParameters: true };
  const relaxed: readonly (readonly [string, string | null])[] = [
    // Without merging, repeated slashes are empty segments.
    ['//a//b', '//a//b'],
    ['/a//../b', '/a/b'],
    // Allowed encoded slashes stay encoded and are never a separator.
    ['/a%2fb', '/a%2Fb'],
    ['/a%2F..%2Fb', '/a%2F..%2Fb'],
    ['/a%5cb', '/a%5Cb'],
    // Allowed path parameters are kept, but never on a dot segment, which a Java server would resolve.
    ['/app/page;jsessionid=1', '/app/page;jsessionid=1'],
    ['/a;b/c;d=e', '/a;b/c;d=e'],
    ['/public/..;/admin', null],
    ['/public/.;x/admin', null],
    ['/public/%2e%2e;/admin', null],
    ['/a/...;x', '/a/...;x'],
    // What is refused whatever the options.
    ['/a#b', null],
    ['/a\\b', null],
  ];
  for (const [input, expected] of relaxed) {
    test(`with everything allowed: ${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePath(input, raw), expected);
    });
  }

  test('returns the very same string when nothing changes (the allocation-free fast path)', () => {
    for (const path of ['/', '/a/b/c', '/api/v1/users/42', '/static/app.min.js', '/a-b_c~d/E.F']) {
      const input = `${path}`;
      assert.equal(normalizePath(input, DEFAULT_PATH_OPTIONS), input);
      assert.ok(Object.is(normalizePath(input), input));
    }
    const percent = '/caf%C3%A9/x';
    assert.ok(Object.is(normalizePath(percent), percent), 'a path that normalises to itself is returned as is');
  });
});
