/**
 * Running commands and keeping track of the environment's long-lived processes. Every server is
 * started detached (its own session, so a Ctrl-C in the terminal reaches only `up`, which then tears
 * everything down in order) with a pid file, so that `down` — another process, maybe after a crash —
 * finds and stops it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a command printed. */
export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** Thrown by {@link run} when a command fails; the message carries its stderr. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly status: number | null;
  readonly stderr: string;

  constructor(command: string, status: number | null, stderr: string) {
    super(`${command} failed (${status ?? 'killed'}): ${stderr.trim()}`);
    this.status = status;
    this.stderr = stderr;
  }
}

/** Runs `command args…` to completion; throws {@link CommandError} unless it exits 0. */
export function run(command: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandOutput> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (status) => {
      if (status === 0) done({ stdout, stderr });
      else fail(new CommandError(`${command} ${args.join(' ')}`, status, stderr));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** {@link run}, but a failure is only reported as false: for clean-up steps that may find nothing to do. */
export async function tryRun(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await run(command, args);
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link startDaemon}. */
export interface DaemonOptions {
  /** Pid file directory; the file is `<name>.pid`. */
  readonly pidDir: string;
  /** Where stdout and stderr go (appended). */
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** A started daemon: its pid and a promise of how it exited. */
export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<string>;
}

/**
 * Starts `command args…` in a session of its own with its output in `logFile`, and writes its pid
 * file. The process is not waited for by this one: it outlives `up` until `down` stops it.
 */
export async function startDaemon(name: string, command: string, args: readonly string[], options: DaemonOptions): Promise<Daemon> {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, { stdio: ['ignore', log, log], detached: true, env: options.env ?? process.env });
    const exited = new Promise<string>((done) => {
      child.on('error', (error) => done(error.message));
      child.on('exit', (code, signal) => done(signal !== null ? `killed by ${signal}` : `exited with ${code}`));
    });
    if (child.pid === undefined) throw new Error(`${name}: could not start ${command}: ${await exited}`);
    child.unref();
    await writeFile(join(options.pidDir, `${name}.pid`), `${child.pid}\n`);
    return { name, pid: child.pid, exited };
  } finally {
    closeSync(log);
  }
}

/** Whether process `pid` exists (a zombie counts as gone). */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may itself contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Sends SIGTERM to each pid, waits up to `graceMs` for them to go, then SIGKILLs what is left.
 * These are not our children (another `up` started them), so there is no exit event to await: the
 * processes are polled.
 */
export async function terminate(pids: readonly number[], graceMs: number): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // Gone already.
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = pids;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = (await Promise.all(left.map(async (pid) => ((await alive(pid)) ? pid : null)))).filter((p): p is number => p !== null);
  }
  for (const pid of left) signal(pid, 'SIGKILL');
}

/** The daemons of a pid directory, last started first. */
export async function pidFiles(pidDir: string): Promise<{ name: string; pid: number }[]> {
  let names: string[];
  try {
    names = await readdir(pidDir);
  } catch {
    return [];
  }
  const found: { name: string; pid: number }[] = [];
  for (const file of names) {
    if (!file.endsWith('.pid')) continue;
    const text = await readFile(join(pidDir, file), 'utf8').catch(() => '');
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 1) found.push({ name: file.slice(0, -4), pid });
  }
  // Names start with their start order (`20-kube-apiserver`), so the reverse of the name order stops
  // the API server's clients before it, and it before etcd.
  return found.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

/** Removes a pid file (the daemon was stopped). */
export async function removePidFile(pidDir: string, name: string): Promise<void> {
  await rm(join(pidDir, `${name}.pid`), { force: true });
}
