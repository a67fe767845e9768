/** `bin/signalbox.js` as a child process, started the way a user would, for tests of whole processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const BIN = fileURLToPath(new URL('../../bin/signalbox.js', import.meta.url));

/** A running signalbox process and where it listens (from the line it prints once it serves). */
export interface SignalboxProcess {
  readonly child: ChildProcess;
  readonly http: string;
  /** Null when started with `--https-port off`. */
  readonly https: string | null;
  readonly admin: string;
  /** The debug listener (`/debug/table`), or null when started with `--debug-port off`. */
  readonly debug: string | null;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** `/readyz` answers 200. */
  ready(): Promise<boolean>;
  /** SIGTERM (SIGKILL after 15 s) and wait for it to exit; resolves to its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: gone at once, as a crash would be. */
  kill(): Promise<void>;
}

/**
 * Starts `signalbox ARGS…` and resolves once it prints where it serves (within 60 s). Node runs
 * with `--no-node-snapshot`, as bin/signalbox.js would add it, so that the process under test is
 * this child and not a re-executed grandchild. It is killed when the test process exits.
 */
export async function startSignalboxProcess(args: readonly string[], env: Record<string, string> = {}): Promise<SignalboxProcess> {
  const child = spawn(process.execPath, ['--no-node-snapshot', BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  let exited = false;
  child.once('exit', () => (exited = true));
  const ports = await new Promise<{ http: string; https: string | null; admin: string; debug: string | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`signalbox did not start serving within 60 s:\n${stderr.slice(-4000)}`)), 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /serving (http:\/\/\S+)(?:\s+(https:\/\/\S+))?\s+admin (http:\/\/\S+)(?: +debug (http:\/\/\S+))?\n/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ http: m[1]!, https: m[2] ?? null, admin: m[3]!, debug: m[4] ?? null });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`signalbox exited (${code}) before serving:\n${stderr.slice(-4000)}`));
    });
  });
  const reap = (): void => void child.kill('SIGKILL');
  process.once('exit', reap);
  return {
    child,
    ...ports,
    stderr: () => stderr,
    get exited() {
      return exited;
    },
    async ready() {
      if (exited) return false;
      try {
        const res = await request(`${ports.admin}/readyz`, { headersTimeout: 1_000, bodyTimeout: 1_000 });
        await res.body.dump();
        return res.statusCode === 200;
      } catch {
        return false;
      }
    },
    async stop() {
      if (!exited) {
        const done = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await done;
        clearTimeout(timer);
      }
      process.off('exit', reap);
      return child.exitCode;
    },
    async kill() {
      if (!exited) {
        const done = once(child, 'exit');
        child.kill('SIGKILL');
        await done;
      }
      process.off('exit', reap);
    },
  };
}
