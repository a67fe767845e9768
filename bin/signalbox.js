#!/usr/bin/env node
// Entry point of the `signalbox` command. Plain JavaScript so that it runs on whatever `node` is on
// PATH: under any other Node.js major than the one in .node-version it fetches that Node.js (through
// scripts/node24.sh) and re-executes itself with it; the TypeScript sources then run natively.
// Start it as `node --no-node-snapshot bin/signalbox.js` (the container image does) to skip the
// re-execution.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wanted = readFileSync(join(root, '.node-version'), 'utf8').trim();
const wantedMajor = Number(wanted.split('.')[0]);
const major = Number(process.versions.node.split('.')[0]);

// isolated-vm (RouteScripts) needs V8 without Node's startup snapshot; the flag must be given to
// the node binary itself, so a process started without it runs the command again with it.
const NODE_FLAGS = ['--no-node-snapshot'];
const missingFlag = NODE_FLAGS.some((flag) => !process.execArgv.includes(flag));

if (major !== wantedMajor || missingFlag) {
  let node = process.execPath;
  if (major !== wantedMajor) {
    try {
      node = join(execFileSync(join(root, 'scripts', 'node24.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim(), 'node');
    } catch {
      process.stderr.write(`signalbox: needs Node.js ${wantedMajor}; could not bootstrap it\n`);
      process.exit(1);
    }
  }
  // Run the real command as a child and pass signals on, so `kill` on this process stops it too.
  const child = spawn(node, [...NODE_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const signal of SIGNALS) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) {
      // End the same way, so that a shell or make sees the signal: with our handlers gone, the
      // default action applies (a handler left in place would swallow it).
      for (const s of SIGNALS) process.removeAllListeners(s);
      process.exitCode = 128 + (constants.signals[signal] ?? 0);   // if the signal is ignored here
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
} else {
  const { main } = await import('../src/cli/main.ts');
  await main(process.argv);
}
