/**
 * Part 3 of policies.ts: what per-worker balancer state means. Two Node upstreams, one answering
 * after ~20 ms (slow) and one after ~1 ms (fast), behind signalbox with `--workers 1` and then
 * `--workers 2`; under closed-loop load at a few connection counts, the share of requests the slow
 * one answered (its own count) under least-request and EWMA, next to round robin's, which must be
 * 50%. Each worker counts only its own requests in flight, so what matters is how many of them one
 * worker has: connections / workers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LbPolicy } from '../../src/model/policy.ts';
import { requestCount, startDelayUpstream, type DelayUpstream } from './delay-upstream.ts';
import { freePort, get } from './net.ts';
import type { Scope } from './processes.ts';
import { formatMs, formatRate, formatRows, median } from './report.ts';
import { BENCH_HOST, startSignalbox, waitForPolicy, type Signalbox } from './signalbox.ts';
import { connectionsPerLoop } from './worker-split.ts';
import { runWrk, startWrk } from './wrk.ts';

/** Delays of the two upstreams, in ms. */
export const SLOW_MS = 20;
export const FAST_MS = 1;
const POLICIES: readonly LbPolicy[] = ['least-request', 'ewma', 'round-robin'];

/** Load shape of part 3. */
export interface StateOptions {
  durationSec: number;
  /** wrk connection counts, each measured under every worker count and policy, e.g. [32, 4]. */
  connections: readonly number[];
  rounds: number;
  /** Worker counts to compare, e.g. [1, 2]. */
  workers: readonly number[];
}

/** One measured run: what each upstream answered and what wrk saw. */
export interface StateRun {
  connections: number;
  workers: number;
  policy: LbPolicy;
  round: number;
  /** Client connections per worker, read 300 ms into the run (lib/worker-split.ts), e.g. [1, 1]; null without /proc. */
  split: number[] | null;
  /** wrk starts it took to get an even split (1 when the split was not asked to be even). */
  attempts: number;
  slowRequests: number;
  fastRequests: number;
  /** slow / (slow + fast). */
  slowShare: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Medians of the runs of one connection count, worker count and policy. */
export interface StateSummary {
  connections: number;
  workers: number;
  policy: LbPolicy;
  runs: number;
  slowShare: number;
  /** Each run's connection split and slow share, e.g. "1+1 47.0%". */
  perRun: string[];
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Fails unless signalbox runs `workers` data-plane workers (`signalbox_workers` on /metrics). */
async function checkWorkers(sb: Signalbox, workers: number): Promise<void> {
  const metrics = (await get(sb.ports.admin, '/metrics')).body;
  const running = Number(/^signalbox_workers (\S+)$/m.exec(metrics)?.[1] ?? NaN);
  if (running !== workers) throw new Error(`signalbox reports ${running} workers, expected ${workers}`);
}

/** wrk starts allowed per run while waiting for an even connection split. */
const MAX_ATTEMPTS = 10;
/** When the split is read: wrk has opened its connections long before. */
const SPLIT_PROBE_MS = 300;

/**
 * Whether a run insists on an even split of its connections over the workers: with at most two
 * connections per worker the split decides the outcome (2+0 is one worker with two connections,
 * not two workers with one), so wrk is restarted until the kernel spreads them evenly (at most
 * {@link MAX_ATTEMPTS} starts). With more connections, whatever split comes is measured.
 */
function wantsEvenSplit(connections: number, workers: number): boolean {
  return workers > 1 && connections <= 2 * workers;
}

function isEven(split: readonly number[]): boolean {
  return Math.max(...split) - Math.min(...split) <= 1;
}

/**
 * One measured run on a fresh signalbox (so no run inherits another's in-flight counts or EWMA
 * history): start it with `workers` workers and `policy`, warm up for 1 s, reset the upstreams'
 * counts, run wrk (restarted while the split is not even, when that matters), read the counts,
 * stop signalbox.
 */
async function measureRun(
  scope: Scope,
  root: string,
  upstreams: [DelayUpstream, DelayUpstream],
  run: Pick<StateRun, 'workers' | 'policy' | 'connections' | 'round'>,
  durationSec: number,
): Promise<StateRun> {
  const [slow, fast] = upstreams;
  const sb = await startSignalbox(scope, root, [slow.port, fast.port], { http: await freePort(), admin: await freePort() }, {
    workers: run.workers,
    annotations: { 'signalbox.dev/lb-policy': run.policy },
  });
  try {
    await checkWorkers(sb, run.workers);
    await waitForPolicy(sb, run.policy, 2);
    const load = (seconds: number) => ({ port: sb.ports.http, path: '/', host: BENCH_HOST, durationSec: seconds, connections: run.connections, threads: 1 });
    await runWrk(scope, load(1)); // warm-up: connections to both upstreams, JIT, first EWMA samples
    const even = wantsEvenSplit(run.connections, run.workers);
    for (let attempts = 1; ; attempts++) {
      await sleep(2 * SLOW_MS); // requests of the warm-up or of an abandoned start still in flight
      await Promise.all([requestCount(slow, true), requestCount(fast, true)]);
      const wrk = startWrk(scope, load(durationSec));
      await sleep(SPLIT_PROBE_MS);
      const split = connectionsPerLoop(sb.service.child.pid!, sb.ports.http, run.workers);
      if (even && split !== null && !isEven(split) && attempts < MAX_ATTEMPTS) {
        await wrk.abandon();
        continue;
      }
      const result = await wrk.result;
      await sleep(5 * SLOW_MS); // requests still in flight at the upstreams when wrk stopped
      const [slowRequests, fastRequests] = await Promise.all([requestCount(slow), requestCount(fast)]);
      return {
        ...run, split, attempts, slowRequests, fastRequests,
        slowShare: slowRequests / (slowRequests + fastRequests),
        requestsPerSec: result.requestsPerSec, p50Ms: result.p50Ms, p99Ms: result.p99Ms, errors: result.non2xx + result.socketErrors,
      };
    }
  } finally {
    await scope.stop(sb.service);
  }
}

/** Medians per connection count, worker count and policy, in that order. */
function summariseState(runs: readonly StateRun[], opts: StateOptions): StateSummary[] {
  return opts.connections.flatMap((connections) =>
    opts.workers.flatMap((workers) =>
      POLICIES.map((policy) => {
        const mine = runs.filter((r) => r.connections === connections && r.workers === workers && r.policy === policy);
        return {
          connections, workers, policy, runs: mine.length,
          slowShare: median(mine.map((r) => r.slowShare)),
          perRun: mine.map((r) => `${formatSplit(r.split)} ${percent(r.slowShare)}`),
          requestsPerSec: median(mine.map((r) => r.requestsPerSec)),
          p50Ms: median(mine.map((r) => r.p50Ms)),
          p99Ms: median(mine.map((r) => r.p99Ms)),
          errors: mine.reduce((n, r) => n + r.errors, 0),
        };
      }),
    ),
  );
}

/** Runs part 3: every worker count, policy and connection count in every round (worker and policy order reversed in even rounds). */
export async function measureWorkerState(scope: Scope, root: string, opts: StateOptions, log: (line: string) => void): Promise<{ runs: StateRun[]; summary: StateSummary[] }> {
  const slow = await startDelayUpstream(scope, 'slow-upstream', await freePort(), SLOW_MS);
  const fast = await startDelayUpstream(scope, 'fast-upstream', await freePort(), FAST_MS);
  log(`slow upstream (${SLOW_MS} ms) on ${slow.port}, fast upstream (${FAST_MS} ms) on ${fast.port}`);
  const runs: StateRun[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const reversed = round % 2 === 0;
    for (const workers of reversed ? opts.workers.toReversed() : opts.workers) {
      for (const policy of reversed ? POLICIES.toReversed() : POLICIES) {
        for (const connections of opts.connections) {
          const run = await measureRun(scope, root, [slow, fast], { workers, policy, connections, round }, opts.durationSec);
          runs.push(run);
          log(
            `round ${round} -c${String(connections).padEnd(3)} workers ${workers} (${formatSplit(run.split)}${run.attempts > 1 ? `, start ${run.attempts}` : ''}) ${policy.padEnd(14)} slow ${percent(run.slowShare).padStart(6)}` +
              `  (${run.slowRequests} slow, ${run.fastRequests} fast)  ${formatRate(run.requestsPerSec)} req/s` +
              `  p50 ${formatMs(run.p50Ms)}  p99 ${formatMs(run.p99Ms)}${run.errors ? `  errors ${run.errors}` : ''}`,
          );
        }
      }
    }
  }
  const summary = summariseState(runs, opts);
  for (const s of summary) {
    // Round robin alternates exactly; anything else means the counts are not what this part assumes.
    if (s.policy === 'round-robin' && Math.abs(s.slowShare - 0.5) > 0.02) log(`warning: round robin sent ${percent(s.slowShare)} to the slow upstream at -c${s.connections} with ${s.workers} worker(s), not 50%`);
  }
  return { runs, summary };
}

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** A connection split as "16+16" (connections per worker), "?" when unknown. */
function formatSplit(split: number[] | null): string {
  return split === null ? '?' : split.join('+');
}

/** The summary as a text table; the last column has every run: its connection split and slow share. */
export function formatStateTable(summary: readonly StateSummary[]): string {
  const rows = [['conns', 'workers', 'policy', 'slow share', 'req/s', 'p50', 'p99', 'errors']];
  const last = ['each run: connections per worker, slow share'];
  for (const s of summary) {
    rows.push([
      String(s.connections), String(s.workers), s.policy, percent(s.slowShare),
      formatRate(s.requestsPerSec), formatMs(s.p50Ms), formatMs(s.p99Ms), String(s.errors),
    ]);
    last.push(s.perRun.join(', '));
  }
  return formatRows(rows, 3).split('\n').map((line, i) => `${line}  ${last[i]}`).join('\n');
}
