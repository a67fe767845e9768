/**
 * The annotation reference cannot drift from the table the parser uses: docs/annotations.md must be
 * exactly what `renderAnnotationsDoc()` gives, and every document listed here must carry exactly
 * the rendered table between its markers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { renderAnnotationsDoc, renderAnnotationTable, TABLE_BEGIN, TABLE_END } from '../../src/compile/shared/annotations-doc.ts';
import { ANNOTATIONS } from '../../src/compile/shared/annotations.ts';

const ROOT = join(import.meta.dirname, '../..');
const REGENERATE = 'regenerate it with: node src/compile/shared/annotations-doc.ts > docs/annotations.md';

/** Documents that include the annotation table between TABLE_BEGIN and TABLE_END. */
const DOCUMENTS = ['docs/annotations.md', 'README.md'];

/** The text between the markers, which must each appear exactly once, on lines of their own. */
function embeddedTable(text: string, file: string): string {
  const begin = `${TABLE_BEGIN}\n`;
  const end = `\n${TABLE_END}`;
  const start = text.indexOf(begin);
  assert.ok(start !== -1 && text.indexOf(begin, start + 1) === -1, `${file}: needs exactly one line ${TABLE_BEGIN}`);
  const stop = text.indexOf(end, start);
  assert.ok(stop !== -1 && text.indexOf(end, stop + 1) === -1, `${file}: needs exactly one line ${TABLE_END} after the begin marker`);
  return text.slice(start + begin.length, stop + 1);
}

describe('annotation reference', () => {
  test('docs/annotations.md is what annotations.ts renders', () => {
    assert.equal(readFileSync(join(ROOT, 'docs/annotations.md'), 'utf8'), renderAnnotationsDoc(), `docs/annotations.md is out of date; ${REGENERATE}`);
  });

  for (const file of DOCUMENTS) {
    test(`${file} carries the current table`, () => {
      assert.equal(embeddedTable(readFileSync(join(ROOT, file), 'utf8'), file), renderAnnotationTable(), `${file}: the annotation table is out of date`);
    });
  }

  test('the table has one row per annotation, with five cells each', () => {
    const rows = renderAnnotationTable().trimEnd().split('\n').slice(2);
    assert.equal(rows.length, ANNOTATIONS.length);
    rows.forEach((row, i) => {
      assert.ok(row.startsWith(`| \`${ANNOTATIONS[i]!.name}\``), row);
      // Cells are separated by unescaped pipes: 6 of them for 5 cells.
      assert.equal(row.split(/(?<!\\)\|/).length - 1, 6, row);
    });
  });
});
