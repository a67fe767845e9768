import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isValidHost } from '../../src/dataplane/lifecycle/request-host.ts';

describe('isValidHost (RFC 9112 §3.2: uri-host [":" port])', () => {
  const valid = [
    'shop.test', 'SHOP.Test', 'shop.test.', 'shop.test:8080', 'shop.test:', 'localhost', 'a-b_c~d.test', 'xn--caf-dma.test',
    '127.0.0.1', '127.0.0.1:80', '999.1.1.1', // a reg-name, as far as the grammar goes
    '[::1]', '[::1]:8443', '[2001:db8::8a2e:370:7334]', '[::ffff:192.0.2.1]', '[1:2:3:4:5:6:7:8]', '[v7.fe80::1+x]',
    'caf%C3%A9.test', "a!$&'()*+,;=.test",
  ];
  const invalid = [
    '', ':80', 'shop.test:80:80', 'shop.test:8o', 'shop.test:65536', 'shop.test:000080', 'shop.test/admin', 'shop.test?x', 'shop.test#x',
    'shop.test\\admin', 'user@shop.test', 'shop test', 'shop%zz.test', 'shop%2.test', '[::1', '::1', '[shop.test]', '[::1]x', '[::1]:x',
    '[1:2:3:4:5:6:7:8:9]', '[1::2::3]', '[fe80::1%25eth0]', '[1.2.3.4::]', '[]', '[v.x]', 'shop"test', 'shop<test>',
  ];
  for (const host of valid) test(`accepts ${JSON.stringify(host)}`, () => assert.equal(isValidHost(host), true));
  for (const host of invalid) test(`refuses ${JSON.stringify(host)}`, () => assert.equal(isValidHost(host), false));
});
