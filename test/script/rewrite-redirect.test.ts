import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateDecision } from '../../src/script/decision.ts';

const backends = new Set(['shard-a']);

function accepted(value: unknown): unknown {
  const check = validateDecision(value, backends);
  assert.ok(check.ok, check.ok ? '' : check.message);
  return check.decision;
}

function refused(value: unknown, pattern: RegExp): void {
  const check = validateDecision(value, backends);
  assert.equal(check.ok, false, `accepted: ${JSON.stringify(value)}`);
  if (!check.ok) assert.match(check.message, pattern);
}

describe('rewrite changes what the upstream receives', () => {
  test('a path, a host, a host with a port, an address, and both together are accepted', () => {
    assert.deepEqual(accepted({ rewrite: { path: '/v2/items/%C3%A9' } }), { rewrite: { path: '/v2/items/%C3%A9' } });
    assert.deepEqual(accepted({ rewrite: { host: 'API.Internal.example' } }), { rewrite: { host: 'api.internal.example' } }, 'lower-cased');
    assert.deepEqual(accepted({ rewrite: { host: 'api.internal:8080' } }), { rewrite: { host: 'api.internal:8080' } });
    assert.deepEqual(accepted({ rewrite: { host: '10.0.0.7' } }), { rewrite: { host: '10.0.0.7' } });
    assert.deepEqual(accepted({ rewrite: { host: '[fd00::7]:443' } }), { rewrite: { host: '[fd00::7]:443' } });
    assert.deepEqual(accepted({ rewrite: { path: '/', host: 'a.example' } }), { rewrite: { path: '/', host: 'a.example' } });
  });

  test('it combines with a backend, header edits, a hash key and a pause', () => {
    const decision = { backend: 'shard-a', rewrite: { path: '/x' }, setHeaders: { 'x-a': '1' }, hashKey: 'k', pause: {} };
    assert.deepEqual(accepted(decision), decision);
  });

  const bad: readonly (readonly [string, unknown, RegExp])[] = [
    ['an empty rewrite', {}, /a path, a host or both/],
    ['a relative path', { path: 'v2' }, /must start with \//],
    ['a path with a space', { path: '/a b' }, /printable ASCII/],
    ['a path with CR LF', { path: '/a\r\nx-evil: 1' }, /printable ASCII/],
    ['a path with NUL', { path: '/a\u0000' }, /printable ASCII/],
    ['a path with DEL', { path: '/a\u007f' }, /printable ASCII/],
    ['a path with a query', { path: '/a?b=1' }, /\?/],
    ['a path with a fragment', { path: '/a#top' }, /#/],
    ['a path beyond ASCII', { path: '/caf\u00e9' }, /percent-encode/],
    ['a path that is not a string', { path: 7 }, /rewrite.path must be a string/],
    ['a path over 8 KiB', { path: `/${'a'.repeat(8192)}` }, /longer than 8192/],
    ['a host with a path', { host: 'a.example/x' }, /rewrite.host/],
    ['a host with a space', { host: 'a .example' }, /rewrite.host/],
    ['a host with CR LF', { host: 'a.example\r\nx: 1' }, /rewrite.host/],
    ['a host with user info', { host: 'me@a.example' }, /rewrite.host/],
    ['an empty host', { host: '' }, /rewrite.host/],
    ['port 0', { host: 'a.example:0' }, /rewrite.host/],
    ['port 65536', { host: 'a.example:65536' }, /rewrite.host/],
    ['an empty port', { host: 'a.example:' }, /rewrite.host/],
    ['a label starting with a hyphen', { host: '-a.example' }, /rewrite.host/],
    ['an unknown key', { path: '/a', query: 'x' }, /unknown key "query"/],
  ];
  for (const [name, rewrite, pattern] of bad) test(`refused: ${name}`, () => refused({ rewrite }, pattern));
});

describe('redirect answers at the proxy', () => {
  test('every redirect status, relative and absolute locations', () => {
    for (const status of [301, 302, 303, 307, 308]) {
      assert.deepEqual(accepted({ redirect: { status, location: '/login?next=%2Fcart' } }), { redirect: { status, location: '/login?next=%2Fcart' } });
    }
    assert.deepEqual(accepted({ redirect: { status: 308, location: 'https://shop.example/cart' } }), { redirect: { status: 308, location: 'https://shop.example/cart' } });
  });

  const bad: readonly (readonly [string, unknown, RegExp])[] = [
    ['status 300', { redirect: { status: 300, location: '/' } }, /one of 301, 302, 303, 307, 308/],
    ['status 200', { redirect: { status: 200, location: '/' } }, /one of 301/],
    ['a status as a string', { redirect: { status: '301', location: '/' } }, /one of 301/],
    ['no location', { redirect: { status: 302 } }, /redirect.location must be a string/],
    ['an empty location', { redirect: { status: 302, location: '' } }, /1 to 8192 characters/],
    ['a location with CR LF', { redirect: { status: 302, location: '/a\r\nset-cookie: x=1' } }, /control characters/],
    ['a location with a tab', { redirect: { status: 302, location: '/a\tb' } }, /control characters/],
    ['a location beyond latin-1', { redirect: { status: 302, location: '/\u2603' } }, /control characters/],
    ['an unknown key', { redirect: { status: 302, location: '/', body: 'x' } }, /unknown key "body"/],
    ['redirect with a backend', { backend: 'shard-a', redirect: { status: 302, location: '/' } }, /redirect cannot be combined with backend/],
    ['redirect with headers', { setHeaders: { 'x-a': '1' }, redirect: { status: 302, location: '/' } }, /redirect cannot be combined with setHeaders/],
    ['redirect with respond', { respond: { status: 403 }, redirect: { status: 302, location: '/' } }, /cannot be combined/],
    ['redirect with a rewrite', { rewrite: { path: '/' }, redirect: { status: 302, location: '/' } }, /redirect cannot be combined with rewrite/],
  ];
  for (const [name, decision, pattern] of bad) test(`refused: ${name}`, () => refused(decision, pattern));
});
