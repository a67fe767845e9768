/**
 * Running wrk against one target and reading its report.
 */
import { HOST } from './net.ts';
import type { Scope } from './processes.ts';

/** One wrk run, reduced to the figures the benchmark reports. Latencies are in milliseconds. */
export interface WrkResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Responses with status ≥ 400 (wrk's "Non-2xx or 3xx responses"). */
  non2xx: number;
  /** wrk's socket errors: connect + read + write + timeout. */
  socketErrors: number;
}

/** Load shape of a run. */
export interface WrkOptions {
  port: number;
  path: string;
  host: string;
  durationSec: number;
  connections: number;
  threads: number;
  /** A wrk Lua script (`-s`), e.g. lib/varying-key.lua. */
  script?: string;
  /** `https` for wrk over TLS (HTTP/1.1); `http` when not given. */
  scheme?: 'http' | 'https';
}

// wrk formats times with these suffixes (format_time_us in its units.c).
const TIME_UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

function timeMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`wrk: unreadable time ${JSON.stringify(text)}`);
  return Number(match[1]) * (TIME_UNITS_MS[match[2] ?? ''] ?? NaN);
}

function required(output: string, pattern: RegExp, what: string): string {
  const value = pattern.exec(output)?.[1];
  if (value === undefined) throw new Error(`wrk: no ${what} in its output:\n${output}`);
  return value;
}

/** Parses the text wrk prints with `--latency`. Error lines are absent when there were none. */
export function parseWrk(output: string): WrkResult {
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSec: Number(required(output, /^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')),
    p50Ms: timeMs(required(output, /^\s+50%\s+(\S+)/m, '50% latency')),
    p99Ms: timeMs(required(output, /^\s+99%\s+(\S+)/m, '99% latency')),
    requests: Number(required(output, /^\s+(\d+) requests in/m, 'request count')),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

/** A wrk run under way: its parsed report once it ends, and a way to abandon it. */
export interface WrkRun {
  result: Promise<WrkResult>;
  /** Stops wrk; `result` then rejects, and nobody needs to wait for it. */
  abandon(): Promise<void>;
}

/** Starts wrk (killed if it overruns its duration by 15 s); see {@link runWrk}. */
export function startWrk(scope: Scope, opts: WrkOptions): WrkRun {
  const args = [
    `-t${opts.threads}`,
    `-c${opts.connections}`,
    `-d${opts.durationSec}s`,
    '--latency',
    '-H', `Host: ${opts.host}`,
    ...(opts.script === undefined ? [] : ['-s', opts.script]),
    `${opts.scheme ?? 'http'}://${HOST}:${opts.port}${opts.path}`,
  ];
  const { service, done } = scope.launch('wrk', args, opts.durationSec * 1_000 + 15_000);
  const result = done.then(({ code, stdout, stderr }) => {
    if (code !== 0) throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${stderr}${stdout}`);
    return parseWrk(stdout);
  });
  return {
    result,
    abandon: async () => {
      result.catch(() => {});
      await scope.stop(service);
    },
  };
}

/** Runs wrk once (killed if it overruns its duration by 15 s) and parses its report. */
export function runWrk(scope: Scope, opts: WrkOptions): Promise<WrkResult> {
  return startWrk(scope, opts).result;
}
