/** The sign-in Location of ExternalAuth, as ingress-nginx's buildAuthSignURL and $escaped_request_uri make it. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signinLocation } from '../../src/dataplane/lifecycle/filters/signin-url.ts';

const FACTS = { scheme: 'https', httpHost: 'Shop.example:8443', host: 'shop.example', requestUri: "/a b/c?x=1&y=it's", method: 'GET' };

describe('signinLocation', () => {
  test('appends rd=<scheme>://<host as named><escaped URI> to a URL without a query', () =>
    assert.equal(signinLocation({ url: 'https://login.example/start', redirectParam: 'rd' }, FACTS), "https://login.example/start?rd=https://Shop.example:8443%2Fa%20b%2Fc%3Fx%3D1%26y%3Dit%27s"));
  test('appends with & to a URL with a query, under the parameter name given', () =>
    assert.equal(signinLocation({ url: 'https://login.example/start?app=shop', redirectParam: 'orig' }, { ...FACTS, requestUri: '/' }), 'https://login.example/start?app=shop&orig=https://Shop.example:8443%2F'));
  test('uses a URL that carries the parameter as written, its variables expanded', () =>
    assert.equal(signinLocation({ url: 'https://$host/oauth2/start?rd=${scheme}://$http_host$request_uri', redirectParam: 'rd' }, { ...FACTS, requestUri: '/p?q=1' }), 'https://shop.example/oauth2/start?rd=https://Shop.example:8443/p?q=1'));
  test('expands $request_method, as Authelia\'s ?rm=$request_method needs, and still appends rd', () =>
    assert.equal(signinLocation({ url: 'https://auth.example?rm=$request_method', redirectParam: 'rd' }, { ...FACTS, requestUri: '/', method: 'POST' }), 'https://auth.example?rm=POST&rd=https://Shop.example:8443%2F'));
  test('an empty parameter does not count as carried', () =>
    assert.equal(signinLocation({ url: 'https://login.example/start?rd=', redirectParam: 'rd' }, { ...FACTS, requestUri: '/' }), 'https://login.example/start?rd=&rd=https://Shop.example:8443%2F'));
});
