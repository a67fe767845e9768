/**
 * The proxy benchmark: one upstream served directly, through nginx, through three floors (a Node.js
 * byte relay; the smallest node:http proxy on undici's Pool; the same on signalbox's own HTTP/1.1
 * client), node:http answering by itself (`answer`), and through signalbox, on loopback, measured
 * with wrk in one run. Prints requests/s, p50/p99 and CPU per request (user and system) per target
 * and the ratios of each against nginx and of signalbox against its floors, and writes the same as
 * JSON under bench/results/. See bench/README.md.
 *
 *   node bench/proxy.ts [--duration 10] [--connections 50] [--threads 1] [--rounds 2] [--only direct,nginx]
 *                       [--baseline DIR] [--gc]
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HEADERS_PATH, HELLO_BODY, proxyConfig, startNginx, upstreamConfig } from './lib/nginx.ts';
import { freePort, get } from './lib/net.ts';
import { intOption, onlyOption } from './lib/options.ts';
import { cpuSplitMs, requireTools, runInScope, type Scope, type Service } from './lib/processes.ts';
import { formatRunStart, formatTable, machine, median, ratio, summarise, TARGETS, writeJson, type Run, type Target } from './lib/report.ts';
import { gcDuring, GcTrace, type GcPer10k } from './lib/gc-trace.ts';
import { BENCH_HOST, startSignalbox } from './lib/signalbox.ts';
import { startFloor, type Floor } from './lib/floors.ts';
import { runWrk, type WrkOptions } from './lib/wrk.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const HELP = `usage: node bench/proxy.ts [options]
  --duration S       seconds per measured run (default 10)
  --warmup S         seconds of unmeasured load before a target's first run (default 2)
  --connections N    wrk connections (default 50)
  --threads N        wrk threads (default 1)
  --rounds N         measured runs per target; the proxies' order rotates each round (default 2)
  --path P           request path: / (20-byte body) or /1k (1 KiB body) (default /)
  --only LIST        comma-separated subset of ${TARGETS.join(',')} (default all but baseline)
  --baseline DIR     also run signalbox from the checkout in DIR (say, \`git worktree add DIR HEAD~1\`
                     with its node_modules) as target baseline, to measure a change in one run
  --gc               run signalbox (and baseline) with --trace-gc-nvp and report, per 10,000
                     requests of each measured run, the data-plane worker's GC pauses, collections,
                     bytes allocated and bytes promoted to the old generation`;

interface Options {
  durationSec: number;
  warmupSec: number;
  connections: number;
  threads: number;
  rounds: number;
  path: string;
  targets: Target[];
  /** The checkout the `baseline` target runs; null without --baseline. */
  baseline: string | null;
  /** Whether the signalbox targets run with --trace-gc-nvp and their collections are reported. */
  gc: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      threads: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '2' },
      path: { type: 'string', default: '/' },
      only: { type: 'string' },
      baseline: { type: 'string' },
      gc: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  if (!values.path.startsWith('/')) throw new Error('--path must start with /');
  const baseline = values.baseline === undefined ? null : resolve(values.baseline);
  if (baseline !== null && !existsSync(join(baseline, 'bin', 'signalbox.js'))) throw new Error(`--baseline: ${baseline} is not a signalbox checkout (no bin/signalbox.js)`);
  const targets = onlyOption(values.only ?? TARGETS.filter((t) => t !== 'baseline' || baseline !== null).join(','), TARGETS, 'target');
  if (targets.includes('baseline') && baseline === null) throw new Error('--only baseline needs --baseline DIR');
  return {
    durationSec: intOption('duration', values.duration, 1),
    warmupSec: intOption('warmup', values.warmup, 0),
    connections: intOption('connections', values.connections, 1),
    threads: intOption('threads', values.threads, 1),
    rounds: intOption('rounds', values.rounds, 1),
    path: values.path,
    targets,
    baseline,
    gc: values.gc,
  };
}

/**
 * The measuring order: direct first in each round, then the proxies, their order rotated by one each
 * round (A B C, B C A, C A B, …; with two, A B, B A) so drift on the machine hits each position alike.
 */
function schedule(targets: Target[], rounds: number): Array<{ target: Target; round: number }> {
  const order: Array<{ target: Target; round: number }> = [];
  const proxies = targets.filter((t) => t !== 'direct');
  for (let round = 1; round <= rounds; round++) {
    const shift = (round - 1) % Math.max(proxies.length, 1);
    const rotated = [...proxies.slice(shift), ...proxies.slice(0, shift)];
    for (const target of targets.includes('direct') ? ['direct' as const, ...rotated] : rotated) order.push({ target, round });
  }
  return order;
}

/** Fails unless the target proxies to the upstream; returns the forwarding headers the upstream saw. */
async function check(target: Target, port: number): Promise<string> {
  const res = await get(port, '/', BENCH_HOST);
  if (res.status !== 200 || res.body !== HELLO_BODY) {
    throw new Error(`${target} on port ${port}: GET / (Host: ${BENCH_HOST}) gave ${res.status} ${JSON.stringify(res.body.slice(0, 200))}, not the upstream's body`);
  }
  return (await get(port, HEADERS_PATH, BENCH_HOST)).body.trim();
}

async function main(scope: Scope, opts: Options): Promise<void> {
  requireTools();
  const startedAt = new Date();
  const host = machine();
  const measuring = opts.rounds * opts.targets.length * opts.durationSec + opts.targets.length * opts.warmupSec;
  console.log(`machine: ${host.cpus} × ${host.cpuModel}, load ${host.loadAverage1m}, Linux ${host.kernel}`);
  console.log(`tools:   node ${host.node}, nginx ${host.nginx}, ${host.wrk}`);
  console.log(`load:    wrk -t${opts.threads} -c${opts.connections} -d${opts.durationSec}s, path ${opts.path}, ${opts.rounds} round(s), ~${measuring}s of load\n`);

  const upstreamPort = await freePort();
  // Each target's processes, for the CPU it spends per request (nginx: its master and workers).
  const services = new Map<Target, Service>();
  services.set('direct', await startNginx(scope, 'upstream', upstreamPort, (prefix) => upstreamConfig(prefix, upstreamPort)));
  const ports = new Map<Target, number>([['direct', upstreamPort]]);
  if (opts.targets.includes('nginx')) {
    const port = await freePort();
    services.set('nginx', await startNginx(scope, 'nginx', port, (prefix) => proxyConfig(prefix, port, upstreamPort)));
    ports.set('nginx', port);
  }
  for (const floor of ['relay', 'answer', 'undici-floor', 'h1-floor', 'raw-floor'] as const satisfies readonly Floor[]) {
    if (!opts.targets.includes(floor)) continue;
    const port = await freePort();
    services.set(floor, await startFloor(scope, join(benchDir, '..'), floor, port, upstreamPort));
    ports.set(floor, port);
  }
  const gcTraces = new Map<Target, GcTrace>();
  const nodeFlags = opts.gc ? ['--trace-gc-nvp'] : [];
  if (opts.targets.includes('signalbox')) {
    const sb = { http: await freePort(), admin: await freePort() };
    const started = await startSignalbox(scope, join(benchDir, '..'), upstreamPort, sb, { nodeFlags });
    ports.set('signalbox', sb.http);
    services.set('signalbox', started.service);
    if (opts.gc) gcTraces.set('signalbox', new GcTrace(started.service));
  }
  if (opts.baseline !== null && opts.targets.includes('baseline')) {
    const sb = { http: await freePort(), admin: await freePort() };
    const started = await startSignalbox(scope, opts.baseline, upstreamPort, sb, { nodeFlags });
    ports.set('baseline', sb.http);
    services.set('baseline', started.service);
    if (opts.gc) gcTraces.set('baseline', new GcTrace(started.service));
  }

  const forwarded: Partial<Record<Target, string>> = {};
  for (const target of opts.targets) {
    forwarded[target] = await check(target, ports.get(target)!);
    console.log(`${target.padEnd(12)} port ${ports.get(target)}; upstream sees: ${forwarded[target]}`);
  }
  console.log();

  const load = (target: Target, durationSec: number): WrkOptions => ({
    port: ports.get(target)!,
    path: opts.path,
    host: BENCH_HOST,
    durationSec,
    connections: opts.connections,
    threads: opts.threads,
  });
  const runs: Run[] = [];
  const gcRuns: Array<{ target: Target; round: number; gc: GcPer10k | null }> = [];
  const warmed = new Set<Target>();
  for (const { target, round } of schedule(opts.targets, opts.rounds)) {
    if (!warmed.has(target) && opts.warmupSec > 0) await runWrk(scope, load(target, opts.warmupSec));
    warmed.add(target);
    const trace = gcTraces.get(target);
    const gcBefore = trace?.snapshot();
    const service = services.get(target)!;
    const cpuBefore = cpuSplitMs(service);
    const result = await runWrk(scope, load(target, opts.durationSec));
    const cpuAfter = cpuSplitMs(service);
    const perRequest = (after: number, before: number): number => ((after - before) * 1000) / Math.max(result.requests, 1);
    runs.push({
      target,
      round,
      ...result,
      userUsPerRequest: perRequest(cpuAfter.userMs, cpuBefore.userMs),
      systemUsPerRequest: perRequest(cpuAfter.systemMs, cpuBefore.systemMs),
    });
    if (trace !== undefined) gcRuns.push({ target, round, gc: gcDuring(gcBefore!, trace.snapshot(), result.requests) });
    const errors = result.non2xx + result.socketErrors;
    console.log(
      `${formatRunStart(round, target, 12, result)}${errors ? `  errors ${errors}` : ''}`,
    );
  }

  const summary = summarise(runs);
  const ratios = {
    signalboxOverNginx: ratio(summary, 'signalbox', 'nginx'),
    nginxOverDirect: ratio(summary, 'nginx', 'direct'),
    signalboxOverDirect: ratio(summary, 'signalbox', 'direct'),
    relayOverNginx: ratio(summary, 'relay', 'nginx'),
    answerOverNginx: ratio(summary, 'answer', 'nginx'),
    undiciFloorOverNginx: ratio(summary, 'undici-floor', 'nginx'),
    h1FloorOverNginx: ratio(summary, 'h1-floor', 'nginx'),
    rawFloorOverNginx: ratio(summary, 'raw-floor', 'nginx'),
    rawFloorOverH1Floor: ratio(summary, 'raw-floor', 'h1-floor'),
    signalboxOverUndiciFloor: ratio(summary, 'signalbox', 'undici-floor'),
    signalboxOverH1Floor: ratio(summary, 'signalbox', 'h1-floor'),
    signalboxOverBaseline: ratio(summary, 'signalbox', 'baseline'),
    baselineOverNginx: ratio(summary, 'baseline', 'nginx'),
  };
  console.log(`\nmedians of ${opts.rounds} run(s) per target:\n${formatTable(summary)}\n`);
  const show = (label: string, value: number | null, note = ''): void => {
    if (value !== null) console.log(`${label.padEnd(22)} req/s ratio: ${value.toFixed(2)}${note}`);
  };
  show('nginx/direct', ratios.nginxOverDirect);
  show('signalbox/nginx', ratios.signalboxOverNginx, '   (goal ≥ 0.60; not a gate)');
  show('relay/nginx', ratios.relayOverNginx, '   (Node.js copying bytes, no HTTP: the ceiling of any Node.js proxy here)');
  show('answer/nginx', ratios.answerOverNginx, '   (node:http answering by itself, proxying nothing)');
  show('undici-floor/nginx', ratios.undiciFloorOverNginx, '   (node:http + undici Pool, nothing else)');
  show('h1-floor/nginx', ratios.h1FloorOverNginx, "   (node:http + signalbox's HTTP/1.1 client, nothing else)");
  show('raw-floor/nginx', ratios.rawFloorOverNginx, "   (the same client behind a server on raw sockets instead of node:http)");
  show('raw-floor/h1-floor', ratios.rawFloorOverH1Floor, '   (what replacing node:http could gain, at most)');
  show('signalbox/undici-floor', ratios.signalboxOverUndiciFloor);
  show('signalbox/h1-floor', ratios.signalboxOverH1Floor, '   (share of its own floor signalbox keeps)');
  show('baseline/nginx', ratios.baselineOverNginx, `   (signalbox of ${opts.baseline})`);
  show('signalbox/baseline', ratios.signalboxOverBaseline, '   (this checkout against the baseline)');
  if (gcRuns.length > 0) console.log(`\n${formatGcTable(gcRuns)}`);
  const file = writeJson(benchDir, startedAt, { benchmark: 'proxy', startedAt: startedAt.toISOString(), machine: host, options: opts, forwarded, runs, gcRuns, summary, ratios });
  console.log(`\nwrote ${file}`);
}

/** Medians over each target's runs of its worker's collections per 10,000 requests. */
function formatGcTable(gcRuns: Array<{ target: Target; gc: GcPer10k | null }>): string {
  const lines = ['garbage collection of the data-plane worker per 10,000 requests (medians over the runs):', 'target      pause ms  scavenges  mark-compacts  allocated MB  promoted KB  runs'];
  for (const target of new Set(gcRuns.map((r) => r.target))) {
    const mine = gcRuns.filter((r) => r.target === target).map((r) => r.gc ?? { pauseMs: 0, scavenges: 0, markCompacts: 0, allocatedMB: 0, promotedKB: 0 });
    const m = (pick: (g: GcPer10k) => number): number => median(mine.map(pick));
    lines.push(
      `${target.padEnd(10)}${m((g) => g.pauseMs).toFixed(1).padStart(10)}${m((g) => g.scavenges).toFixed(1).padStart(11)}${m((g) => g.markCompacts).toFixed(2).padStart(15)}` +
        `${m((g) => g.allocatedMB).toFixed(1).padStart(14)}${m((g) => g.promotedKB).toFixed(1).padStart(13)}${String(mine.length).padStart(6)}`,
    );
  }
  return lines.join('\n');
}

await runInScope('bench/proxy.ts', (scope) => main(scope, parseOptions(process.argv.slice(2))));
