import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Diagnostic } from '../../src/model/table.ts';
import { scriptLocations, withFileLines } from '../../src/source/script-locations.ts';

const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata: {name: app}\nspec: {ports: [{port: 80}]}\n';
const script = (name: string, code: string): string =>
  `apiVersion: signalbox.dev/v1alpha1\nkind: RouteScript\nmetadata: {name: ${name}, namespace: shop}\nspec:\n  targetRefs: [{kind: Ingress, name: web}]\n  code: ${code}`;

const compileError = (name: string, line: number, column: number): Diagnostic => ({
  kind: 'RouteScript', namespace: 'shop', name, code: 'RouteScriptCompileError', severity: 'error', path: `RouteScript/shop/${name}/code`,
  message: `code ${line}:${column}: SyntaxError: Unexpected token ';'; the RouteScript is ignored and its routes keep their normal routing`,
});

describe('the file line of a RouteScript compile error', () => {
  it('counts from the line after `code: |`, in any document of the file, and adds the indentation to the column', () => {
    const text = `${SERVICE}---\n${script('first', '|\n    export function onRequest() {\n      return { backend: ; }\n    }\n')}---\n${script('second', '|-\n\n      export function onRequest() { return null }\n      ;;;(\n')}`;
    assert.deepEqual(scriptLocations(text, 'shop.yaml'), [
      { namespace: 'shop', name: 'first', file: 'shop.yaml', line: 12, indent: 4 },
      // Its code starts with a blank line, which is its line 1.
      { namespace: 'shop', name: 'second', file: 'shop.yaml', line: 22, indent: 6 },
    ]);
    const [first, second] = withFileLines([compileError('first', 2, 21), compileError('second', 3, 4)], scriptLocations(text, 'shop.yaml'));
    assert.match(first!.message, /^code 2:21 \(shop\.yaml line 13, column 25\): SyntaxError: Unexpected token ';'; the RouteScript is ignored/);
    assert.match(second!.message, /^code 3:4 \(shop\.yaml line 24, column 10\): SyntaxError/);
    const lines = text.split('\n');
    assert.equal(lines[13 - 1]![25 - 1], ';', 'line and column point at the token');
    assert.equal(lines[24 - 1]![10 - 1], '(');
  });

  it('finds the scripts of a kind: List', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: signalbox.dev/v1alpha1\n  kind: RouteScript\n  metadata: {name: listed}\n  spec:\n    code: |\n      export function onRequest() {}\n';
    assert.deepEqual(scriptLocations(text, 'list.yaml'), [{ namespace: 'default', name: 'listed', file: 'list.yaml', line: 9, indent: 6 }]);
  });

  it('gives no file line where the code is not a literal block: a quoted string or JSON', () => {
    assert.deepEqual(scriptLocations(script('quoted', '"export function onRequest() { return { backend: ; } }"\n'), 'q.yaml'), []);
    assert.deepEqual(scriptLocations('{"apiVersion": "signalbox.dev/v1alpha1", "kind": "RouteScript", "metadata": {"name": "j"}, "spec": {"code": "x\\ny"}}', 'j.json'), []);
    const untouched = compileError('quoted', 1, 40);
    assert.deepEqual(withFileLines([untouched], []), [untouched]);
  });
});
