/**
 * Part 1 of policies.ts: what each balancing policy costs per request, against round robin, with
 * only the policy changing. One nginx listens on 4 ports (4 endpoints that cost exactly the same),
 * one signalbox (1 worker) serves them for the whole part, and for each policy the Service's
 * annotations are rewritten in its manifest directory; wrk sends a new `x-key` per request
 * (lib/varying-key.lua), which ring-hash and maglev hash. Round robin runs between every two other
 * policies, so each run is compared with the round-robin runs just before and after it: the
 * machine's drift over minutes hits both sides of each ratio alike. Besides wrk's req/s, each run
 * records signalbox's own CPU time per request, which other load on the machine disturbs far less.
 */
import { fileURLToPath } from 'node:url';
import { LB_POLICIES, type LbPolicy } from '../../src/model/policy.ts';
import { PORT_PATH, startNginx, upstreamConfig } from './nginx.ts';
import { freePort, get } from './net.ts';
import { cpuTimeMs, type Scope } from './processes.ts';
import { formatRows, formatRunStart, formatSigned, median, throughputCells } from './report.ts';
import { BENCH_HOST, setServiceAnnotations, startSignalbox, waitForPolicy, type Signalbox } from './signalbox.ts';
import { runWrk, type WrkResult } from './wrk.ts';

/** Endpoints of the Service: ports of the one upstream nginx. */
export const ENDPOINTS = 4;

const KEY_SCRIPT = fileURLToPath(new URL('./varying-key.lua', import.meta.url));
const HASHING: ReadonlySet<LbPolicy> = new Set(['ring-hash', 'maglev']);
const REFERENCE: LbPolicy = 'round-robin';

/** Load shape of part 1. */
export interface CostOptions {
  durationSec: number;
  /** Unmeasured load after every policy switch. */
  warmupSec: number;
  rounds: number;
  connections: number;
}

/** One measured wrk run under one policy. */
export interface PolicyRun extends WrkResult {
  policy: LbPolicy;
  round: number;
  /** CPU time signalbox used during the run (all threads, /proc), in µs, per request wrk completed. */
  cpuUsPerRequest: number;
  /** req/s over the mean of the round-robin runs just before and after; null for round robin itself. */
  overRoundRobin: number | null;
  /** CPU µs per request minus that of the round-robin runs around it (their mean); null for round robin itself. */
  extraCpuUsPerRequest: number | null;
}

/** Medians of one policy's runs. */
export interface PolicySummary {
  policy: LbPolicy;
  runs: number;
  requestsPerSec: number;
  /** Lowest and highest req/s over the runs: round robin's show how far the machine drifted. */
  requestsPerSecMin: number;
  requestsPerSecMax: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
  cpuUsPerRequest: number;
  /** Median of the runs' {@link PolicyRun.overRoundRobin} (1 for round robin). */
  overRoundRobin: number;
  /** Median of the runs' {@link PolicyRun.extraCpuUsPerRequest} (0 for round robin). */
  extraCpuUsPerRequest: number;
}

/** What sequential requests with distinct keys reached after a switch, by upstream port. */
export interface SpreadCheck {
  policy: LbPolicy;
  requests: number;
  byPort: Record<string, number>;
  /** Ports that 8 requests with one fixed key reached (hashing policies: must be 1). */
  fixedKeyPorts: number | null;
}

/** The Service annotations selecting `policy`; hashing policies hash the `x-key` header. */
export function policyAnnotations(policy: LbPolicy): Record<string, string> {
  const annotations: Record<string, string> = { 'signalbox.dev/lb-policy': policy };
  if (HASHING.has(policy)) annotations['signalbox.dev/hash-on'] = 'header:x-key';
  return annotations;
}

/**
 * The measuring order: round robin, then every other policy each followed by round robin; the
 * others as listed in odd rounds and reversed in even ones. Rounds share their boundary round-robin
 * run (rr A rr B rr … rr F rr, then F rr E rr …).
 */
export function policySchedule(rounds: number): Array<{ policy: LbPolicy; round: number }> {
  const others = LB_POLICIES.filter((p) => p !== REFERENCE);
  const order: Array<{ policy: LbPolicy; round: number }> = [{ policy: REFERENCE, round: 1 }];
  for (let round = 1; round <= rounds; round++) {
    for (const policy of round % 2 === 1 ? others : others.toReversed()) order.push({ policy, round }, { policy: REFERENCE, round });
  }
  return order;
}

/** `GET /port` through signalbox `count` times with keys from `key(i)`; requests per upstream port. */
async function portsReached(sb: Signalbox, count: number, key: (i: number) => string): Promise<Map<string, number>> {
  const byPort = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const res = await get(sb.ports.http, PORT_PATH, BENCH_HOST, 2_000, { 'x-key': key(i) });
    if (res.status !== 200) throw new Error(`GET ${PORT_PATH} through signalbox gave ${res.status} ${JSON.stringify(res.body.slice(0, 200))}`);
    const port = res.body.trim();
    byPort.set(port, (byPort.get(port) ?? 0) + 1);
  }
  return byPort;
}

/** Checks the policy in force spreads distinct keys, and, if it hashes, keeps one key on one endpoint. */
async function checkSpread(sb: Signalbox, policy: LbPolicy): Promise<SpreadCheck> {
  const requests = 40;
  const byPort = await portsReached(sb, requests, (i) => `check-${i}`);
  let fixedKeyPorts: number | null = null;
  if (HASHING.has(policy)) {
    fixedKeyPorts = (await portsReached(sb, 8, () => 'one-fixed-key')).size;
    if (fixedKeyPorts !== 1) throw new Error(`${policy}: one x-key reached ${fixedKeyPorts} endpoints, so signalbox is not hashing it`);
  }
  return { policy, requests, byPort: Object.fromEntries(byPort), fixedKeyPorts };
}

/** Fills in each run's ratio to the round-robin runs around it (the schedule puts one on each side). */
function compareWithNeighbours(runs: PolicyRun[]): void {
  runs.forEach((run, i) => {
    if (run.policy === REFERENCE) return;
    const around = [runs[i - 1], runs[i + 1]].filter((r) => r?.policy === REFERENCE) as PolicyRun[];
    if (around.length === 0) return;
    const mean = (f: (r: PolicyRun) => number): number => around.reduce((sum, r) => sum + f(r), 0) / around.length;
    run.overRoundRobin = run.requestsPerSec / mean((r) => r.requestsPerSec);
    run.extraCpuUsPerRequest = run.cpuUsPerRequest - mean((r) => r.cpuUsPerRequest);
  });
}

/** Medians per policy, in {@link LB_POLICIES} order. */
export function summarisePolicies(runs: readonly PolicyRun[]): PolicySummary[] {
  return LB_POLICIES.flatMap((policy) => {
    const mine = runs.filter((r) => r.policy === policy);
    if (mine.length === 0) return [];
    const rates = mine.map((r) => r.requestsPerSec);
    return [
      {
        policy,
        runs: mine.length,
        requestsPerSec: median(rates),
        requestsPerSecMin: Math.min(...rates),
        requestsPerSecMax: Math.max(...rates),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        non2xx: mine.reduce((n, r) => n + r.non2xx, 0),
        socketErrors: mine.reduce((n, r) => n + r.socketErrors, 0),
        cpuUsPerRequest: median(mine.map((r) => r.cpuUsPerRequest)),
        overRoundRobin: policy === REFERENCE ? 1 : median(mine.map((r) => r.overRoundRobin ?? NaN)),
        extraCpuUsPerRequest: policy === REFERENCE ? 0 : median(mine.map((r) => r.extraCpuUsPerRequest ?? NaN)),
      },
    ];
  });
}

/** The summary as a text table. */
export function formatPolicyTable(summary: readonly PolicySummary[]): string {
  const rows = [['policy', 'req/s', '(min–max)', 'p50', 'p99', '×rr req/s', 'CPU µs/req', 'Δ vs rr', 'errors', 'runs']];
  for (const s of summary) {
    rows.push([
      s.policy,
      ...throughputCells(s),
      s.overRoundRobin.toFixed(2),
      s.cpuUsPerRequest.toFixed(1),
      formatSigned(s.extraCpuUsPerRequest, 2),
      String(s.non2xx + s.socketErrors),
      String(s.runs),
    ]);
  }
  return formatRows(rows);
}

/** Runs part 1; `log` gets a line per measured run. */
export async function measurePolicyCost(
  scope: Scope,
  root: string,
  opts: CostOptions,
  log: (line: string) => void,
): Promise<{ runs: PolicyRun[]; summary: PolicySummary[]; spread: SpreadCheck[] }> {
  const ports = await Promise.all(Array.from({ length: ENDPOINTS }, () => freePort()));
  await startNginx(scope, 'upstream', ports[0]!, (prefix) => upstreamConfig(prefix, ports));
  const sb = await startSignalbox(scope, root, ports, { http: await freePort(), admin: await freePort() }, { workers: 1, annotations: policyAnnotations(REFERENCE) });
  await waitForPolicy(sb, REFERENCE, ENDPOINTS);
  const load = (durationSec: number) => ({
    port: sb.ports.http, path: '/', host: BENCH_HOST, durationSec, connections: opts.connections, threads: 1, script: KEY_SCRIPT,
  });
  log(`upstream nginx on ports ${ports.join(', ')}; signalbox on ${sb.ports.http} (admin ${sb.ports.admin}); first warm-up`);
  await runWrk(scope, load(Math.max(opts.warmupSec, 5))); // a fresh process: JIT, connection pools

  const runs: PolicyRun[] = [];
  const spread: SpreadCheck[] = [];
  for (const { policy, round } of policySchedule(opts.rounds)) {
    setServiceAnnotations(sb, policyAnnotations(policy));
    const version = await waitForPolicy(sb, policy, ENDPOINTS);
    const check = await checkSpread(sb, policy);
    spread.push(check);
    if (opts.warmupSec > 0) await runWrk(scope, load(opts.warmupSec));
    const cpuBefore = cpuTimeMs(sb.service);
    const result = await runWrk(scope, load(opts.durationSec));
    const cpuUsPerRequest = ((cpuTimeMs(sb.service) - cpuBefore) * 1000) / result.requests;
    runs.push({ policy, round, ...result, cpuUsPerRequest, overRoundRobin: null, extraCpuUsPerRequest: null });
    const errors = result.non2xx + result.socketErrors;
    log(
      `${formatRunStart(round, policy, 20, result)}  CPU ${cpuUsPerRequest.toFixed(1)} µs/req` +
        `  (table v${version}; ${check.requests} keys reached ${Object.keys(check.byPort).length}/${ENDPOINTS} endpoints)${errors ? `  errors ${errors}` : ''}`,
    );
  }
  compareWithNeighbours(runs);
  return { runs, summary: summarisePolicies(runs), spread };
}
