/** Upstreams that are child processes, for tests that kill one (SIGKILL) mid-load. */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const CHILD = join(import.meta.dirname, 'upstream-child.ts');

/** A running child upstream (see upstream-child.ts) and its own log of the requests it received. */
export interface UpstreamProcess {
  readonly name: string;
  readonly port: number;
  /** The URLs of the requests it logged, in order of arrival. */
  readonly received: string[];
  /** Resolves once it has logged `count` requests in all. */
  receivedAtLeast(count: number): Promise<void>;
  /** SIGKILL: the process dies at once, with whatever it holds; resolves once it is gone and its log read. */
  kill(): Promise<void>;
  /** Ends the process if it still runs. */
  close(): Promise<void>;
}

/** Spawns an upstream process that answers after `delayMs`; resolves once it listens. */
export async function startUpstreamProcess(name: string, delayMs: number): Promise<UpstreamProcess> {
  const child = spawn(process.execPath, [CHILD, name, String(delayMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const received: string[] = [];
  const lines = new EventEmitter();
  const logRead = once(child.stdout!, 'close');
  let port: number | null = null;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [word, a, b] = line.split(' ');
    if (word === 'listening') port = Number(a);
    else if (word === 'got') received.push(b!);
    lines.emit('line');
  });
  const exited = once(child, 'exit');
  while (port === null) {
    await Promise.race([once(lines, 'line'), exited.then(() => Promise.reject(new Error(`${name} exited before listening`)))]);
  }
  const stop = async (how: 'kill' | 'close'): Promise<void> => {
    if (alive(child)) {
      if (how === 'kill') child.kill('SIGKILL');
      else child.stdin!.end();
    }
    await Promise.all([exited, logRead]);
  };
  return {
    name,
    port,
    received,
    async receivedAtLeast(count) {
      while (received.length < count) {
        if (!alive(child)) throw new Error(`${name} is gone after ${received.length} requests`);
        await Promise.race([once(lines, 'line'), exited]);
      }
    },
    kill: () => stop('kill'),
    close: () => stop('close'),
  };
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
