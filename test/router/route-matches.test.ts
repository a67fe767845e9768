/**
 * Route conditions beyond the path: regular-expression paths, methods, headers and query
 * parameters; the first route in table order wins; listener scoping.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Listener, Route, RouteMatch } from '../../src/model/table.ts';
import { buildRouter, type MatchRequest } from '../../src/router/router.ts';
import { nameOf, prefixRoute, table, vhost } from './builders.ts';

/** A route named `name` with `match`. */
function when(name: string, match: RouteMatch): Route {
  return { match, backends: [{ cluster: name, weight: 1, provenance: `test/${name}` }], filters: [], provenance: `test/${name}` };
}

/** A request as the proxy's request objects present it. */
function req(method: string, url: string, headers: readonly [string, string][] = []): MatchRequest {
  return { method, url, rawHeaders: headers.flat() };
}

const ROOT = { type: 'Prefix', value: '/' } as const;

describe('route conditions', () => {
  test('a RegularExpression path matches the whole normalised path, with or without case', () => {
    const router = buildRouter(table([vhost('a.test',
      when('users', { path: { type: 'RegularExpression', value: '/users/[0-9]+' } }),
      when('docs', { path: { type: 'RegularExpression', value: '/docs/.*\\.pdf', ignoreCase: true } }),
      prefixRoute('/', 'rest'),
    )]));
    const cases: [string, string][] = [['/users/42', 'users'], ['/users/42/x', 'rest'], ['/x/users/42', 'rest'], ['/users/abc', 'rest'], ['/DOCS/Guide.PDF', 'docs'], ['/Users/42', 'rest']];
    for (const [path, expected] of cases) assert.equal(nameOf(router.match('a.test', path, req('GET', path))), expected, path);
  });

  test('a method condition matches that method only', () => {
    const router = buildRouter(table([vhost('a.test', when('post', { path: ROOT, method: 'POST' }), prefixRoute('/', 'rest'))]));
    assert.equal(nameOf(router.match('a.test', '/x', req('POST', '/x'))), 'post');
    assert.equal(nameOf(router.match('a.test', '/x', req('GET', '/x'))), 'rest');
  });

  test('header conditions: any name case, exact or pattern, repeated headers joined with ", "', () => {
    const router = buildRouter(table([vhost('a.test',
      when('both', { path: ROOT, headers: [{ name: 'x-env', type: 'Exact', value: 'canary' }, { name: 'x-user', type: 'RegularExpression', value: '(?i)admin-[0-9]+' }] }),
      when('list', { path: ROOT, headers: [{ name: 'accept-language', type: 'Exact', value: 'fr, en' }] }),
      when('canary', { path: ROOT, headers: [{ name: 'x-env', type: 'Exact', value: 'canary' }] }),
      prefixRoute('/', 'rest'),
    )]));
    const cases: [readonly [string, string][], string][] = [
      [[['X-Env', 'canary'], ['X-User', 'ADMIN-7']], 'both'],
      [[['x-env', 'canary'], ['x-user', 'admin-']], 'canary'],
      [[['x-env', 'Canary']], 'rest'],
      [[['Accept-Language', 'fr'], ['accept-language', 'en']], 'list'],
      [[['accept-language', 'fr']], 'rest'],
      [[], 'rest'],
    ];
    for (const [headers, expected] of cases) assert.equal(nameOf(router.match('a.test', '/', req('GET', '/', headers))), expected, JSON.stringify(headers));
  });

  test('query conditions: the first parameter of the name, percent-decoded', () => {
    const router = buildRouter(table([vhost('a.test',
      when('v2', { path: ROOT, queryParams: [{ name: 'version', type: 'Exact', value: 'v 2' }] }),
      when('digits', { path: ROOT, queryParams: [{ name: 'id', type: 'RegularExpression', value: '[0-9]{1,8}' }] }),
      prefixRoute('/', 'rest'),
    )]));
    const cases: [string, string][] = [
      ['/?version=v%202', 'v2'],
      ['/?a=1&version=v%202&version=v3', 'v2'],
      ['/?version=v3&version=v%202', 'rest'],
      ['/?Version=v%202', 'rest'],
      ['/?id=123', 'digits'],
      ['/?id=12a', 'rest'],
      ['/?id', 'rest'],
      ['http://a.test/?id=7', 'digits'],
      ['/', 'rest'],
    ];
    for (const [url, expected] of cases) assert.equal(nameOf(router.match('a.test', '/', req('GET', url))), expected, url);
  });

  test('every condition of a match must hold', () => {
    const router = buildRouter(table([vhost('a.test',
      when('all', { path: { type: 'Prefix', value: '/api' }, method: 'PUT', headers: [{ name: 'x-a', type: 'Exact', value: '1' }], queryParams: [{ name: 'q', type: 'Exact', value: '1' }] }),
      prefixRoute('/', 'rest'),
    )]));
    assert.equal(nameOf(router.match('a.test', '/api/x', req('PUT', '/api/x?q=1', [['x-a', '1']]))), 'all');
    for (const [method, url, a, path] of [['GET', '/api/x?q=1', '1', '/api/x'], ['PUT', '/api/x?q=2', '1', '/api/x'], ['PUT', '/api/x?q=1', '2', '/api/x'], ['PUT', '/apix?q=1', '1', '/apix']] as const) {
      assert.equal(nameOf(router.match('a.test', path, req(method, url, [['x-a', a]]))), 'rest', `${method} ${url} x-a: ${a}`);
    }
    // Without the request, conditions cannot hold.
    assert.equal(nameOf(router.match('a.test', '/api/x')), 'rest');
  });

  test('the first route in table order wins, even over a longer path after it', () => {
    const router = buildRouter(table([vhost('a.test',
      when('get-any', { path: ROOT, method: 'GET' }),
      prefixRoute('/api', 'api'),
      prefixRoute('/', 'rest'),
    )]));
    assert.equal(nameOf(router.match('a.test', '/api/x', req('GET', '/api/x'))), 'get-any');
    assert.equal(nameOf(router.match('a.test', '/api/x', req('POST', '/api/x'))), 'api');
    // Paths only, out of precedence order: table order still decides.
    const unsorted = buildRouter(table([vhost('a.test', prefixRoute('/', 'root'), prefixRoute('/api', 'api'), { ...prefixRoute('/x', 'x'), match: { path: { type: 'Exact', value: '/x' } } })]));
    assert.equal(nameOf(unsorted.match('a.test', '/api/v1')), 'root');
    assert.equal(nameOf(unsorted.match('a.test', '/x')), 'root');
  });

  test('a request no route of its host takes goes to the default route, not to another host', () => {
    const router = buildRouter(table([vhost('a.test', when('post', { path: ROOT, method: 'POST' })), vhost('*', prefixRoute('/', 'any'))], prefixRoute('/', 'default')));
    assert.equal(nameOf(router.match('a.test', '/', req('GET', '/'))), 'default');
    assert.equal(nameOf(router.match('a.test', '/', req('POST', '/'))), 'post');
  });

  test('a pattern that does not compile makes its route match nothing, and throws nothing', () => {
    const router = buildRouter(table([vhost('a.test', when('bad', { path: { type: 'RegularExpression', value: '(a)\\1' } }), prefixRoute('/', 'rest'))]));
    assert.equal(nameOf(router.match('a.test', '/aa', req('GET', '/aa'))), 'rest');
  });

  test('a pathological pattern cannot stall matching', () => {
    const router = buildRouter(table([vhost('a.test',
      when('path', { path: { type: 'RegularExpression', value: '/(a+)+$' } }),
      when('header', { path: ROOT, headers: [{ name: 'x-a', type: 'RegularExpression', value: '(a|aa)+b' }] }),
      prefixRoute('/', 'rest'),
    )]));
    const long = `/${'a'.repeat(100_000)}!`;
    assert.equal(nameOf(router.match('a.test', long, req('GET', long, [['x-a', 'a'.repeat(100_000)]]))), 'rest');
  });
});

describe('listener scoping', () => {
  const listener = (name: string, protocol: 'HTTP' | 'HTTPS', defaultRoute: boolean): Listener => ({ name, protocol, port: null, hostname: null, tls: protocol === 'HTTPS' ? { certificates: null } : null, defaultRoute, provenance: `Listener/${name}` });
  const t = {
    ...table([
      { ...vhost('a.test', prefixRoute('/', 'a plain')), listeners: ['http'] },
      { ...vhost('a.test', prefixRoute('/', 'a secure')), listeners: ['https'] },
      { ...vhost('both.test', prefixRoute('/', 'both')), listeners: ['http', 'https'] },
    ], prefixRoute('/', 'default')),
    listeners: [listener('http', 'HTTP', false), listener('https', 'HTTPS', true)],
  };

  test('a router serves the virtual hosts of its listeners only', () => {
    const http = buildRouter(t, ['http']);
    const https = buildRouter(t, ['https']);
    assert.equal(nameOf(http.match('a.test', '/')), 'a plain');
    assert.equal(nameOf(https.match('a.test', '/')), 'a secure');
    assert.equal(nameOf(http.match('both.test', '/')), 'both');
    assert.equal(nameOf(https.match('both.test', '/')), 'both');
  });

  test('the default route serves only listeners that take it', () => {
    assert.equal(nameOf(buildRouter(t, ['http']).match('other.test', '/')), null);
    assert.equal(nameOf(buildRouter(t, ['https']).match('other.test', '/')), 'default');
    assert.equal(nameOf(buildRouter(t, []).match('a.test', '/')), null);
  });
});
