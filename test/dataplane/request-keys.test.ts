import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cookieValue, keyReader, queryValue } from '../../src/dataplane/upstream/request-keys.ts';

const source = (headers: Record<string, string | string[]>, url = '/', clientIp = '192.0.2.1') => ({ headers, url, clientIp });

describe('request keys for hashing and affinity', () => {
  it('reads a header by its lower-case name, first value of a repeated one', () => {
    const read = keyReader({ source: 'header', name: 'x-shop-id' });
    assert.equal(read(source({ 'x-shop-id': '42' })), '42');
    assert.equal(read(source({ 'x-shop-id': ['7', '8'] })), '7');
    assert.equal(read(source({})), null);
    assert.equal(read(source({ 'x-shop-id': '' })), null);
  });

  it('reads a cookie without confusing names that share a prefix', () => {
    assert.equal(cookieValue('session=abc; sess=xyz', 'sess'), 'xyz');
    assert.equal(cookieValue('a=1;b=2', 'b'), '2');
    assert.equal(cookieValue('a=1; b=', 'b'), null);
    assert.equal(cookieValue('a=1', 'b'), null);
    assert.equal(cookieValue(null, 'b'), null);
    assert.equal(keyReader({ source: 'cookie', name: 'user' })(source({ cookie: 'theme=dark; user=u-9' })), 'u-9');
  });

  it('reads a query parameter, decoded, first occurrence', () => {
    assert.equal(queryValue('/p?tenant=a%20b&tenant=c', 'tenant'), 'a b');
    assert.equal(queryValue('/p?x=1', 'tenant'), null);
    assert.equal(queryValue('/p', 'tenant'), null);
    assert.equal(queryValue('/p?tenant=%zz', 'tenant'), '%zz');
  });

  it('uses the client address and the whole URI', () => {
    assert.equal(keyReader({ source: 'client-ip' })(source({}, '/', '198.51.100.4')), '198.51.100.4');
    assert.equal(keyReader({ source: 'uri' })(source({}, '/a?b=c')), '/a?b=c');
  });
});
