/**
 * The UrlMirror and ResponseRate filters' invariants, through `checkTable`: sound filters pass;
 * each broken field is refused with a message that names it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResponseRateFilter, UrlMirrorFilter } from '../../src/model/table.ts';
import { filterMessages } from '../helpers/filter-table.ts';

const mirror = (changes: Partial<UrlMirrorFilter>): UrlMirrorFilter => ({ type: 'UrlMirror', url: 'https://test.env.com$request_uri', host: 'test.env.com', requestBody: true, ...changes });
const rate = (changes: Partial<ResponseRateFilter>): ResponseRateFilter => ({ type: 'ResponseRate', bytesPerSecond: 65_536, afterBytes: 0, ...changes });

describe('UrlMirror', () => {
  test('URLs with the expanded variables after the host, or none, pass', () => {
    for (const url of ['https://test.env.com$request_uri', 'http://10.0.0.7:8080/copy$uri$is_args$args', 'http://[::1]:9000/mirror', 'http://127.0.0.1:8080${request_uri}']) {
      assert.deepEqual(filterMessages(mirror({ url })), [], url);
    }
    assert.deepEqual(filterMessages(mirror({ host: '10.0.0.7:8080' })), []);
  });

  test('a variable in the host, or one it does not expand, is refused', () => {
    assert.match(filterMessages(mirror({ url: 'https://$host/copy' })).join(), /\$host/);
    assert.match(filterMessages(mirror({ url: 'https://test.env.com$args' })).join(), /host through a variable/);
    assert.match(filterMessages(mirror({ url: 'https://test.env.com/$remote_addr' })).join(), /\$remote_addr/);
  });

  test('a URL that is not absolute http(s), holds credentials or a fragment is refused', () => {
    assert.match(filterMessages(mirror({ url: '/relative$request_uri' })).join(), /no host/);
    assert.match(filterMessages(mirror({ url: 'ftp://test.env.com/x' })).join(), /http or https/);
    assert.match(filterMessages(mirror({ url: 'https://u:p@test.env.com/x' })).join(), /credentials/);
    assert.match(filterMessages(mirror({ url: 'https://test.env.com/x#y' })).join(), /fragment/);
    assert.match(filterMessages(mirror({ url: 'https://test.env.com/a b' })).join(), /whitespace/);
  });

  test('a Host that is not a lower-case host name is refused', () => {
    assert.match(filterMessages(mirror({ host: 'Test.Env.com' })).join(), /mirror host/);
    assert.match(filterMessages(mirror({ host: 'a b' })).join(), /mirror host/);
  });
});

describe('ResponseRate', () => {
  test('a positive rate and a whole number of bytes first pass; others are refused', () => {
    assert.deepEqual(filterMessages(rate({ afterBytes: 131_072 })), []);
    assert.match(filterMessages(rate({ bytesPerSecond: 0 })).join(), /bytesPerSecond 0/);
    assert.match(filterMessages(rate({ bytesPerSecond: 1.5 })).join(), /bytesPerSecond 1.5/);
    assert.match(filterMessages(rate({ afterBytes: -1 })).join(), /afterBytes -1/);
  });
});
