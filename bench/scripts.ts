/**
 * The RouteScript benchmark: what a script costs one signalbox worker per request. One nginx
 * (three ports: the route's own Service and the two shard Services), one signalbox (1 worker)
 * serving one Ingress route; between runs only the RouteScript on that route changes:
 * - `none`: no script (the reference);
 * - `shard`: the issue's sharding script (`x-shop-id` → `ctx.data.shards` → `{backend, setHeaders}`);
 * - `shard+state`: the same plus one `ctx.state.incr` per request (a per-client limit never reached);
 * - `respond`: a script answering `200 ok` itself, so no upstream at all (compared separately);
 * - `async`: the sharding script written `async`.
 * wrk sends a browser-like request with a varying shop (lib/shop-request.lua). `none` runs between
 * every two other variants and each run is compared with the `none` runs on either side of it.
 * Prints req/s, p50, p99, the ratio to `none`, signalbox's CPU per request and the time inside
 * the isolate, and writes everything to bench/results/scripts-<timestamp>.json. See bench/README.md.
 *
 *   node bench/scripts.ts [--duration 8] [--warmup 2] [--rounds 2] [--connections 50] [--only shard,respond]
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { HELLO_BODY, PORT_PATH, startNginx, upstreamConfig } from './lib/nginx.ts';
import { freePort, get, HOST } from './lib/net.ts';
import { intOption, onlyOption } from './lib/options.ts';
import { cpuTimeMs, requireTools, runInScope, type Scope } from './lib/processes.ts';
import { formatRate, formatRows, formatRunStart, formatSigned, machine, median, throughputCells, writeJson } from './lib/report.ts';
import { BENCH_HOST, startSignalbox, waitForTable, type Signalbox } from './lib/signalbox.ts';
import { runWrk, type WrkResult } from './lib/wrk.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const REQUEST_SCRIPT = join(benchDir, 'lib', 'shop-request.lua');

const VARIANTS = ['none', 'shard', 'shard+state', 'respond', 'async'] as const;
type Variant = (typeof VARIANTS)[number];
const REFERENCE: Variant = 'none';
/** The product's goal for a forwarding script: at least this share of `none`'s throughput. */
const GOAL = 0.9;

const NAMESPACE = 'default';
/** The Ingress of lib/signalbox.ts's manifests, which every script targets. */
const INGRESS = 'bench';
const SCRIPT_FILE = '40-routescript.yaml';
/** Shops the sharding data knows; wrk asks for six of them (lib/shop-request.lua). */
const SHOPS = 1000;
/** Far above anything one worker on loopback reaches in a second, so the throttle only counts. */
const PER_CLIENT_PER_SECOND = 1_000_000;

const HELP = `usage: node bench/scripts.ts [options]
  --duration S       seconds per measured run (default 8)
  --warmup S         seconds of unmeasured load after every script change (default 2)
  --rounds N         measured runs per variant; the order is reversed every other round (default 2)
  --connections N    wrk connections (default 50)
  --only LIST        comma-separated subset of ${VARIANTS.join(',')}; ${REFERENCE} always runs (default all)`;

interface Options {
  durationSec: number;
  warmupSec: number;
  rounds: number;
  connections: number;
  variants: Variant[];
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      only: { type: 'string', default: VARIANTS.join(',') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const wanted = onlyOption(values.only, VARIANTS, 'variant');
  return {
    durationSec: intOption('duration', values.duration, 1),
    warmupSec: intOption('warmup', values.warmup, 0),
    rounds: intOption('rounds', values.rounds, 1),
    connections: intOption('connections', values.connections, 1),
    variants: VARIANTS.filter((v) => v === REFERENCE || wanted.includes(v)),
  };
}

const SHARD_BODY = `  const name = ctx.data.shards[req.headers['x-shop-id']];
  if (!name) return { respond: { status: 404, body: 'unknown shop' } };
  return { backend: name, setHeaders: { 'x-shard': name } };`;

/** What a request must show for the variant to be in force. */
type Expectation = 'own-backend' | 'shards' | 'answer';

interface VariantSpec {
  /** The module, or null for no RouteScript on the route. */
  code: string | null;
  expect: Expectation;
}

const SPECS: Record<Variant, VariantSpec> = {
  none: { code: null, expect: 'own-backend' },
  shard: { code: `export function onRequest(req, ctx) {\n${SHARD_BODY}\n}\n`, expect: 'shards' },
  'shard+state': {
    code: `export function onRequest(req, ctx) {
  if (ctx.state.incr(req.clientIp, 1, 1000) > ctx.data.perClientPerSecond) return { respond: { status: 429, body: 'slow down' } };
${SHARD_BODY}
}
`,
    expect: 'shards',
  },
  respond: { code: `export function onRequest() {\n  return { respond: { status: 200, body: 'ok' } };\n}\n`, expect: 'answer' },
  async: { code: `export async function onRequest(req, ctx) {\n${SHARD_BODY}\n}\n`, expect: 'shards' },
};

/** The RouteScript's name for a variant: each gets its own, so its metrics are its own. */
function scriptName(variant: Variant): string {
  return `bench-${variant.replace('+', '-')}`;
}

/** Shop n lives on shard-a when odd, shard-b when even; {@link checkVariant} relies on it. */
function shardData(): { shards: Record<string, string>; perClientPerSecond: number } {
  const shards: Record<string, string> = {};
  for (let shop = 1; shop <= SHOPS; shop++) shards[String(shop)] = shop % 2 === 1 ? 'shard-a' : 'shard-b';
  return { shards, perClientPerSecond: PER_CLIENT_PER_SECOND };
}

/** The RouteScript of `variant` on the bench Ingress, shaped like the issue's example. */
function routeScriptManifest(variant: Variant, code: string): object {
  return {
    apiVersion: 'signalbox.dev/v1alpha1',
    kind: 'RouteScript',
    metadata: { name: scriptName(variant), namespace: NAMESPACE },
    spec: {
      targetRefs: [{ kind: 'Ingress', name: INGRESS }],
      backends: {
        'shard-a': { service: { name: 'shop-a', port: { number: 80 } } },
        'shard-b': { service: { name: 'shop-b', port: { number: 80 } } },
      },
      data: shardData(),
      limits: { timeoutMs: 5, memoryMiB: 16 },
      failurePolicy: 'fallback',
      code,
    },
  };
}

/** A selector-less Service `name` (port 80, "http") with one EndpointSlice to 127.0.0.1:port. */
function shardService(name: string, port: number): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NAMESPACE }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: port }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [HOST], conditions: { ready: true } }],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
  ];
}

/** Writes `objects` into the watched directory by renaming, so signalbox never reads half a file. */
function writeManifest(sb: Signalbox, file: string, objects: readonly object[]): void {
  const staging = join(sb.staging, file);
  writeFileSync(staging, objects.map((o) => stringify(o)).join('---\n'));
  renameSync(staging, join(sb.manifests, file));
}

/** Puts `variant`'s script on the route, or takes the route's script away for `none`. */
function applyVariant(sb: Signalbox, variant: Variant): void {
  const { code } = SPECS[variant];
  if (code === null) rmSync(join(sb.manifests, SCRIPT_FILE), { force: true });
  else writeManifest(sb, SCRIPT_FILE, [routeScriptManifest(variant, code)]);
}

/** The part of `/debug/table` this harness reads. */
interface DebugTable {
  version: number;
  table: { virtualHosts: Array<{ host: string; routes: Array<{ filters: Array<{ type: string; script?: string }> }> }>; scripts: Record<string, { code: string } | undefined> };
  diagnostics: Array<{ kind: string; name: string; message: string }>;
}

/**
 * Waits until `/debug/table` shows the bench route with `variant`'s script (the same code) or with
 * none, and every worker serves that table version or newer. Returns the version.
 */
function waitForVariant(sb: Signalbox, variant: Variant, timeoutMs = 15_000): Promise<number> {
  const { code } = SPECS[variant];
  const id = code === null ? undefined : `${NAMESPACE}/${scriptName(variant)}`;
  return waitForTable<DebugTable>(sb, variant, (published) => {
    const route = published.table.virtualHosts.find((v) => v.host === BENCH_HOST)?.routes[0];
    const problems = published.diagnostics.filter((d) => d.kind === 'RouteScript').map((d) => `${d.name}: ${d.message}`);
    return {
      ok: route !== undefined && scriptOf(route) === id && (id === undefined || published.table.scripts[id]?.code === code),
      seen: `route script ${(route === undefined ? undefined : scriptOf(route)) ?? 'none'}${problems.length ? `; ${problems.join('; ')}` : ''}`,
    };
  }, timeoutMs);
}

/** Upstream ports: the route's own Service and the two shards. */
interface UpstreamPorts {
  own: number;
  shardA: number;
  shardB: number;
}

/**
 * Fails unless requests show the variant at work: without a script shop 1 reaches the route's own
 * Service; with a sharding script shop 1 reaches shard-a's port and shop 2 shard-b's; the
 * answering script says `ok` itself.
 */
async function checkVariant(sb: Signalbox, variant: Variant, ports: UpstreamPorts): Promise<void> {
  const reached = async (shop: string): Promise<string> => {
    const res = await get(sb.ports.http, PORT_PATH, BENCH_HOST, 2_000, { 'x-shop-id': shop });
    return `${res.status} ${res.body.trim()}`;
  };
  const expect = SPECS[variant].expect;
  const wanted: Array<[string, string]> =
    expect === 'answer' ? [['1', '200 ok']] : expect === 'own-backend' ? [['1', `200 ${ports.own}`]] : [['1', `200 ${ports.shardA}`], ['2', `200 ${ports.shardB}`]];
  for (const [shop, answer] of wanted) {
    const got = await reached(shop);
    if (got !== answer) throw new Error(`${variant}: GET ${PORT_PATH} with x-shop-id ${shop} gave ${JSON.stringify(got)}, expected ${JSON.stringify(answer)}`);
  }
  if (expect !== 'answer') {
    const res = await get(sb.ports.http, '/', BENCH_HOST, 2_000, { 'x-shop-id': '3' });
    if (res.status !== 200 || res.body !== HELLO_BODY) throw new Error(`${variant}: GET / gave ${res.status} ${JSON.stringify(res.body.slice(0, 200))}, not the upstream's body`);
  }
}

/** What `/metrics` says about one script: failed runs, and the summed time of successful ones. */
interface ScriptCounters {
  errors: number;
  durationSumSec: number;
  durationCount: number;
}

/** Sums the script's series in Prometheus text; a script without a series counts zero. */
function scriptCounters(metrics: string, scriptId: string): ScriptCounters {
  const counters: ScriptCounters = { errors: 0, durationSumSec: 0, durationCount: 0 };
  const label = `script="${scriptId}"`;
  for (const line of metrics.split('\n')) {
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null || !match[2]!.split(',').includes(label)) continue;
    const value = Number(match[3]);
    if (match[1] === 'signalbox_script_errors_total') counters.errors += value;
    else if (match[1] === 'signalbox_script_duration_seconds_sum') counters.durationSumSec += value;
    else if (match[1] === 'signalbox_script_duration_seconds_count') counters.durationCount += value;
  }
  return counters;
}

async function readCounters(sb: Signalbox, variant: Variant): Promise<ScriptCounters> {
  if (SPECS[variant].code === null) return { errors: 0, durationSumSec: 0, durationCount: 0 };
  return scriptCounters((await get(sb.ports.admin, '/metrics', undefined, 5_000)).body, `${NAMESPACE}/${scriptName(variant)}`);
}

/** One measured wrk run of one variant. */
interface VariantRun extends WrkResult {
  variant: Variant;
  round: number;
  /** CPU time signalbox used during the run (all threads, /proc), in µs, per request wrk completed. */
  cpuUsPerRequest: number;
  /**
   * Mean wall time of the isolate call of a successful run (signalbox_script_duration_seconds), in µs;
   * time the worker thread was descheduled during a call counts too. Null without a script.
   */
  scriptUs: number | null;
  /** Script runs that failed during the run (timeouts, throws…); the failure policy then served them. */
  scriptErrors: number;
  /** req/s over the mean of the `none` runs just before and after; null for `none`. */
  overNone: number | null;
  /** CPU µs per request minus that of the `none` runs around it (their mean); null for `none`. */
  extraCpuUsPerRequest: number | null;
  /** {@link extraCpuUsPerRequest} as a share of those `none` runs' CPU per request; null for `none`. */
  extraCpuShare: number | null;
}

/** Medians of one variant's runs. */
interface VariantSummary {
  variant: Variant;
  runs: number;
  requestsPerSec: number;
  /** Lowest and highest req/s over the runs: `none`'s show how far the machine drifted. */
  requestsPerSecMin: number;
  requestsPerSecMax: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  scriptUs: number | null;
  /** Median of the runs' {@link VariantRun.overNone} (1 for `none`). */
  overNone: number;
  /** Median of the runs' {@link VariantRun.extraCpuUsPerRequest} (0 for `none`). */
  extraCpuUsPerRequest: number;
  /** Median of the runs' {@link VariantRun.extraCpuShare} (0 for `none`). */
  extraCpuShare: number;
  scriptErrors: number;
  /** wrk's non-2xx responses and socket errors, summed. */
  httpErrors: number;
}

/**
 * The measuring order: `none`, then every other variant each followed by `none`; the others as
 * listed in odd rounds and reversed in even ones. Rounds share their boundary `none` run
 * (none A none B none C none, then C none B none A none).
 */
function variantSchedule(variants: readonly Variant[], rounds: number): Array<{ variant: Variant; round: number }> {
  const others = variants.filter((v) => v !== REFERENCE);
  const order: Array<{ variant: Variant; round: number }> = [{ variant: REFERENCE, round: 1 }];
  for (let round = 1; round <= rounds; round++) {
    for (const variant of round % 2 === 1 ? others : others.toReversed()) order.push({ variant, round }, { variant: REFERENCE, round });
  }
  return order;
}

/** Fills in each run's ratio to the `none` runs around it (the schedule puts one on each side). */
function compareWithNeighbours(runs: VariantRun[]): void {
  runs.forEach((run, i) => {
    if (run.variant === REFERENCE) return;
    const around = [runs[i - 1], runs[i + 1]].filter((r) => r?.variant === REFERENCE) as VariantRun[];
    if (around.length === 0) return;
    const mean = (f: (r: VariantRun) => number): number => around.reduce((sum, r) => sum + f(r), 0) / around.length;
    run.overNone = run.requestsPerSec / mean((r) => r.requestsPerSec);
    const noneCpu = mean((r) => r.cpuUsPerRequest);
    run.extraCpuUsPerRequest = run.cpuUsPerRequest - noneCpu;
    run.extraCpuShare = run.extraCpuUsPerRequest / noneCpu;
  });
}

function summarise(runs: readonly VariantRun[], variants: readonly Variant[]): VariantSummary[] {
  return variants.flatMap((variant) => {
    const mine = runs.filter((r) => r.variant === variant);
    if (mine.length === 0) return [];
    const rates = mine.map((r) => r.requestsPerSec);
    const scripted = mine.flatMap((r) => (r.scriptUs === null ? [] : [r.scriptUs]));
    return [
      {
        variant,
        runs: mine.length,
        requestsPerSec: median(rates),
        requestsPerSecMin: Math.min(...rates),
        requestsPerSecMax: Math.max(...rates),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        cpuUsPerRequest: median(mine.map((r) => r.cpuUsPerRequest)),
        scriptUs: scripted.length > 0 ? median(scripted) : null,
        overNone: variant === REFERENCE ? 1 : median(mine.map((r) => r.overNone ?? NaN)),
        extraCpuUsPerRequest: variant === REFERENCE ? 0 : median(mine.map((r) => r.extraCpuUsPerRequest ?? NaN)),
        extraCpuShare: variant === REFERENCE ? 0 : median(mine.map((r) => r.extraCpuShare ?? NaN)),
        scriptErrors: mine.reduce((n, r) => n + r.scriptErrors, 0),
        httpErrors: mine.reduce((n, r) => n + r.non2xx + r.socketErrors, 0),
      },
    ];
  });
}

/** The summaries as a text table. */
function formatVariantTable(summary: readonly VariantSummary[]): string {
  const rows = [['variant', 'req/s', '(min–max)', 'p50', 'p99', '×none req/s', 'CPU µs/req', 'Δ vs none', 'Δ %', 'isolate µs', 'script err', 'http err', 'runs']];
  for (const s of summary) {
    rows.push([
      s.variant,
      ...throughputCells(s),
      s.overNone.toFixed(2),
      s.cpuUsPerRequest.toFixed(1),
      formatSigned(s.extraCpuUsPerRequest, 1),
      `${formatSigned(s.extraCpuShare * 100, 0)}%`,
      s.scriptUs === null ? '–' : s.scriptUs.toFixed(1),
      String(s.scriptErrors),
      String(s.httpErrors),
      String(s.runs),
    ]);
  }
  return formatRows(rows);
}

async function main(scope: Scope, opts: Options): Promise<void> {
  requireTools();
  const root = join(benchDir, '..');
  const startedAt = new Date();
  const host = machine();
  const schedule = variantSchedule(opts.variants, opts.rounds);
  const firstWarmupSec = Math.max(opts.warmupSec, 5);
  const measuring = schedule.length * (opts.durationSec + opts.warmupSec) + firstWarmupSec;
  console.log(`machine: ${host.cpus} × ${host.cpuModel}, load ${host.loadAverage1m}, Linux ${host.kernel}`);
  console.log(`tools:   node ${host.node}, nginx ${host.nginx}, ${host.wrk}`);
  console.log(
    `load:    signalbox --workers 1, wrk -t1 -c${opts.connections} -d${opts.durationSec}s -s lib/shop-request.lua, ${opts.rounds} round(s), ` +
      `${schedule.length} measured runs, ~${measuring}s of load\n`,
  );

  const [own, shardA, shardB] = [await freePort(), await freePort(), await freePort()] as const;
  const ports: UpstreamPorts = { own, shardA, shardB };
  await startNginx(scope, 'upstream', own, (prefix) => upstreamConfig(prefix, [own, shardA, shardB]));
  const sb = await startSignalbox(scope, root, own, { http: await freePort(), admin: await freePort() }, { workers: 1 });
  writeManifest(sb, '11-service-shop-a.yaml', shardService('shop-a', shardA));
  writeManifest(sb, '12-service-shop-b.yaml', shardService('shop-b', shardB));
  console.log(`upstream nginx: route's own Service on ${own}, shop-a on ${shardA}, shop-b on ${shardB}; signalbox on ${sb.ports.http} (admin ${sb.ports.admin})`);

  const load = (durationSec: number) => ({
    port: sb.ports.http, path: '/', host: BENCH_HOST, durationSec, connections: opts.connections, threads: 1, script: REQUEST_SCRIPT,
  });
  await waitForVariant(sb, REFERENCE);
  await runWrk(scope, load(firstWarmupSec)); // a fresh process: JIT, connection pools

  const runs: VariantRun[] = [];
  for (const { variant, round } of schedule) {
    applyVariant(sb, variant);
    const version = await waitForVariant(sb, variant);
    await checkVariant(sb, variant, ports);
    if (opts.warmupSec > 0) await runWrk(scope, load(opts.warmupSec));
    const before = await readCounters(sb, variant);
    const cpuBefore = cpuTimeMs(sb.service);
    const result = await runWrk(scope, load(opts.durationSec));
    const cpuUsPerRequest = ((cpuTimeMs(sb.service) - cpuBefore) * 1000) / result.requests;
    const after = await readCounters(sb, variant);
    const scripted = after.durationCount - before.durationCount;
    const scriptUs = SPECS[variant].code === null || scripted <= 0 ? null : ((after.durationSumSec - before.durationSumSec) * 1e6) / scripted;
    const scriptErrors = after.errors - before.errors;
    runs.push({ variant, round, ...result, cpuUsPerRequest, scriptUs, scriptErrors, overNone: null, extraCpuUsPerRequest: null, extraCpuShare: null });
    const errors = result.non2xx + result.socketErrors;
    console.log(
      formatRunStart(round, variant, 12, result) +
        `  CPU ${cpuUsPerRequest.toFixed(1)} µs/req${scriptUs === null ? '' : `  isolate ${scriptUs.toFixed(1)} µs`}  (table v${version})` +
        `${scriptErrors ? `  script errors ${scriptErrors}` : ''}${errors ? `  http errors ${errors}` : ''}`,
    );
  }
  compareWithNeighbours(runs);
  const summary = summarise(runs, opts.variants);
  const forwarding = summary.filter((s) => s.variant !== 'respond');
  const answering = summary.filter((s) => s.variant === REFERENCE || s.variant === 'respond');

  console.log(`\nscripts that forward: medians of each variant's runs; ×none and Δ vs none compare each run with the none runs on either side:\n${formatVariantTable(forwarding)}`);
  if (answering.length > 1) console.log(`\na script that answers itself (no upstream request; not a cost, the proxy without its upstream):\n${formatVariantTable(answering)}`);

  const none = summary.find((s) => s.variant === REFERENCE)!;
  const drift = (none.requestsPerSecMax - none.requestsPerSecMin) / none.requestsPerSec;
  console.log(`\nnone drifted ${(drift * 100).toFixed(1)}% over the run (${formatRate(none.requestsPerSecMin)}–${formatRate(none.requestsPerSecMax)} req/s over ${none.runs} runs)`);
  const goal = forwarding.filter((s) => s.variant !== REFERENCE).map((s) => ({ variant: s.variant, overNone: s.overNone, met: s.overNone >= GOAL }));
  for (const g of goal) console.log(`${`${g.variant}/none`.padEnd(18)} req/s ratio: ${g.overNone.toFixed(2)}   (goal ≥ ${GOAL.toFixed(2)}: ${g.met ? 'met' : 'missed'})`);

  const report = { benchmark: 'scripts', startedAt: startedAt.toISOString(), machine: host, options: opts, ports, scripts: SPECS, runs, summary, noneDrift: drift, goal };
  console.log(`\nwrote ${writeJson(benchDir, startedAt, report, 'scripts')}`);
}

await runInScope('bench/scripts.ts', (scope) => main(scope, parseOptions(process.argv.slice(2))));

/** The first RouteScript a route of the debug table runs. */
function scriptOf(route: { filters: Array<{ type: string; script?: string }> }): string | undefined {
  return route.filters.find((f) => f.type === 'RouteScript')?.script;
}
