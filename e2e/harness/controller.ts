/** `signalbox controller` as a child process, started the way a user (or the Deployment) would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { request } from 'undici';
import { REPO_ROOT } from './cluster.ts';

/** A running controller and where to reach it. */
export interface RunningController {
  readonly child: ChildProcess;
  readonly http: string;
  readonly https: string;
  readonly admin: string;
  /** Everything it wrote to stderr so far (its log lines at the chosen level, and the port line). */
  readonly stderr: () => string;
  /** `/readyz` answers 200. */
  ready(): Promise<boolean>;
  /** SIGTERM and wait for it to exit; resolves to its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: gone at once, as a crash would be. */
  kill(): Promise<void>;
}

/** Starts `signalbox controller --kubeconfig KUBECONFIG` with free ports and `extraArgs`. */
export async function startController(kubeconfig: string, extraArgs: readonly string[] = [], env: Record<string, string> = {}): Promise<RunningController> {
  const args = [
    '--no-node-snapshot', join(REPO_ROOT, 'bin', 'signalbox.js'), 'controller', '--kubeconfig', kubeconfig,
    '--bind', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--admin-bind', '127.0.0.1', '--admin-port', '0',
    '--workers', '1', '--access-log', 'off', '--log-level', 'info', '--drain', '0s', '--grace', '3s', ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  const ports = await new Promise<{ http: string; https: string; admin: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the controller did not start serving within 60 s:\n${stderr.slice(-4000)}`)), 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /serving (http:\/\/127\.0\.0\.1:\d+)\s+(https:\/\/127\.0\.0\.1:\d+)\s+admin (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ http: m[1]!, https: m[2]!, admin: m[3]! });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the controller exited (${code}) before serving:\n${stderr.slice(-4000)}`));
    });
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  // Children die with the test process, whatever ends it.
  const reap = (): void => void child.kill('SIGKILL');
  process.once('exit', reap);
  return {
    child,
    ...ports,
    stderr: () => stderr,
    async ready() {
      try {
        const res = await request(`${ports.admin}/readyz`, { headersTimeout: 1_000, bodyTimeout: 1_000 });
        await res.body.dump();
        return res.statusCode === 200;
      } catch {
        return false;
      }
    },
    async stop() {
      if (exited) return child.exitCode;
      const done = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const [code] = await done;
      clearTimeout(timer);
      process.off('exit', reap);
      return code;
    },
    async kill() {
      if (exited) return;
      const done = once(child, 'exit');
      child.kill('SIGKILL');
      await done;
      process.off('exit', reap);
    },
  };
}
