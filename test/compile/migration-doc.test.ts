/**
 * The migration guide cannot drift from the tables the front end uses: docs/migrating-from-ingress-nginx.md
 * must be exactly what `renderMigrationDoc()` gives, list every annotation and ConfigMap key, and
 * keep the anchors other documents link to.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NGINX_ANNOTATIONS } from '../../src/compile/ingress-nginx/annotation-table.ts';
import { NGINX_CONFIG_KEYS } from '../../src/compile/ingress-nginx/config-map-keys.ts';
import { renderMigrationDoc, renderNginxAnnotationTable, renderNginxConfigKeyTable, SUPPORT_VALUES } from '../../src/compile/ingress-nginx/migration-doc.ts';

const ROOT = join(import.meta.dirname, '../..');
const FILE = 'docs/migrating-from-ingress-nginx.md';
const doc = readFileSync(join(ROOT, FILE), 'utf8');

/** The cells of a rendered table's rows, header and separator left out; pipes inside cells are escaped. */
function rows(table: string): string[][] {
  return table.trimEnd().split('\n').slice(2).map((line) => line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()));
}

/** GitHub's anchor of a heading. */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replaceAll(' ', '-');
}

describe('migration guide', () => {
  test(`${FILE} is what migration-doc.ts renders`, () => {
    assert.equal(doc, renderMigrationDoc(), `${FILE} is out of date; regenerate it with: node src/compile/ingress-nginx/migration-doc.ts > ${FILE}`);
  });

  test('the annotation table has every annotation once, in order, with its risk, support and note', () => {
    const table = renderNginxAnnotationTable();
    assert.ok(doc.includes(table));
    const cells = rows(table);
    assert.equal(cells.length, NGINX_ANNOTATIONS.length);
    cells.forEach((row, i) => {
      const a = NGINX_ANNOTATIONS[i]!;
      assert.deepEqual(row, [`\`${a.name}\``, a.risk, a.support, a.note.replaceAll('|', '\\|')]);
    });
  });

  test('support values are only the four the guide explains', () => {
    const seen = new Set([...rows(renderNginxAnnotationTable()).map((r) => r[2]!), ...rows(renderNginxConfigKeyTable()).map((r) => r[1]!)]);
    for (const value of seen) assert.ok((SUPPORT_VALUES as readonly string[]).includes(value), `unexpected support value ${value}`);
    for (const value of SUPPORT_VALUES) assert.ok(doc.includes(`\`${value}\``), `the guide explains ${value}`);
  });

  test('every ConfigMap key appears once', () => {
    const table = renderNginxConfigKeyTable();
    assert.ok(doc.includes(table));
    assert.deepEqual(rows(table).map((r) => r[0]), NGINX_CONFIG_KEYS.map((k) => `\`${k.name}\``));
  });

  test('the anchors other documents link to exist', () => {
    const anchors = new Set(doc.split('\n').filter((l) => /^#{1,4} /.test(l)).map((l) => anchor(l.replace(/^#+ /, ''))));
    const linked = new Set<string>();
    for (const file of ['README.md', ...['routescripts.md', 'security.md', 'troubleshooting.md', 'annotations.md', 'regular-expressions.md', 'route-model.md', FILE.slice(5)].map((f) => `docs/${f}`)]) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/migrating-from-ingress-nginx\.md#([a-z0-9-]+)/g)) linked.add(m[1]!);
      // Links within the guide itself.
      if (file === FILE) for (const m of text.matchAll(/\]\(#([a-z0-9-]+)\)/g)) linked.add(m[1]!);
    }
    assert.ok(linked.has('external-authentication-auth-url'), 'docs/routescripts.md links the external auth snippet');
    for (const a of linked) assert.ok(anchors.has(a), `#${a} is linked but no heading makes it`);
  });
});
