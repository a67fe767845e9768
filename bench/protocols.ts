/**
 * The protocol benchmark: signalbox against nginx (one worker each, same run, rounds rotated) for
 * HTTPS termination (wrk over TLS), HTTP/2 clients (h2load over TLS, ALPN h2), an HTTPS upstream
 * (wrk in cleartext, the proxies verifying the upstream's certificate) and gRPC unary calls (h2load
 * over TLS to a grpc-go upstream). Prints req/s, latency and ratios per scenario and writes JSON under
 * bench/results/. See bench/README.md.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildGrpcUpstream, checkGrpc, GRPC_FRAME, GRPC_HEADERS, GRPC_PATH, startGrpcUpstream } from './lib/grpc-upstream.ts';
import { runH2load, type H2loadResult } from './lib/h2load.ts';
import { freePort, get } from './lib/net.ts';
import { HELLO_BODY, startNginx, upstreamConfig } from './lib/nginx.ts';
import { intOption, onlyOption } from './lib/options.ts';
import { grpcProxyConfig, tlsProxyConfig, tlsUpstreamConfig, tlsUpstreamProxyConfig } from './lib/protocol-nginx.ts';
import { requireTools, runInScope, type Scope } from './lib/processes.ts';
import { formatMs, formatRate, formatRows, machine, median, writeJson } from './lib/report.ts';
import { BENCH_HOST, startSignalbox } from './lib/signalbox.ts';
import { makeBenchPki, probeTls, TLS_NAME, type BenchPki } from './lib/tls-setup.ts';
import { runWrk, type WrkResult } from './lib/wrk.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));

/** The scenarios, in the order they run. */
const SCENARIOS = ['https', 'h2', 'https-upstream', 'grpc'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** The targets; `direct` (the upstream without a proxy) only in the gRPC scenario. */
const TARGETS = ['direct', 'nginx', 'signalbox', 'baseline'] as const;
type Target = (typeof TARGETS)[number];

const HELP = `usage: node bench/protocols.ts [options]
  --duration S       seconds per measured run (default 10)
  --warmup S         seconds of unmeasured load before a target's first run (default 2)
  --rounds N         measured runs per target and scenario; the proxies' order rotates (default 3)
  --connections N    wrk connections for https and https-upstream (default 50)
  --clients N        h2load clients (-c) for h2 and grpc (default 10)
  --streams N        h2load concurrent streams per client (-m) (default 10)
  --only LIST        scenarios and/or targets, comma-separated: ${SCENARIOS.join(',')}, ${TARGETS.join(',')}
                     (default every scenario, every target but baseline)
  --baseline DIR     also run signalbox from the checkout in DIR as target baseline`;

interface Options {
  durationSec: number;
  warmupSec: number;
  rounds: number;
  connections: number;
  clients: number;
  streams: number;
  scenarios: Scenario[];
  targets: Target[];
  baseline: string | null;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      clients: { type: 'string', default: '10' },
      streams: { type: 'string', default: '10' },
      only: { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const baseline = values.baseline === undefined ? null : resolve(values.baseline);
  if (baseline !== null && !existsSync(join(baseline, 'bin', 'signalbox.js'))) throw new Error(`--baseline: ${baseline} is not a signalbox checkout (no bin/signalbox.js)`);
  const words = (values.only ?? '').split(',').map((w) => w.trim()).filter((w) => w !== '');
  const scenarioWords = words.filter((w) => (SCENARIOS as readonly string[]).includes(w));
  const targetWords = words.filter((w) => !(SCENARIOS as readonly string[]).includes(w));
  const defaultTargets = TARGETS.filter((t) => t !== 'baseline' || baseline !== null);
  const targets = targetWords.length > 0 ? onlyOption(targetWords.join(','), TARGETS, `scenario (${SCENARIOS.join(', ')}) or target`) : defaultTargets;
  if (targets.includes('baseline') && baseline === null) throw new Error('--only baseline needs --baseline DIR');
  return {
    durationSec: intOption('duration', values.duration, 1),
    warmupSec: intOption('warmup', values.warmup, 0),
    rounds: intOption('rounds', values.rounds, 1),
    connections: intOption('connections', values.connections, 1),
    clients: intOption('clients', values.clients, 1),
    streams: intOption('streams', values.streams, 1),
    scenarios: scenarioWords.length > 0 ? SCENARIOS.filter((s) => scenarioWords.includes(s)) : [...SCENARIOS],
    targets,
    baseline,
  };
}

/** One measured run, whichever tool made it; latencies in ms, null where the tool gives none. */
interface Run {
  scenario: Scenario;
  target: Target;
  round: number;
  requestsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  maxMs: number | null;
  errors: number;
  /** What the load tool negotiated over TLS, where it says (h2load). */
  tls?: string | null;
}

type Figures = Omit<Run, 'scenario' | 'target' | 'round'>;

function fromWrk(r: WrkResult): Figures {
  return { requestsPerSec: r.requestsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, meanMs: null, maxMs: null, errors: r.non2xx + r.socketErrors };
}

function fromH2load(r: H2loadResult): Figures {
  return { requestsPerSec: r.requestsPerSec, p50Ms: null, p99Ms: null, meanMs: r.meanMs, maxMs: r.maxMs, errors: r.non2xx + r.streamErrors, tls: r.tls };
}

/** A scenario set up: the port per target, how to load one, and what to stop afterwards. */
interface Setup {
  ports: Map<Target, number>;
  load(port: number, durationSec: number): Promise<Figures>;
  tool: string;
  negotiated: Partial<Record<Target, string>>;
}

/** signalbox (and the baseline) for a scenario: `tlsPort` says whether clients come over TLS. */
async function startSignalboxes(scope: Scope, opts: Options, pki: BenchPki, upstreamPort: number, tls: boolean, annotations: Record<string, string> = {}, extraManifests: Record<string, object> = {}): Promise<Map<Target, number>> {
  const ports = new Map<Target, number>();
  const roots: Array<[Target, string]> = [];
  if (opts.targets.includes('signalbox')) roots.push(['signalbox', join(benchDir, '..')]);
  if (opts.targets.includes('baseline') && opts.baseline !== null) roots.push(['baseline', opts.baseline]);
  for (const [target, root] of roots) {
    const sb = { http: await freePort(), admin: await freePort() };
    const httpsPort = await freePort();
    await startSignalbox(scope, root, upstreamPort, sb, { httpsPort, annotations, extraManifests, extraArgs: ['--default-cert', pki.certFile, '--default-key', pki.keyFile] });
    ports.set(target, tls ? httpsPort : sb.http);
  }
  return ports;
}

async function setUp(scope: Scope, scenario: Scenario, opts: Options, pki: BenchPki, grpcBin: string | null): Promise<Setup> {
  const proxyTargets = opts.targets.filter((t) => t !== 'direct');
  const wantNginx = proxyTargets.includes('nginx');
  const wrkLoad = (scheme: 'http' | 'https') => async (port: number, durationSec: number): Promise<Figures> =>
    fromWrk(await runWrk(scope, { port, path: '/', host: BENCH_HOST, durationSec, connections: opts.connections, threads: 1, scheme }));
  const h2Load = (body: boolean) => async (port: number, durationSec: number): Promise<Figures> =>
    fromH2load(await runH2load(scope, {
      port, path: body ? GRPC_PATH : '/', host: BENCH_HOST, scheme: 'https', durationSec, clients: opts.clients, streams: opts.streams, threads: 1,
      ...(body ? { body: GRPC_FRAME, headers: GRPC_HEADERS } : {}),
    }));
  const negotiated: Partial<Record<Target, string>> = {};
  const describe = async (ports: Map<Target, number>, alpn: string): Promise<void> => {
    for (const [target, port] of ports) {
      if (target === 'direct') continue;
      const n = await probeTls(port, [alpn]);
      negotiated[target] = `${n.protocol} ${n.cipher} ALPN ${n.alpn}`;
    }
  };

  if (scenario === 'https' || scenario === 'h2') {
    const upstreamPort = await freePort();
    await startNginx(scope, 'upstream', upstreamPort, (prefix) => upstreamConfig(prefix, upstreamPort));
    const ports = await startSignalboxes(scope, opts, pki, upstreamPort, true);
    if (wantNginx) {
      const port = await freePort();
      await startNginx(scope, 'nginx', port, (prefix) => tlsProxyConfig(prefix, port, upstreamPort, pki), 400);
      ports.set('nginx', port);
    }
    for (const [target, port] of ports) await checkHello(target, port, true);
    await describe(ports, scenario === 'h2' ? 'h2' : 'http/1.1');
    return scenario === 'https'
      ? { ports, load: wrkLoad('https'), tool: `wrk -t1 -c${opts.connections} over TLS (HTTP/1.1)`, negotiated }
      : { ports, load: h2Load(false), tool: `h2load -t1 -c${opts.clients} -m${opts.streams} over TLS (ALPN h2)`, negotiated };
  }
  if (scenario === 'https-upstream') {
    const upstreamPort = await freePort();
    await startNginx(scope, 'tls-upstream', upstreamPort, (prefix) => tlsUpstreamConfig(prefix, upstreamPort, pki), 400);
    const annotations = {
      'signalbox.dev/backend-protocol': 'HTTPS',
      'signalbox.dev/backend-tls-ca': 'configmap/bench-ca/ca.crt',
      'signalbox.dev/backend-tls-server-name': TLS_NAME,
    };
    const ca = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench-ca', namespace: 'default' }, data: { 'ca.crt': pki.caPem } };
    const ports = await startSignalboxes(scope, opts, pki, upstreamPort, false, annotations, { '15-configmap-ca.yaml': ca });
    if (wantNginx) {
      const port = await freePort();
      await startNginx(scope, 'nginx', port, (prefix) => tlsUpstreamProxyConfig(prefix, port, upstreamPort, pki));
      ports.set('nginx', port);
    }
    for (const [target, port] of ports) await checkHello(target, port, false);
    const n = await probeTls(upstreamPort, ['http/1.1']);
    negotiated.nginx = negotiated.signalbox = `upstream offers ${n.protocol} ${n.cipher}`;
    return { ports, load: wrkLoad('http'), tool: `wrk -t1 -c${opts.connections} in cleartext; proxies to the upstream over TLS`, negotiated };
  }
  // grpc
  const upstreamPort = await freePort();
  await startGrpcUpstream(scope, grpcBin!, upstreamPort);
  const ports = await startSignalboxes(scope, opts, pki, upstreamPort, true, { 'signalbox.dev/backend-protocol': 'GRPC' });
  if (wantNginx) {
    const port = await freePort();
    await startNginx(scope, 'nginx', port, (prefix) => grpcProxyConfig(prefix, port, upstreamPort, pki), 400);
    ports.set('nginx', port);
  }
  if (opts.targets.includes('direct')) ports.set('direct', upstreamPort);
  for (const [target, port] of ports) await checkGrpc(port, target !== 'direct', BENCH_HOST);
  await describe(ports, 'h2');
  const tlsLoad = h2Load(true);
  const direct = async (port: number, durationSec: number): Promise<Figures> =>
    fromH2load(await runH2load(scope, { port, path: GRPC_PATH, host: BENCH_HOST, scheme: 'http', durationSec, clients: opts.clients, streams: opts.streams, threads: 1, body: GRPC_FRAME, headers: GRPC_HEADERS }));
  const directPort = ports.get('direct');
  return {
    ports,
    load: (port, durationSec) => (port === directPort ? direct(port, durationSec) : tlsLoad(port, durationSec)),
    tool: `h2load -t1 -c${opts.clients} -m${opts.streams}, unary calls (POST of a ${GRPC_FRAME.length}-byte message) over TLS; direct over h2c`,
    negotiated,
  };
}

/** Fails unless the target returns the upstream's body for `GET /`. */
async function checkHello(target: Target, port: number, tls: boolean): Promise<void> {
  const res = tls ? await getTls(port) : await get(port, '/', BENCH_HOST);
  if (res.status !== 200 || res.body !== HELLO_BODY) throw new Error(`${target} on port ${port}: GET / gave ${res.status} ${JSON.stringify(res.body.slice(0, 200))}, not the upstream's body`);
}

async function getTls(port: number): Promise<{ status: number; body: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: BENCH_HOST }, rejectUnauthorized: false, agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** direct first, then the proxies rotated by one each round (A B C, B C A, …). */
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

const latency = (ms: number | null): string => (ms === null ? '–' : formatMs(ms));

function summarise(runs: Run[]): Array<Figures & { target: Target; runs: number }> {
  return TARGETS.flatMap((target) => {
    const mine = runs.filter((r) => r.target === target);
    if (mine.length === 0) return [];
    const med = (pick: (r: Run) => number | null): number | null => (pick(mine[0]!) === null ? null : median(mine.map((r) => pick(r)!)));
    return [{ target, runs: mine.length, requestsPerSec: median(mine.map((r) => r.requestsPerSec)), p50Ms: med((r) => r.p50Ms), p99Ms: med((r) => r.p99Ms), meanMs: med((r) => r.meanMs), maxMs: med((r) => r.maxMs), errors: mine.reduce((n, r) => n + r.errors, 0) }];
  });
}

async function main(scope: Scope, opts: Options): Promise<void> {
  requireTools(['nginx', 'wrk', 'h2load', 'openssl']);
  const startedAt = new Date();
  const host = machine();
  console.log(`machine: ${host.cpus} × ${host.cpuModel}, load ${host.loadAverage1m}, Linux ${host.kernel}`);
  console.log(`tools:   node ${host.node}, nginx ${host.nginx}, ${host.wrk}`);
  console.log(`load:    ${opts.durationSec}s per run, ${opts.rounds} round(s), scenarios ${opts.scenarios.join(', ')}\n`);
  const pki = makeBenchPki(scope.tempDir('pki'));
  const grpcBin = opts.scenarios.includes('grpc') ? buildGrpcUpstream(benchDir) : null;
  const runs: Run[] = [];
  const report: Record<string, unknown> = {};
  for (const scenario of opts.scenarios) {
    const before = new Set(scope.services());
    const setup = await setUp(scope, scenario, opts, pki, grpcBin);
    const targets = TARGETS.filter((t) => setup.ports.has(t));
    console.log(`── ${scenario}: ${setup.tool}`);
    for (const t of targets) console.log(`   ${t.padEnd(10)} port ${setup.ports.get(t)}${setup.negotiated[t] ? `  ${setup.negotiated[t]}` : ''}`);
    const mine: Run[] = [];
    const warmed = new Set<Target>();
    for (const { target, round } of schedule(targets, opts.rounds)) {
      const port = setup.ports.get(target)!;
      if (!warmed.has(target) && opts.warmupSec > 0) await setup.load(port, opts.warmupSec);
      warmed.add(target);
      const run: Run = { scenario, target, round, ...(await setup.load(port, opts.durationSec)) };
      mine.push(run);
      const lat = run.p50Ms !== null ? `p50 ${latency(run.p50Ms)}  p99 ${latency(run.p99Ms)}` : `mean ${latency(run.meanMs)}  max ${latency(run.maxMs)}`;
      console.log(`   round ${round} ${target.padEnd(10)} ${formatRate(run.requestsPerSec).padStart(8)} req/s  ${lat}${run.errors ? `  errors ${run.errors}` : ''}${run.tls ? `  (${run.tls})` : ''}`);
    }
    runs.push(...mine);
    const summary = summarise(mine);
    const nginx = summary.find((s) => s.target === 'nginx')?.requestsPerSec;
    const rows = [['target', 'req/s', 'p50', 'p99', 'mean', 'max', '×nginx', 'errors', 'runs']];
    for (const s of summary) rows.push([s.target, formatRate(s.requestsPerSec), latency(s.p50Ms), latency(s.p99Ms), latency(s.meanMs), latency(s.maxMs), nginx ? (s.requestsPerSec / nginx).toFixed(2) : '–', String(s.errors), String(s.runs)]);
    console.log(`\n   medians of ${opts.rounds} run(s):\n${formatRows(rows).replace(/^/gm, '   ')}`);
    const sb = summary.find((s) => s.target === 'signalbox')?.requestsPerSec;
    const base = summary.find((s) => s.target === 'baseline')?.requestsPerSec;
    if (sb !== undefined && base !== undefined) console.log(`   signalbox/baseline req/s ratio: ${(sb / base).toFixed(2)}`);
    console.log();
    report[scenario] = { tool: setup.tool, negotiated: setup.negotiated, summary };
    // Each scenario's processes go before the next starts, so idle ones take no memory or CPU.
    for (const service of scope.services().filter((s) => !before.has(s)).reverse()) await scope.stop(service);
  }
  const file = writeJson(benchDir, startedAt, { benchmark: 'protocols', startedAt: startedAt.toISOString(), machine: host, options: opts, scenarios: report, runs }, 'protocols');
  console.log(`wrote ${file}`);
}

await runInScope('bench/protocols.ts', (scope) => main(scope, parseOptions(process.argv.slice(2))));
