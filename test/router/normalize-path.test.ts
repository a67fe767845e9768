import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizePath } from '../../src/router/normalize-path.ts';

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
    // Other escapes stay encoded, upper-cased; %2F is never a separator.
    ['/a%2fb', '/a%2Fb'],
    ['/a%2F..%2Fb', '/a%2F..%2Fb'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a%20b', '/a%20b'],
    // Repeated slashes are kept.
    ['//a//b', '//a//b'],
    ['/a//../b', '/a/b'],
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

});
