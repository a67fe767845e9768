/**
 * The catalogue of diagnostic codes (src/model/diagnostic-codes.ts) against what users read and
 * what the code emits: docs/troubleshooting.md lists exactly the catalogue's codes, the README
 * names no code the catalogue lacks, and every catalogued code is emitted somewhere in src/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DIAGNOSTIC_CODES, isDiagnosticCode } from '../../src/model/diagnostic-codes.ts';

const ROOT = join(import.meta.dirname, '../..');
const CODES = Object.keys(DIAGNOSTIC_CODES).sort();
/** A backticked word that looks like a code: CamelCase with at least two humps (`TLSHostConflict`). */
const CODE_LIKE = /`([A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)`/g;

/** The text of a Markdown section, from its heading to the next heading of the same level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `heading ${JSON.stringify(heading)} not found`);
  const end = markdown.indexOf('\n## ', start + heading.length + 2);
  return markdown.slice(start, end < 0 ? undefined : end);
}

function codesIn(text: string): string[] {
  return [...new Set([...text.matchAll(CODE_LIKE)].map((m) => m[1]!))].sort();
}

test('docs/troubleshooting.md lists every diagnostic code, and only those', () => {
  const table = section(readFileSync(join(ROOT, 'docs/troubleshooting.md'), 'utf8'), '## Diagnostics: codes and where they appear')
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .join('\n');
  const listed = codesIn(table);
  assert.deepEqual(CODES.filter((c) => !listed.includes(c)), [], 'codes missing from the table of docs/troubleshooting.md');
  assert.deepEqual(listed.filter((c) => !isDiagnosticCode(c)), [], 'codes in docs/troubleshooting.md that signalbox does not emit');
});

test('the README names no code that is not in the catalogue', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const list = readme.slice(readme.indexOf('Codes: '), readme.indexOf('\n\n', readme.indexOf('Codes: ')));
  assert.ok(list.length > 0, 'the README has a list of codes');
  const named = codesIn(list);
  assert.ok(named.length > 10);
  assert.deepEqual(named.filter((c) => !isDiagnosticCode(c)), []);
});

test('every catalogued code is emitted somewhere in src/', () => {
  const sources: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !path.endsWith('diagnostic-codes.ts')) sources.push(readFileSync(path, 'utf8'));
    }
  };
  walk(join(ROOT, 'src'));
  const all = sources.join('\n');
  assert.deepEqual(CODES.filter((c) => !all.includes(`'${c}'`)), [], 'catalogued codes that no source file emits');
});

test('every code has a one-line meaning', () => {
  for (const [code, spec] of Object.entries(DIAGNOSTIC_CODES)) {
    assert.ok(spec.meaning.length > 10 && !spec.meaning.includes('\n'), code);
  }
});
