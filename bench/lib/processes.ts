/**
 * Child processes and temp dirs owned by one benchmark run, all released by {@link Scope.close}.
 *
 * Every child is spawned in its own process group (`detached`) so that closing kills the whole group:
 * nginx's workers and anything signalbox forks go with their parent, and a Ctrl-C on the terminal
 * reaches only the harness, which then shuts the children down in order.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

  /** The long-running children started so far and not yet finished, oldest first. */
  services(): readonly Service[] {
    return this.#services.filter((s) => !s.hasExited());
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

  /**
   * Starts a command that runs to completion: its service (to stop it early) and a promise of its
   * output, settled when it exits; its group is killed if it outlives `timeoutMs`.
   */
  launch(command: string, args: string[], timeoutMs: number): { service: Service; done: Promise<RunResult> } {
    const service = this.start(command, command, args);
    let stdout = '';
    let stderr = '';
    service.child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    service.child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => void this.stop(service), timeoutMs);
    const done = service.exited.then((code) => {
      clearTimeout(timer);
      this.#services = this.#services.filter((s) => s !== service);
      if (code === 'spawn-error') throw new Error(`cannot run ${command}: ${service.output().trim()}`);
      return { code: typeof code === 'number' ? code : null, stdout, stderr };
    });
    return { service, done };
  }

  /** Runs a command to completion, killing its group if it outlives `timeoutMs`. */
  run(command: string, args: string[], timeoutMs: number): Promise<RunResult> {
    return this.launch(command, args, timeoutMs).done;
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

/** Fails unless every tool is on PATH, saying how to install it (Debian packages). */
export function requireTools(tools: readonly string[] = ['nginx', 'wrk']): void {
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not on PATH; install it with: apt-get install -y nginx wrk`);
    }
  }
}

/**
 * Runs a benchmark's `main` in a fresh {@link Scope}, closed however `main` ends: on success, on an
 * error (printed as `name: message`, exit code 1) and on SIGINT/SIGTERM/SIGHUP (exit code 130).
 */
export async function runInScope(name: string, main: (scope: Scope) => Promise<void>): Promise<void> {
  const scope = new Scope();
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A second Ctrl-C must not kill the harness before its (bounded) cleanup has stopped the children.
      if (interrupted) return;
      interrupted = true; // the run in flight fails as its children die; that error is not news
      console.error(`\n${signal}: stopping children and removing temp dirs`);
      void scope.close().finally(() => process.exit(130));
    });
  }
  try {
    await main(scope);
  } catch (err) {
    if (!interrupted) console.error(`${name}: ${(err as Error).message}`);
    process.exitCode = interrupted ? 130 : 1;
  } finally {
    await scope.close();
  }
}

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux). */
let ticksPerSecond: number | undefined;

/**
 * CPU time (user + system, all threads) the service's process has used so far, in ms, from
 * /proc/<pid>/stat; 10 ms resolution. NaN where /proc cannot be read.
 */
export function cpuTimeMs(service: Service): number {
  const split = cpuSplitMs(service);
  return split.userMs + split.systemMs;
}

/** User and system CPU time, in ms. */
export interface CpuSplit {
  readonly userMs: number;
  readonly systemMs: number;
}

/**
 * CPU time the service has used so far, user and system apart: its process (all threads) and the
 * processes it started directly (nginx's workers under its master), from /proc/<pid>/stat; 10 ms
 * resolution. NaN where /proc cannot be read.
 */
export function cpuSplitMs(service: Service): CpuSplit {
  const pid = service.child.pid;
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    let user = 0;
    let system = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      // After "pid (comm) ": state is field 3, ppid 4, utime 14 and stime 15 (proc(5)); comm may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(entry) !== pid && Number(fields[1]) !== pid) continue;
      user += Number(fields[11]);
      system += Number(fields[12]);
    }
    return { userMs: (user * 1000) / ticksPerSecond, systemMs: (system * 1000) / ticksPerSecond };
  } catch {
    return { userMs: NaN, systemMs: NaN };
  }
}
