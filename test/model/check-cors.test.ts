/**
 * `checkTable` on the CORS filter: the origins, methods and header names ingress-nginx takes pass;
 * each malformed value is refused at the filter, with the route's provenance and a message that
 * names the value and what is wrong with it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTable } from '../../src/model/check-table.ts';
import type { CorsFilter } from '../../src/model/table.ts';
import { filterMessages, oneRouteTable } from '../helpers/filter-table.ts';

const SOUND: CorsFilter = {
  type: 'CORS',
  allowOrigins: ['https://app.example.com', 'https://*.example.com:8443', 'tauri://localhost:3000', 'http://[::1]:8080', 'null'],
  allowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'],
  allowHeaders: ['DNT', 'Keep-Alive', 'User-Agent', 'X-Requested-With', 'Content-Type', 'Authorization'],
  exposeHeaders: ['*', 'X-Request-Id'],
  allowCredentials: true,
  maxAgeSeconds: 1728000,
};

/** The messages checkTable gives for a route with the sound filter changed by `change`. */
function messages(change: Partial<CorsFilter>): string[] {
  return filterMessages({ ...SOUND, ...change } as CorsFilter);
}

describe('checkTable: CORS', () => {
  test('ingress-nginx-style values pass: exact, wildcard, custom-scheme, IPv6 and null origins', () => {
    assert.deepEqual(checkTable(oneRouteTable([SOUND])), []);
    const any: CorsFilter = { type: 'CORS', allowOrigins: ['*'], allowMethods: [], allowHeaders: [], exposeHeaders: [], allowCredentials: false };
    assert.deepEqual(checkTable(oneRouteTable([any])), []);
  });

  const refused: [string, Partial<CorsFilter>, RegExp][] = [
    ['no origin at all', { allowOrigins: [] }, /allowOrigins is empty/],
    ['* among other origins', { allowOrigins: ['*', 'https://a.example.com'] }, /lists \* with other origins/],
    ['an origin without a scheme', { allowOrigins: ['origin.cors.com:8080'] }, /"origin\.cors\.com:8080" is not scheme:\/\/host\[:port\]/],
    ['an origin with a path', { allowOrigins: ['https://a.example.com/app'] }, /has a path, query or fragment/],
    ['an origin with a trailing slash', { allowOrigins: ['https://a.example.com/'] }, /has a path/],
    ['an origin in upper case', { allowOrigins: ['https://A.example.com'] }, /is not lower case/],
    ['a wildcard that is not a whole first label', { allowOrigins: ['https://a*.example.com'] }, /is not scheme:\/\/host/],
    ['a wildcard deeper than the first label', { allowOrigins: ['https://a.*.example.com'] }, /is not scheme:\/\/host/],
    ['port 0', { allowOrigins: ['https://a.example.com:0'] }, /has port 0, not a port number/],
    ['port 65536', { allowOrigins: ['https://a.example.com:65536'] }, /has port 65536/],
    ['an origin twice', { allowOrigins: ['https://a.example.com', 'https://a.example.com'] }, /listed twice/],
    ['a method that is not a token', { allowMethods: ['GET', 'PO ST'] }, /allowMethods: method "PO ST" is not a token/],
    ['a method listed twice', { allowMethods: ['GET', 'GET'] }, /method GET is listed twice/],
    ['a header name with a colon', { allowHeaders: ['X-Ok', 'X-Bad:'] }, /allowHeaders: header name "X-Bad:" is not a token/],
    ['an empty exposed header', { exposeHeaders: [''] }, /exposeHeaders: header name "" is not a token/],
    ['an allowed header twice, in two cases', { allowHeaders: ['Content-Type', 'content-type'] }, /listed twice/],
    ['a negative max age', { maxAgeSeconds: -1 }, /maxAgeSeconds -1 is not a whole number/],
    ['a fractional max age', { maxAgeSeconds: 1.5 }, /maxAgeSeconds 1\.5/],
  ];
  for (const [name, change, message] of refused) {
    test(`refuses ${name}`, () => {
      const found = messages(change);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.match(found[0]!, message);
    });
  }

  test('refuses a second CORS filter on the route', () => {
    const violations = checkTable(oneRouteTable([SOUND, SOUND]));
    assert.deepEqual(violations.map((v) => [v.at, v.message]), [['virtualHosts[0].routes[0]', 'a route has more than one CORS filter']]);
  });
});
