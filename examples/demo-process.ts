/**
 * What the `make demo*` scripts share: how they start `signalbox serve` and how they end, so that a
 * taken port is one line and Ctrl-C ends quietly.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', 'bin', 'signalbox.js');

/**
 * Starts `signalbox ARGS…` as one process. Node gets `--no-node-snapshot` itself, so bin/signalbox.js
 * does not re-execute: Ctrl-C reaches signalbox once (from the terminal), not a second time through a
 * parent that passes signals on.
 */
export function spawnSignalbox(args: readonly string[]): ChildProcessByStdio<null, null, Readable> {
  return spawn(process.execPath, ['--no-node-snapshot', BIN, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
}

/**
 * Awaits the demo's servers; when one cannot start (its port is taken, most likely by a demo that is
 * still running), prints one line and exits 1 instead of a stack trace.
 */
export async function startedOrExit<T>(starting: Promise<T>): Promise<T> {
  try {
    return await starting;
  } catch (err) {
    const inUse = (err as Error).message.includes('EADDRINUSE');
    process.stderr.write(`demo: ${(err as Error).message}${inUse ? ' (is another demo still running?)' : ''}\n`);
    process.exit(1);
  }
}

/**
 * Ends the demo with signalbox: on Ctrl-C (SIGINT) or SIGTERM it asks signalbox to stop, and once
 * signalbox has exited, runs `cleanUp` and exits — 0 when the user stopped it (the normal end of an
 * interactive demo, so `make` reports no error), else signalbox's own exit code (it failed to start).
 */
export function endWithSignalbox(proxy: ChildProcess, cleanUp: () => unknown): void {
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    if (proxy.exitCode === null && proxy.signalCode === null) proxy.kill('SIGTERM');
  };
  // `on`, not `once`: a second Ctrl-C while signalbox finishes must not kill this process first.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  proxy.once('exit', (code) => {
    void Promise.resolve(cleanUp()).finally(() => process.exit(stopped ? 0 : (code ?? 1)));
  });
}
