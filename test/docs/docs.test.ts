/**
 * Keeps the user documentation honest, cheaply: the annotations and error reasons it names exist,
 * every data-plane flag is in the README,
 * its relative links (and their #anchors in Markdown files) resolve, and every recipe of
 * docs/routescripts.md — a ```yaml title=FILE block followed by a ```console block running
 * `signalbox script test FILE …` — still prints the decisions shown under it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ANNOTATIONS } from '../../src/compile/shared/annotations.ts';
import { statusFor, type ErrorReason } from '../../src/dataplane/lifecycle/error-responses.ts';
import { SSL_PASSTHROUGH_ANNOTATION } from '../../src/compile/streams/passthrough.ts';
import { addDataplaneOptions } from '../../src/cli/dataplane-flags.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const DOCS = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** `signalbox.dev/` names that are not annotations. */
const NOT_ANNOTATIONS = new Set(['signalbox.dev/v1alpha1', 'signalbox.dev/ingress-controller', 'signalbox.dev/gateway-controller']);

/** The members of the ErrorReason union, read from its source. */
const REASONS = new Set([...(/export type ErrorReason =([\s\S]*?);/.exec(read('src/dataplane/lifecycle/error-responses.ts'))?.[1] ?? '').matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!));

/** GitHub's anchor for a heading. */
const slug = (heading: string): string => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
const anchors = (text: string): Set<string> => new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));

/** Rows of every Markdown table whose header has a cell `name`: that cell and the row. */
function tableColumn(text: string, name: string): { value: string; row: Record<string, string> }[] {
  const out: { value: string; row: Record<string, string> }[] = [];
  let header: string[] | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      header = null;
      continue;
    }
    const cells = line.slice(1, line.endsWith('|') ? -1 : undefined).split(/(?<!\\)\|/).map((c) => c.trim());
    if (header === null) header = cells;
    else if (!/^-+$/.test(cells[0]!.replaceAll(':', '')) && header.includes(name)) {
      const row = Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
      out.push({ value: row[name]!, row });
    }
  }
  return out;
}

describe('documentation', () => {
  it('names only annotations that exist', () => {
    // The Service annotations, and the one read on Ingresses.
    const known = new Set<string>([...ANNOTATIONS.map((a) => a.name), SSL_PASSTHROUGH_ANNOTATION]);
    for (const doc of DOCS) {
      for (const [name] of read(doc).matchAll(/signalbox\.dev\/[a-z0-9-]+/g)) {
        if (!NOT_ANNOTATIONS.has(name)) assert.ok(known.has(name), `${doc}: ${name} is not in src/compile/shared/annotations.ts`);
      }
    }
  });

  it('names only x-signalbox-error reasons that exist, with their status, and the troubleshooting table has them all', () => {
    for (const doc of DOCS) {
      const text = read(doc);
      for (const [, reason] of text.matchAll(/x-signalbox-error: `?([a-z-]+)/gi)) assert.ok(REASONS.has(reason!), `${doc}: unknown reason ${reason}`);
      for (const { value, row } of tableColumn(text, 'reason')) {
        const reason = /`([a-z-]+)`/.exec(value)?.[1] ?? '';
        assert.ok(REASONS.has(reason), `${doc}: unknown reason "${value}" in a table`);
        if (row.status !== undefined) assert.match(row.status, new RegExp(`^${statusFor(reason as ErrorReason)}\\b`), `${doc}: status of ${reason}`);
      }
    }
    const listed = new Set(tableColumn(read('docs/troubleshooting.md'), 'reason').map((r) => /`([a-z-]+)`/.exec(r.value)?.[1]));
    for (const reason of REASONS) assert.ok(listed.has(reason), `docs/troubleshooting.md does not list ${reason}`);
  });

  it('documents every data-plane flag in the README (both spellings of a negatable one)', () => {
    const readme = read('README.md');
    for (const option of addDataplaneOptions(new Command()).options) {
      assert.ok(readme.includes(`\`${option.long!}`), `README.md: ${option.long!} is not documented`);
    }
  });

  it('links only to files (and headings) that exist', () => {
    for (const doc of DOCS) {
      for (const [, target] of read(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const file = path === '' ? join(root, doc) : join(root, dirname(doc), path);
        assert.ok(existsSync(file), `${doc}: link ${target} points at nothing`);
        if (anchor !== undefined && file.endsWith('.md') && statSync(file).isFile()) {
          assert.ok(anchors(readFileSync(file, 'utf8')).has(anchor), `${doc}: link ${target}: no such heading`);
        }
      }
    }
  });
});

interface Recipe {
  readonly file: string;
  readonly yaml: string;
  readonly args: string[];
  readonly output: string[];
}

/** The recipes of docs/routescripts.md, each with the command and the output documented under it. */
function recipes(): Recipe[] {
  const found: Recipe[] = [];
  const blocks = [...read('docs/routescripts.md').matchAll(/^```(\S*)(?: title=(\S+))?\n([\s\S]*?)^```$/gm)];
  blocks.forEach(([, lang, title, body], i) => {
    if (lang !== 'yaml' || title === undefined) return;
    const next = blocks.slice(i + 1).find(([, l, t]) => l === 'console' || t !== undefined);
    assert.ok(next !== undefined && next[1] === 'console', `recipe ${title} has no console block after it`);
    const [command, ...output] = next[3]!.replace(/\\\n\s*/g, '').trimEnd().split('\n');
    const words = [...command!.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).filter((w) => w !== '2>/dev/null');
    assert.deepEqual(words.slice(0, 5), ['$', 'signalbox', 'script', 'test', title], `recipe ${title}: the command`);
    found.push({ file: title, yaml: body!, args: words.slice(5), output: output.map(withoutTiming) });
  });
  return found;
}

const withoutTiming = (line: string): string => line.replace(/\s+\(\d+\.\d+ ms\)$/, '');

function scriptTest(file: string, args: readonly string[]): Promise<{ code: number; stdout: string }> {
  const bin = join(root, 'bin', 'signalbox.js');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--no-node-snapshot', bin, 'script', 'test', file, ...args], { encoding: 'utf8', timeout: 30_000 }, (error, stdout) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout });
    });
  });
}

describe('docs/routescripts.md recipes', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signalbox-docs-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const all = recipes();
  it('has recipes', () => assert.ok(all.length >= 7, `found ${all.length}`));
  for (const recipe of all) {
    it(`${recipe.file} decides as documented`, async () => {
      const file = join(dir, recipe.file);
      await writeFile(file, recipe.yaml);
      let run = await scriptTest(file, recipe.args);
      // A budget of a few ms is wall time: on a loaded machine, give a timed-out run one more chance.
      if (run.stdout.includes('FAILED timeout')) run = await scriptTest(file, recipe.args);
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(run.stdout.trimEnd().split('\n').map(withoutTiming), recipe.output);
    });
  }
});
