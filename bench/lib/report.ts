/**
 * Summarising runs into medians and ratios, and printing them so they can be read months later:
 * the machine, the load shape and every raw run go along with the table.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import type { WrkResult } from './wrk.ts';

/**
 * The targets the benchmark knows, in report order. `baseline` is signalbox from another checkout
 * (`--baseline DIR`), measured in the same run to say what a change costs.
 */
export const TARGETS = ['direct', 'nginx', 'relay', 'answer', 'undici-floor', 'h1-floor', 'raw-floor', 'signalbox', 'baseline'] as const;

/** One of {@link TARGETS}. */
export type Target = (typeof TARGETS)[number];

/** One measured wrk run. */
export interface Run extends WrkResult {
  target: Target;
  round: number;
  /** CPU the target's processes used per request during the run, user and system apart, in µs. */
  userUsPerRequest?: number;
  systemUsPerRequest?: number;
}

/** The medians of one target's runs; errors are summed, since any error matters. */
export interface TargetSummary {
  target: Target;
  runs: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
  /** Medians of the runs' CPU per request (µs), where it was measured. */
  userUsPerRequest?: number;
  systemUsPerRequest?: number;
}

/** What the figures were measured on. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  loadAverage1m: number;
  kernel: string;
  node: string;
  nginx: string;
  wrk: string;
}

/** The median; the mean of the middle two for an even count. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? NaN) + upper) / 2;
}

/** Median figures per target, in {@link TARGETS} order, for the targets that have runs. */
export function summarise(runs: Run[]): TargetSummary[] {
  return TARGETS.flatMap((target) => {
    const mine = runs.filter((r) => r.target === target);
    if (mine.length === 0) return [];
    return [
      {
        target,
        runs: mine.length,
        requestsPerSec: median(mine.map((r) => r.requestsPerSec)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        non2xx: mine.reduce((n, r) => n + r.non2xx, 0),
        socketErrors: mine.reduce((n, r) => n + r.socketErrors, 0),
        ...(mine.every((r) => r.userUsPerRequest !== undefined && r.systemUsPerRequest !== undefined)
          ? { userUsPerRequest: median(mine.map((r) => r.userUsPerRequest!)), systemUsPerRequest: median(mine.map((r) => r.systemUsPerRequest!)) }
          : {}),
      },
    ];
  });
}

/** `a/b` of median requests/s, or null when either target was not measured. */
export function ratio(summary: TargetSummary[], a: Target, b: Target): number | null {
  const x = summary.find((s) => s.target === a)?.requestsPerSec;
  const y = summary.find((s) => s.target === b)?.requestsPerSec;
  return x === undefined || y === undefined || y === 0 ? null : x / y;
}

function firstLine(command: string, args: string[]): string {
  // nginx -v prints to stderr and wrk -v exits 1 after its banner: take whatever came out.
  const out = spawnSync(command, args, { encoding: 'utf8', timeout: 5_000 });
  return `${out.stdout ?? ''}${out.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
}

/** Describes this machine and the tool versions. */
export function machine(): Machine {
  const info = cpus();
  return {
    cpus: info.length,
    cpuModel: info[0]?.model ?? 'unknown',
    loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
    kernel: release(),
    node: process.version,
    nginx: firstLine('nginx', ['-v']).replace(/^nginx version:\s*/, ''),
    wrk: firstLine('wrk', ['-v']).replace(/\s+Copyright.*$/, ''),
  };
}

/** A latency in the unit that keeps it short: µs below 1 ms, s from 1 s. */
export function formatMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)}µs` : ms < 1000 ? `${ms.toFixed(2)}ms` : `${(ms / 1000).toFixed(2)}s`;
}

/** A rate with thousands separators, as every bench prints req/s. */
export function formatRate(perSec: number): string {
  return Math.round(perSec).toLocaleString('en-US');
}

/** `round N name` and one run's req/s, p50 and p99: how every bench starts its line per run. */
export function formatRunStart(round: number, name: string, width: number, result: { requestsPerSec: number; p50Ms: number; p99Ms: number }): string {
  return `round ${round} ${name.padEnd(width)} ${formatRate(result.requestsPerSec).padStart(8)} req/s  p50 ${formatMs(result.p50Ms)}  p99 ${formatMs(result.p99Ms)}`;
}

/** The req/s, (min–max), p50 and p99 cells of a summary row compared across runs. */
export function throughputCells(s: { requestsPerSec: number; requestsPerSecMin: number; requestsPerSecMax: number; p50Ms: number; p99Ms: number }): string[] {
  const thousands = (x: number): string => `${(x / 1000).toFixed(1)}k`;
  return [formatRate(s.requestsPerSec), `(${thousands(s.requestsPerSecMin)}–${thousands(s.requestsPerSecMax)})`, formatMs(s.p50Ms), formatMs(s.p99Ms)];
}

/** `x` with `digits` decimals and a sign, `+` included. */
export function formatSigned(x: number, digits: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
}

/** The summary as an aligned text table. */
export function formatTable(summary: TargetSummary[]): string {
  const cpu = summary.some((s) => s.userUsPerRequest !== undefined);
  const rows = [['target', 'req/s', 'p50', 'p99', 'non-2xx', 'socket err', 'runs', ...(cpu ? ['CPU µs/req', 'user', 'system'] : [])]];
  for (const s of summary) {
    const user = s.userUsPerRequest;
    const system = s.systemUsPerRequest;
    rows.push([
      s.target,
      formatRate(s.requestsPerSec),
      formatMs(s.p50Ms),
      formatMs(s.p99Ms),
      String(s.non2xx),
      String(s.socketErrors),
      String(s.runs),
      ...(cpu ? (user === undefined || system === undefined ? ['', '', ''] : [(user + system).toFixed(1), user.toFixed(1), system.toFixed(1)]) : []),
    ]);
  }
  return formatRows(rows);
}

/** Rows of cells as an aligned text table: the first `left` columns left-aligned, the others right-aligned. */
export function formatRows(rows: string[][], left = 1): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (i < left ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '))
    .join('\n');
}

/** Writes `report` as bench/results/<name>-<timestamp>.json and returns the path. */
export function writeJson(benchDir: string, startedAt: Date, report: object, name = 'proxy'): string {
  const dir = join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
