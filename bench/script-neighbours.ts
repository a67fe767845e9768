/**
 * The RouteScript neighbour benchmark: what a script that burns its budget on every request does
 * to another route of the same signalbox worker. One nginx (`return 200`), one signalbox
 * (`--workers 1`) with two Ingress routes to it: `bench.local` (no script, the victim) and
 * `spin.local`, whose RouteScript spins for `--spin` ms of a budget a tenth larger on every request.
 * Each round measures the victim alone, then again while wrk keeps two requests on the spinning
 * route in flight (its script then runs back to back: one core's worth), and prints the victim's
 * p50 and p99 and what the spinning added to them. Writes bench/results/script-neighbours-<timestamp>.json.
 * See bench/README.md.
 *
 *   node bench/script-neighbours.ts [--duration 8] [--rounds 3] [--connections 4] [--spin 90]
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startNginx, upstreamConfig } from './lib/nginx.ts';
import { freePort } from './lib/net.ts';
import { intOption } from './lib/options.ts';
import { requireTools, runInScope, type Scope } from './lib/processes.ts';
import { formatRows, formatSigned, machine, median, writeJson } from './lib/report.ts';
import { BENCH_HOST, startSignalbox, waitForTable, type Signalbox } from './lib/signalbox.ts';
import { runWrk, startWrk, type WrkResult } from './lib/wrk.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const NAMESPACE = 'default';
const SPIN_HOST = 'spin.local';
const SCRIPT_ID = `${NAMESPACE}/spin`;
/** Connections on the spinning route: one request running in the isolate, one waiting behind it. */
const SPIN_CONNECTIONS = 2;

const HELP = `usage: node bench/script-neighbours.ts [options]
  --duration S       seconds per measured victim run (default 8)
  --rounds N         alone/spinning pairs (default 3)
  --connections N    wrk connections on the victim route (default 4)
  --spin MS          CPU the spinning script burns per request; its budget is a tenth more (default 90)`;

interface Options {
  durationSec: number;
  rounds: number;
  connections: number;
  spinMs: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '8' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '4' },
      spin: { type: 'string', default: '90' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  return {
    durationSec: intOption('duration', values.duration, 1),
    rounds: intOption('rounds', values.rounds, 1),
    connections: intOption('connections', values.connections, 1),
    spinMs: intOption('spin', values.spin, 1),
  };
}

/** The spinning route: an Ingress on {@link SPIN_HOST} to the bench Service, and its RouteScript. */
function spinManifests(spinMs: number): object[] {
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'spin', namespace: NAMESPACE },
      spec: {
        ingressClassName: 'signalbox',
        rules: [{ host: SPIN_HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'bench-upstream', port: { number: 80 } } } }] } }],
      },
    },
    {
      apiVersion: 'signalbox.dev/v1alpha1',
      kind: 'RouteScript',
      metadata: { name: 'spin', namespace: NAMESPACE },
      spec: {
        targetRefs: [{ kind: 'Ingress', name: 'spin' }],
        // Just under its budget: it never fails, and holds its worker's CPU as long as it may.
        limits: { timeoutMs: Math.ceil(spinMs * 1.1), memoryMiB: 16 },
        failurePolicy: 'fallback',
        code: `export function onRequest() {\n  const until = Date.now() + ${spinMs};\n  while (Date.now() < until) {}\n  return null;\n}\n`,
      },
    },
  ];
}

function writeManifest(sb: Signalbox, file: string, objects: readonly object[]): void {
  const staging = join(sb.staging, file);
  writeFileSync(staging, objects.map((o) => stringify(o)).join('---\n'));
  renameSync(staging, join(sb.manifests, file));
}

interface DebugTable {
  version: number;
  table: { virtualHosts: Array<{ host: string; routes: Array<{ filters: Array<{ type: string; script?: string }> }> }> };
}

/** One measured victim run. */
interface NeighbourRun {
  round: number;
  phase: 'alone' | 'spinning';
  victim: WrkResult;
  /** The spinning route's wrk, over its whole run (spinning phase only). */
  spinner: WrkResult | null;
}

async function main(scope: Scope, opts: Options): Promise<void> {
  requireTools();
  const root = join(benchDir, '..');
  const startedAt = new Date();
  const host = machine();
  console.log(`machine: ${host.cpus} × ${host.cpuModel}, load ${host.loadAverage1m}, Linux ${host.kernel}`);
  console.log(`tools:   node ${host.node}, nginx ${host.nginx}, ${host.wrk}`);
  console.log(
    `load:    signalbox --workers 1; victim wrk -t1 -c${opts.connections} -d${opts.durationSec}s on ${BENCH_HOST} (no script); ` +
      `spinner wrk -t1 -c${SPIN_CONNECTIONS} on ${SPIN_HOST} (${opts.spinMs} ms of CPU per request, budget ${Math.ceil(opts.spinMs * 1.1)} ms); ${opts.rounds} round(s)\n`,
  );
  const upstream = await freePort();
  await startNginx(scope, 'upstream', upstream, (prefix) => upstreamConfig(prefix, [upstream]));
  const sb = await startSignalbox(scope, root, upstream, { http: await freePort(), admin: await freePort() }, { workers: 1 });
  writeManifest(sb, '40-spin.yaml', spinManifests(opts.spinMs));
  await waitForTable<DebugTable>(sb, 'the spinning route', (published) => {
    const route = published.table.virtualHosts.find((v) => v.host === SPIN_HOST)?.routes[0];
    return { ok: route !== undefined && scriptOf(route) === SCRIPT_ID, seen: `spin route script ${(route === undefined ? undefined : scriptOf(route)) ?? 'none'}` };
  });
  const victim = (durationSec: number) => ({ port: sb.ports.http, path: '/', host: BENCH_HOST, durationSec, connections: opts.connections, threads: 1 });
  await runWrk(scope, victim(3)); // a fresh process: JIT, connection pools

  const runs: NeighbourRun[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const alone = await runWrk(scope, victim(opts.durationSec));
    runs.push({ round, phase: 'alone', victim: alone, spinner: null });
    console.log(`round ${round} alone     victim p50 ${alone.p50Ms.toFixed(2)} ms  p99 ${alone.p99Ms.toFixed(2)} ms  ${Math.round(alone.requestsPerSec)} req/s`);
    const spinner = startWrk(scope, { port: sb.ports.http, path: '/', host: SPIN_HOST, durationSec: opts.durationSec + 3, connections: SPIN_CONNECTIONS, threads: 1 });
    await sleep(1_500); // the spinning under way
    const busy = await runWrk(scope, victim(opts.durationSec));
    const spun = await spinner.result;
    runs.push({ round, phase: 'spinning', victim: busy, spinner: spun });
    console.log(
      `round ${round} spinning  victim p50 ${busy.p50Ms.toFixed(2)} ms  p99 ${busy.p99Ms.toFixed(2)} ms  ${Math.round(busy.requestsPerSec)} req/s` +
        `  (spinner ${spun.requestsPerSec.toFixed(1)} req/s, p50 ${spun.p50Ms.toFixed(0)} ms, errors ${spun.non2xx + spun.socketErrors})`,
    );
  }

  const phase = (p: NeighbourRun['phase']) => runs.filter((r) => r.phase === p);
  const med = (rs: NeighbourRun[], f: (w: WrkResult) => number) => median(rs.map((r) => f(r.victim)));
  const aloneRuns = phase('alone');
  const busyRuns = phase('spinning');
  const summary = {
    alone: { p50Ms: med(aloneRuns, (w) => w.p50Ms), p99Ms: med(aloneRuns, (w) => w.p99Ms), requestsPerSec: med(aloneRuns, (w) => w.requestsPerSec) },
    spinning: { p50Ms: med(busyRuns, (w) => w.p50Ms), p99Ms: med(busyRuns, (w) => w.p99Ms), requestsPerSec: med(busyRuns, (w) => w.requestsPerSec) },
    spinnerRequestsPerSec: median(busyRuns.map((r) => r.spinner!.requestsPerSec)),
    // Per round, spinning minus alone; the medians of those.
    addedP50Ms: median(runs.filter((r) => r.phase === 'spinning').map((r) => r.victim.p50Ms - aloneRuns.find((a) => a.round === r.round)!.victim.p50Ms)),
    addedP99Ms: median(runs.filter((r) => r.phase === 'spinning').map((r) => r.victim.p99Ms - aloneRuns.find((a) => a.round === r.round)!.victim.p99Ms)),
  };
  const rows = [['victim', 'req/s', 'p50', 'p99', 'added p50', 'added p99']];
  rows.push(['alone', Math.round(summary.alone.requestsPerSec).toLocaleString('en'), `${summary.alone.p50Ms.toFixed(2)}ms`, `${summary.alone.p99Ms.toFixed(2)}ms`, '–', '–']);
  rows.push([
    'spinning',
    Math.round(summary.spinning.requestsPerSec).toLocaleString('en'),
    `${summary.spinning.p50Ms.toFixed(2)}ms`,
    `${summary.spinning.p99Ms.toFixed(2)}ms`,
    `${formatSigned(summary.addedP50Ms, 2)}ms`,
    `${formatSigned(summary.addedP99Ms, 2)}ms`,
  ]);
  console.log(`\nthe victim route, medians over ${opts.rounds} round(s); added = spinning minus alone, per round:\n${formatRows(rows)}`);
  console.log(`the spinning route meanwhile: ${summary.spinnerRequestsPerSec.toFixed(1)} req/s (at most ${(1000 / opts.spinMs).toFixed(1)}: one script, one request at a time)`);
  const report = { benchmark: 'script-neighbours', startedAt: startedAt.toISOString(), machine: host, options: opts, runs, summary };
  console.log(`\nwrote ${writeJson(benchDir, startedAt, report, 'script-neighbours')}`);
}

await runInScope('bench/script-neighbours.ts', (scope) => main(scope, parseOptions(process.argv.slice(2))));

/** The first RouteScript a route of the debug table runs. */
function scriptOf(route: { filters: Array<{ type: string; script?: string }> }): string | undefined {
  return route.filters.find((f) => f.type === 'RouteScript')?.script;
}
