/**
 * `checkTable` on a route's `satisfy: any`: it groups two kinds of access check — ClientAddress
 * filters, one BasicAuth, one ExternalAuth — next to each other in that order; any other shape is
 * refused with the route's provenance, so that the data plane never combines checks it cannot.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTable } from '../../src/model/check-table.ts';
import type { Filter, RoutingTable } from '../../src/model/table.ts';
import { oneRouteTable } from '../helpers/filter-table.ts';

const ADDRESS: Filter = { type: 'ClientAddress', allow: ['10.0.0.0/8'] };
const BASIC: Filter = { type: 'BasicAuth', realm: 'team', users: [{ name: 'alice', hash: '{PLAIN}x' }], forwardAuthorization: false };
const HEADERS: Filter = { type: 'RequestHeaderModifier', set: [{ name: 'x-a', value: '1' }] };
const EXTERNAL: Filter = { type: 'ExternalAuth', url: 'http://auth.example/verify', method: 'GET', responseHeaders: [], requestHeaders: [], requestRedirect: null, signin: null, alwaysSetCookie: false, timeoutMs: 5000 };

function anyRoute(filters: readonly Filter[]): RoutingTable {
  const table = oneRouteTable(filters);
  const host = table.virtualHosts[0]!;
  return { ...table, virtualHosts: [{ ...host, routes: [{ ...host.routes[0]!, satisfy: 'any' }] }] };
}

describe('checkTable: satisfy any', () => {
  test('address lists next to one BasicAuth pass', () => {
    assert.deepEqual(checkTable(anyRoute([ADDRESS, BASIC])), []);
    assert.deepEqual(checkTable(anyRoute([HEADERS, ADDRESS, ADDRESS, BASIC, HEADERS])), []);
    assert.deepEqual(checkTable(anyRoute([ADDRESS, BASIC, EXTERNAL])), []);
    assert.deepEqual(checkTable(anyRoute([BASIC, EXTERNAL])), []);
  });
  const refused: [string, readonly Filter[], RegExp][] = [
    ['with address lists alone', [ADDRESS, ADDRESS], /needs two kinds of access check/],
    ['with BasicAuth alone', [BASIC], /needs two kinds of access check/],
    ['with two BasicAuth filters', [ADDRESS, BASIC, BASIC], /one BasicAuth and one ExternalAuth at most/],
    ['with a filter between the checks', [ADDRESS, HEADERS, BASIC], /next to each other, in that order/],
    ['with the checks out of order', [EXTERNAL, ADDRESS], /next to each other, in that order/],
  ];
  for (const [what, filters, message] of refused) {
    test(`refuses a route ${what}`, () => {
      const found = checkTable(anyRoute(filters)).filter((v) => /satisfy/.test(v.message));
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.match(found[0]!.message, message);
      assert.equal(found[0]!.provenance, 'Ingress/shop/api/rule/0/path/0');
    });
  }
});
