import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePattern } from '../../src/regex/compile-pattern.ts';

/** The compiled RegExp of a pattern that must compile. */
function regex(source: string, ignoreCase = false): RegExp {
  const compiled = compilePattern(source, { ignoreCase });
  assert.ok(compiled.ok, `${source}: ${compiled.ok ? '' : compiled.message}`);
  return compiled.regex;
}

/** The refusal of a pattern that must not compile. */
function refusal(source: string, ignoreCase = false): string {
  const compiled = compilePattern(source, { ignoreCase });
  assert.ok(!compiled.ok, `${source} compiled`);
  return compiled.message;
}

describe('compilePattern', () => {
  test('a pattern matches the whole string or nothing', () => {
    const r = regex('/api/v[0-9]+');
    assert.equal(r.test('/api/v2'), true);
    assert.equal(r.test('/api/v2/users'), false);
    assert.equal(r.test('/x/api/v2'), false);
    // An alternative cannot escape the anchors.
    const alt = regex('/a|/b');
    assert.equal(alt.test('/a'), true);
    assert.equal(alt.test('/b'), true);
    assert.equal(alt.test('/a/more'), false);
    assert.equal(alt.test('more/b'), false);
  });

  test('capture groups keep their numbers and names', () => {
    const m = regex('/(?<svc>[a-z]+)/(\\d+)').exec('/users/42');
    assert.deepEqual([m?.[1], m?.[2], m?.groups?.['svc']], ['users', '42', 'users']);
  });

  test('a pathological pattern runs in linear time instead of stalling', () => {
    // A backtracking engine takes exponential time here: this test would not return.
    assert.equal(regex('(a+)+$').test(`${'a'.repeat(100_000)}!`), false);
    assert.equal(regex('(a|aa)*b').test('a'.repeat(100_000)), false);
  });

  test('backreferences and lookahead are refused, saying why', () => {
    assert.match(refusal('(a)\\1'), /backreferences.*linear time/);
    assert.match(refusal('(?<x>a)\\k<x>'), /backreferences.*linear time/);
    assert.match(refusal('/a(?=b)'), /lookahead.*linear time/);
    assert.match(refusal('/a(?!b)'), /lookahead.*linear time/);
  });

  test('unicode mode, inline flags other than a leading (?i) and letter escapes JavaScript lacks are refused', () => {
    assert.match(refusal('\\p{L}+'), /unicode mode/);
    assert.match(refusal('\\u{1F600}'), /unicode mode/);
    assert.match(refusal('/a(?i)b'), /leading \(\?i\)/);
    assert.match(refusal('(?s).*'), /leading \(\?i\)/);
    assert.match(refusal('\\A/api'), /not an escape in JavaScript/);
    assert.match(refusal('(?P<x>a)'), /\(\?<name>/);
  });

  test('counts the engine cannot unroll are refused with a way out', () => {
    assert.match(refusal('[0-9a-f]{32}'), /at most 16 times.*\{16\}\[0-9a-f\]\{16\}/);
    assert.equal(regex('[0-9a-f]{16}[0-9a-f]{16}').test('0123456789abcdef0123456789abcdef'), true);
  });

  test('malformed patterns are refused, not thrown', () => {
    assert.match(refusal('/a)|(b'), /unbalanced \)/);
    assert.match(refusal('(/a'), /unbalanced \(/);
    assert.match(refusal('[a-'), /unterminated character class/);
    assert.match(refusal('a\\'), /lone \\/);
    assert.match(refusal('[z-a]'), /not a valid regular expression/);
    assert.match(refusal('x'.repeat(5000)), /longer than/);
  });

  test('ignoreCase folds ASCII letters outside and inside classes, ranges and escapes included', () => {
    const r = regex('/Api/[a-c]+/[^x]/\\x41\\d', true);
    for (const yes of ['/api/abc/y/a1', '/API/CBA/y/A1', '/aPi/aBc/Y/a9']) assert.equal(r.test(yes), true, yes);
    for (const no of ['/api/abd/y/a1', '/api/abc/X/a1', '/api/abc/x/a1', '/api/abc/y/b1']) assert.equal(r.test(no), false, no);
    // Escapes are not letters to fold: \d stays digits, \n a newline, \cJ a control character.
    assert.equal(regex('\\d\\w', true).test('1D'), true);
    assert.equal(regex('\\D', true).test('d'), true);
    assert.equal(regex('a\\cJ', true).test('A\n'), true);
    // A range that spans letters and others folds only its letters: [Z-b] is Z [ \ ] ^ _ ` a b.
    const mixed = regex('[Z-b]+', true);
    assert.equal(mixed.test('zZ_aAbB'), true);
    assert.equal(mixed.test('c'), false);
    // Group names and counts are not text: they are left as written.
    assert.equal(regex('(?<Name>a{2})', true).exec('aA')?.groups?.['Name'], 'aA');
  });

  test('a leading (?i) means ignoreCase; without either, case matters', () => {
    assert.equal(regex('(?i)/shop').test('/SHOP'), true);
    assert.equal(regex('/shop').test('/SHOP'), false);
    assert.equal(regex('/shop', true).test('/ShOp'), true);
    // Only ASCII letters fold.
    assert.equal(regex('/é', true).test('/É'), false);
  });

  test('results are cached by source and ignoreCase', () => {
    assert.equal(compilePattern('/c[a-z]'), compilePattern('/c[a-z]'));
    assert.notEqual(compilePattern('/c[a-z]', { ignoreCase: true }), compilePattern('/c[a-z]'));
    assert.equal(compilePattern('(a)\\1'), compilePattern('(a)\\1'));
  });

  test('lookbehind runs in linear time and is accepted', () => {
    assert.equal(regex('/[a-z]+(?<!\\.bak)').test('/file'), true);
    assert.equal(regex('.*(?<!\\.bak)').test('/file.bak'), false);
  });
});
