#!/usr/bin/env node
// Entry point of the `signalbox` command. Plain JavaScript so that it runs on whatever `node` is on
// PATH: on anything older than the Node.js major in .node-version it fetches that Node.js (through
// scripts/node24.sh) and re-executes itself with it; the TypeScript sources then run natively.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wanted = readFileSync(join(root, '.node-version'), 'utf8').trim();
const wantedMajor = Number(wanted.split('.')[0]);
const major = Number(process.versions.node.split('.')[0]);

if (major !== wantedMajor) {
  let binDir;
  try {
    binDir = execFileSync(join(root, 'scripts', 'node24.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    process.stderr.write(`signalbox: needs Node.js ${wantedMajor}; could not bootstrap it\n`);
    process.exit(1);
  }
  // Run the real command as a child and pass signals on, so `kill` on this process stops it too.
  const child = spawn(join(binDir, 'node'), [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    process.exit(code ?? 1);
  });
} else {
  const { main } = await import('../src/cli/main.ts');
  await main(process.argv);
}
