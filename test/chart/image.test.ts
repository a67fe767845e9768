/**
 * The container image, checked without building it (no Docker engine needed): the Node.js version,
 * the entrypoint, the user, the production-only install and what the build context holds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildProgram } from '../../src/cli/main.ts';
import { REPO } from './chart-tools.ts';

const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
/** Instructions with their continuation lines joined and comments dropped. */
const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => {
    const [keyword = '', ...rest] = l.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const of = (keyword: string) => instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

const WORKDIR = '/app';

describe('Dockerfile', () => {
  test('builds on the Node.js of .node-version, in every stage', () => {
    const wanted = readFileSync(join(REPO, '.node-version'), 'utf8').trim();
    const arg = /^NODE_VERSION=(\S+)$/.exec(of('ARG').find((a) => a.startsWith('NODE_VERSION=')) ?? '');
    assert.equal(arg?.[1], wanted, 'ARG NODE_VERSION');
    const froms = of('FROM');
    assert.ok(froms.length >= 2, 'a dependency stage and a runtime stage');
    for (const from of froms) assert.match(from, /^node:\$\{NODE_VERSION\}-bookworm-slim(\s+AS\s+\w+)?$/i);
    assert.equal(wanted.split('.')[0], '24');
  });

  test('installs production dependencies only, with their install scripts (isolated-vm picks its prebuilt binary there)', () => {
    const runs = of('RUN').join('\n');
    assert.match(runs, /npm ci --omit=dev/);
    assert.doesNotMatch(runs, /--ignore-scripts/);
  });

  test('what src/ and bin/ import at run time is a production dependency or part of Node.js', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const files = [
      ...readdirSync(join(REPO, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(REPO, 'src', f)),
      join(REPO, 'bin/signalbox.js'),
    ];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // `import type` is erased before the code runs, so its packages need not be installed.
      const specifiers = [
        ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?\bfrom\s+['"]([^'"]+)['"]/gms)].map((m) => m[1]!),
        ...[...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
        ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
      ];
      for (const spec of specifiers) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        assert.ok(name in pkg.dependencies, `${file} imports ${spec}, which npm ci --omit=dev does not install`);
      }
    }
  });

  test('runs signalbox controller in-process, from the copied sources', () => {
    const entrypoint = JSON.parse(of('ENTRYPOINT').at(-1) ?? 'null') as string[] | null;
    assert.ok(Array.isArray(entrypoint), 'ENTRYPOINT in exec form, so that SIGTERM reaches node itself');
    assert.deepEqual(entrypoint, ['node', '--no-node-snapshot', 'bin/signalbox.js', 'controller']);
    assert.deepEqual(of('WORKDIR').at(-1), WORKDIR);
    assert.equal(of('CMD').length, 0, 'no CMD: the chart passes only flags');
    // bin/signalbox.js starts a second node unless it was given every flag it needs.
    const needs = /const NODE_FLAGS = (\[[^\]]*\])/.exec(readFileSync(join(REPO, 'bin/signalbox.js'), 'utf8'))?.[1];
    assert.ok(needs, 'bin/signalbox.js lists NODE_FLAGS');
    for (const flag of JSON.parse(needs.replace(/'/g, '"')) as string[]) assert.ok(entrypoint.slice(1, -2).includes(flag), `ENTRYPOINT passes ${flag}`);
    assert.ok(buildProgram().commands.some((c) => c.name() === 'controller'), 'signalbox has a controller command');
    const help = spawnSync(process.execPath, [...entrypoint.slice(1), '--help'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--publish-service/);
  });

  test('copies everything the process reads, and nothing the .dockerignore keeps out', () => {
    const copies = of('COPY').filter((c) => !c.startsWith('--from'));
    const sources = copies.flatMap((c) => c.split(/\s+/).slice(0, -1));
    assert.deepEqual(sources.sort(), ['.node-version', 'bin', 'package-lock.json', 'package.json', 'package-lock.json', 'package.json', 'src'].sort());
    for (const source of sources) {
      assert.ok(existsSync(join(REPO, source)), `${source} exists`);
      assert.ok(inContext(source), `${source} is in the build context`);
    }
    // bin/signalbox.js compares the Node.js major with .node-version, and main.ts reads package.json.
    assert.ok(sources.includes('.node-version') && sources.includes('package.json'));
  });

  test('user: a fixed numeric uid and gid, not root', () => {
    const user = of('USER').at(-1);
    assert.match(user ?? '', /^\d+:\d+$/);
    assert.notEqual(Number(user!.split(':')[0]), 0);
  });
});

/**
 * Whether `path` is sent to the builder: .dockerignore patterns apply in order, the last one that
 * matches the path or one of its parent directories decides, and `!` takes a path back in.
 * Enough of Docker's rules for the patterns this repository uses (no `**`).
 */
function inContext(path: string): boolean {
  const patterns = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let included = true;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(`^${pattern.split('').map((ch) => (ch === '*' ? '[^/]*' : ch === '?' ? '[^/]' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
    if (prefixes.some((p) => regex.test(p))) included = negated;
  }
  return included;
}

describe('.dockerignore', () => {
  test('keeps dependencies, history, tests, test data and local files out of the build context', () => {
    for (const path of ['node_modules', 'node_modules/undici/index.js', '.git', '.git/HEAD', 'test', 'test/chart/chart.test.ts', 'testdata', 'e2e', 'bench',
      'examples', 'charts', 'deploy', 'docs', 'scripts', 'isolate-0x1-v8.log', '.cache', 'tmp', 'Dockerfile']) {
      assert.equal(inContext(path), false, `${path} is kept out`);
    }
    for (const path of ['bin/signalbox.js', 'src/cli/main.ts', 'package.json', 'package-lock.json', '.node-version']) {
      assert.equal(inContext(path), true, `${path} is sent`);
    }
  });
});
