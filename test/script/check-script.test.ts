import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkScript, MAX_SCRIPT_LENGTH } from '../../src/script/check-script.ts';

describe('checkScript', () => {
  const valid = [
    'export function onRequest(req, ctx) { return null; }',
    'export async function onRequest(req, ctx) { return await ctx.lookup(req.path); }',
    'export const onRequest = (req) => ({ backend: "a" });',
    'function handle() { return null; }\nexport { handle as onRequest };',
    'const table = new Map();\nexport function onRequest() { return null; }\nexport const other = 1;',
  ];
  for (const code of valid) {
    test(`accepts ${JSON.stringify(code.slice(0, 50))}`, () => {
      assert.deepEqual(checkScript(code), { ok: true });
    });
  }

  const invalid: readonly (readonly [string, string, string, number, number])[] = [
    ['a syntax error', 'let x = ;', "SyntaxError: Unexpected token ';'", 1, 9],
    [
      'an error on a later line',
      'export function onRequest(req) {\n  return {\n    backend: "a",,\n  };\n}',
      "SyntaxError: Unexpected token ','",
      3,
      18,
    ],
    ['an unclosed function', 'export function onRequest(req) {\n  return null;\n', 'SyntaxError: Unexpected end of input', 3, 1],
    ['strict-mode violations (modules are strict)', 'export function onRequest() {\n  with (Math) { return null; }\n}', 'SyntaxError: Strict mode code may not include a with statement', 2, 3],
    ['a duplicate export', 'export function onRequest() {}\nexport { onRequest };', "SyntaxError: Duplicate export of 'onRequest'", 2, 10],
    ['a missing onRequest', 'export function onrequest() { return null; }', 'the module must export a function onRequest(req, ctx), onResponse(res, ctx) or both', 1, 1],
    ['a default export only', 'export default function onRequest() { return null; }', 'the module must export a function onRequest(req, ctx), onResponse(res, ctx) or both', 1, 1],
    ['a plain script with no exports', 'function onRequest() { return null; }', 'the module must export a function onRequest(req, ctx), onResponse(res, ctx) or both', 1, 1],
    ['an import', "// shards\nimport { table } from './table.js';\nexport function onRequest() { return null; }", 'imports are not supported in a RouteScript (it imports "./table.js")', 2, 23],
  ];
  for (const [name, code, message, line, column] of invalid) {
    test(`reports ${name} at ${line}:${column}`, () => {
      assert.deepEqual(checkScript(code), { ok: false, message, line, column });
    });
  }

  test('does not run the code', () => {
    assert.deepEqual(checkScript('for (;;) {}\nexport function onRequest() {}'), { ok: true });
  });

  test('is deterministic', () => {
    const code = 'export function onRequest() {\n  return {;\n}';
    assert.deepEqual(checkScript(code), checkScript(code));
  });

  test('refuses oversized sources before parsing', () => {
    const result = checkScript(`export function onRequest() {}\n//${'x'.repeat(MAX_SCRIPT_LENGTH)}`);
    assert.equal(result.ok, false);
  });
});
