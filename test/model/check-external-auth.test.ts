/**
 * The ExternalAuth filter's invariants (src/model/check-external-auth.ts), through `checkRoute`: a
 * sound filter passes, and each broken field is refused once with a message that names it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkRoute } from '../../src/model/check-routes.ts';
import type { ExternalAuthFilter, Route } from '../../src/model/table.ts';

const SOUND: ExternalAuthFilter = {
  type: 'ExternalAuth',
  url: 'https://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth',
  method: 'GET',
  responseHeaders: ['x-auth-request-user', 'x-auth-request-email'],
  requestHeaders: [{ name: 'x-auth-key', value: 'abc' }],
  requestRedirect: null,
  signin: { url: 'https://$host/oauth2/start?rd=$escaped_request_uri', redirectParam: 'rd' },
  alwaysSetCookie: false,
  timeoutMs: 5_000,
};

/** What checkRoute says of a route whose one filter is `SOUND` with `changes`. */
function problems(changes: Partial<ExternalAuthFilter>): string[] {
  const route: Route = { match: { path: { type: 'Prefix', value: '/' } }, backends: [], filters: [{ ...SOUND, ...changes }], provenance: 'Ingress/shop/web/rule/0/path/0' };
  const found: string[] = [];
  checkRoute('r', route, { cluster: () => {}, script: () => {} }, (at, provenance, message) => {
    assert.equal(at, 'r.filters[0]');
    assert.equal(provenance, route.provenance);
    found.push(message);
  });
  return found;
}

/** Expects exactly one problem, matching `pattern`. */
function refused(changes: Partial<ExternalAuthFilter>, pattern: RegExp): void {
  const found = problems(changes);
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.match(found[0]!, pattern);
}

describe('ExternalAuth checks', () => {
  test('a sound filter passes', () => assert.deepEqual(problems({}), []));
  test('an auth url on the request\'s host passes', () => assert.deepEqual(problems({ url: 'https://$host/oauth2/auth' }), []));
  test('a filter without signin, with a request redirect and always-set-cookie passes', () =>
    assert.deepEqual(problems({ signin: null, requestRedirect: 'https://shop.example/', alwaysSetCookie: true, method: 'POST' }), []));

  test('an auth url that is not absolute', () => refused({ url: '/oauth2/auth' }, /auth url "\/oauth2\/auth" is not an absolute URL/));
  test('an auth url of another scheme', () => refused({ url: 'ftp://auth.example/' }, /is not an http or https URL/));
  test('an auth url with credentials', () => refused({ url: 'http://user:pw@auth.example/' }, /holds credentials/));
  test('an auth url with a variable it does not expand', () => refused({ url: 'http://auth.example/?ip=$remote_addr' }, /holds the variable \$remote_addr; only \$scheme/));
  test('an auth url with whitespace', () => refused({ url: 'http://auth.example/a b' }, /whitespace/));
  test('a method that cannot carry a subrequest', () => refused({ method: 'CONNECT' }, /auth method "CONNECT" is not one of GET, HEAD/));
  test('a response header that is not a field name', () => refused({ responseHeaders: ['X-User'] }, /auth response header "X-User" is not a lower-case field name/));
  test('a response header naming the framing', () => refused({ responseHeaders: ['content-length'] }, /cannot be copied/));
  test('a response header listed twice', () => refused({ responseHeaders: ['x-user', 'x-user'] }, /listed twice/));
  test('a request header with a bad name', () => refused({ requestHeaders: [{ name: 'x auth', value: '1' }] }, /auth request header "x auth" is not a lower-case field name/));
  test('a request header the subrequest sets itself', () => refused({ requestHeaders: [{ name: 'host', value: 'x' }] }, /the subrequest sets it itself/));
  test('a request header value with a line break', () => refused({ requestHeaders: [{ name: 'x-a', value: 'a\r\nb: c' }] }, /line break/));
  test('a signin url with a variable that is not expanded', () =>
    refused({ signin: { url: 'https://$server_name/start', redirectParam: 'rd' } }, /signin url .* holds the variable \$server_name; only \$scheme/));
  test('a signin url that is not absolute', () => refused({ signin: { url: '/start', redirectParam: 'rd' } }, /signin url "\/start" is not an absolute URL/));
  test('a signin redirect parameter that is not a plain name', () => refused({ signin: { url: 'https://login.example/', redirectParam: 'r&d' } }, /redirectParam "r&d"/));
  test('a timeout out of range', () => refused({ timeoutMs: 0 }, /auth timeoutMs 0 is not a whole number/));
});

describe('the ExternalAuth cache', () => {
  const rules = [{ statuses: [200, 202], ttlMs: 600_000 }, { statuses: [401], ttlMs: 30_000 }];

  test('a key of the variables the data plane expands, with rules, passes', () => {
    assert.deepEqual(problems({ cache: { key: '$remote_user$http_authorization', rules } }), []);
    assert.deepEqual(problems({ cache: { key: 'user:${cookie__oauth2_proxy}:$arg_tenant:$remote_addr', rules } }), []);
  });

  test('a key without a variable, which would give every request one answer, is refused', () => {
    refused({ cache: { key: 'constant', rules } }, /holds no variable/);
  });

  test('a variable it does not expand is refused', () => {
    refused({ cache: { key: '$remote_user$request_body', rules } }, /\$request_body/);
    refused({ cache: { key: '$http_', rules } }, /\$http_/);
  });

  test('no rule, a rule without status, a status out of range and a zero time are each refused', () => {
    refused({ cache: { key: '$remote_user', rules: [] } }, /no rule/);
    refused({ cache: { key: '$remote_user', rules: [{ statuses: [], ttlMs: 1 }] } }, /names no status/);
    refused({ cache: { key: '$remote_user', rules: [{ statuses: [600], ttlMs: 1 }] } }, /status 600/);
    refused({ cache: { key: '$remote_user', rules: [{ statuses: [200], ttlMs: 0 }] } }, /ttlMs 0/);
  });
});
