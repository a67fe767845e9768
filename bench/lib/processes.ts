/**
 * Child processes and temp dirs owned by one benchmark run, all released by {@link Scope.close}.
 *
 * Every child is spawned in its own process group (`detached`) so that closing kills the whole group:
 * nginx's workers and anything signalbox forks go with their parent, and a Ctrl-C on the terminal
 * reaches only the harness, which then shuts the children down in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A long-running child: its pid, the tail of its output, and a promise settled when it exits. */
export interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /** The last few KiB of stdout and stderr, for error messages. */
  output(): string;
}

/** Output of a finished command. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const TAIL_BYTES = 8 * 1024;
const KILL_GRACE_MS = 3_000;

/** Owns temp dirs and child processes; `close()` removes and kills them all, at most once. */
export class Scope {
  #dirs: string[] = [];
  #services: Service[] = [];
  #closing: Promise<void> | undefined;

  constructor() {
    // Last resort if the harness dies without close(): 'exit' handlers must be synchronous.
    process.once('exit', () => this.#killSync());
  }

  /** A fresh directory under the OS temp dir, removed on close. */
  tempDir(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `signalbox-bench-${label}-`));
    this.#dirs.push(dir);
    return dir;
  }

  /** Starts a long-running child whose output is kept as a short tail. */
  start(name: string, command: string, args: string[], cwd?: string): Service {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString()).slice(-TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let done = false;
    const exited = new Promise<number | string>((resolve) => {
      child.once('error', (err) => {
        done = true;
        keep(Buffer.from(`\n${err.message}\n`));
        resolve('spawn-error');
      });
      // 'close' rather than 'exit': it comes after the pipes are drained, so output() is complete.
      child.once('close', (code, signal) => {
        done = true;
        resolve(code ?? signal ?? 'unknown');
      });
    });
    const service: Service = { name, child, exited, hasExited: () => done, output: () => tail };
    this.#services.push(service);
    return service;
  }

  /** Runs a command to completion, killing its group if it outlives `timeoutMs`. */
  async run(command: string, args: string[], timeoutMs: number): Promise<RunResult> {
    const service = this.start(command, command, args);
    let stdout = '';
    let stderr = '';
    service.child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    service.child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => void this.stop(service), timeoutMs);
    const code = await service.exited;
    clearTimeout(timer);
    this.#services = this.#services.filter((s) => s !== service);
    if (code === 'spawn-error') throw new Error(`cannot run ${command}: ${service.output().trim()}`);
    return { code: typeof code === 'number' ? code : null, stdout, stderr };
  }

  /** SIGTERM to the child's process group, SIGKILL after a grace period; resolves once it has exited. */
  async stop(service: Service): Promise<void> {
    if (service.hasExited()) return;
    signalGroup(service, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(service, 'SIGKILL'), KILL_GRACE_MS);
    await service.exited;
    clearTimeout(timer);
    signalGroup(service, 'SIGKILL'); // stragglers left in the group after the leader exited
  }

  /** Stops every child (newest first) and removes every temp dir. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const service of [...this.#services].reverse()) await this.stop(service);
      for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    })();
    return this.#closing;
  }

  #killSync(): void {
    for (const service of this.#services) signalGroup(service, 'SIGKILL');
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}

function signalGroup(service: Service, signal: NodeJS.Signals): void {
  const pid = service.child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
