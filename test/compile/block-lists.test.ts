/**
 * The ingress-nginx ConfigMap's deny lists as nginx reads them: `map` source values (strings whole
 * and case-blind, `~` / `~*` regular expressions searched for, `\` and quotes as nginx's config
 * syntax has them), and addresses; what cannot be honoured comes back apart, with why.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBlockCidrs, parseMapPatterns } from '../../src/compile/ingress-nginx/block-lists.ts';
import { compilePattern } from '../../src/regex/compile-pattern.ts';

/** Whether the pattern of a parsed `~` entry matches `value` as the data plane runs it. */
function matches(entry: string, value: string): boolean {
  const [m] = parseMapPatterns(entry).matches;
  assert.ok(m !== undefined && 'pattern' in m, `${entry} is a pattern`);
  const compiled = compilePattern(m.pattern, m.ignoreCase === true ? { ignoreCase: true } : {});
  assert.ok(compiled.ok);
  return compiled.regex.test(value);
}

describe('block-user-agents and block-referers entries', () => {
  test('strings are exact values; quotes and a leading backslash are nginx syntax', () => {
    assert.deepEqual(parseMapPatterns(' BadBot/1.0 , "Evil Crawler", \\~literal,,').matches, [{ exact: 'BadBot/1.0' }, { exact: 'Evil Crawler' }, { exact: '~literal' }]);
  });
  test('~ searches the value case-sensitively, ~* ignoring case, anchors kept', () => {
    assert.equal(matches('~bot', 'Mozilla (Googlebot)'), true);
    assert.equal(matches('~bot', 'GOOGLEBOT'), false);
    assert.equal(matches('~*bot', 'GOOGLEBOT'), true);
    assert.equal(matches('~^curl/', 'curl/8.0'), true);
    assert.equal(matches('~^curl/', 'my curl/8.0'), false);
    assert.equal(matches('~a|b', 'xxbxx'), true, 'an alternation stays inside its group');
  });
  test('a pattern the linear-time engine cannot run is left out, saying why; the others stay', () => {
    const { matches: kept, bad } = parseMapPatterns('~(a)\\1, ~*ok, ~');
    assert.deepEqual(kept, [{ pattern: '.*(?:ok).*', ignoreCase: true }]);
    assert.deepEqual(bad.map((b) => b.entry), ['~(a)\\1', '~']);
    assert.match(bad[0]!.message, /backreferences/);
  });
});

describe('block-cidrs entries', () => {
  test('addresses and blocks in canonical form, once each; the bad ones apart', () => {
    assert.deepEqual(parseBlockCidrs('10.1.2.3/8, 192.0.2.7, 10.0.0.0/8, 2001:db8::/32, bogus'), {
      cidrs: ['10.0.0.0/8', '192.0.2.7/32', '2001:db8::/32'],
      bad: [{ entry: 'bogus', message: 'is not an IP address or CIDR' }],
    });
  });
});
