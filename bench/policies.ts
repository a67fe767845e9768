/**
 * The balancing-policy benchmark, three parts in one run (see bench/README.md, "policies.ts"):
 * 1. cost — req/s, p50, p99 and CPU per request of signalbox (1 worker) under each
 *    `signalbox.dev/lb-policy`, 4 endpoints on one nginx, against round robin measured in the same
 *    run (lib/policy-cost.ts);
 * 2. picks — the in-process cost of `pick()` per policy (pick-cost.ts, run as a child);
 * 3. state — the share of a slow endpoint under least-request and EWMA with 1 and with 2 workers,
 *    which keep their own in-flight counts and latencies, next to round robin's (lib/worker-state.ts).
 * Prints a table per part and writes everything to bench/results/policies-<timestamp>.json.
 *
 *   node bench/policies.ts [--duration 8] [--rounds 2] [--only cost,picks,state]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatPickCost, type PickCostRow } from './pick-cost.ts';
import { ENDPOINTS, formatPolicyTable, measurePolicyCost, type PolicySummary } from './lib/policy-cost.ts';
import { intOption, onlyOption } from './lib/options.ts';
import { requireTools, runInScope, type Scope } from './lib/processes.ts';
import { machine, writeJson } from './lib/report.ts';
import { FAST_MS, formatStateTable, measureWorkerState, SLOW_MS } from './lib/worker-state.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const PARTS = ['cost', 'picks', 'state'] as const;
type Part = (typeof PARTS)[number];

const HELP = `usage: node bench/policies.ts [options]
  --duration S           part 1: seconds per measured run (default 8)
  --warmup S             part 1: seconds of unmeasured load after each policy switch (default 1)
  --rounds N             parts 1 and 3: measured runs per policy, order reversed every other round (default 2)
  --connections N        part 1: wrk connections (default 50)
  --picks N              part 2: picks per timed loop (default 2000000)
  --state-duration S     part 3: seconds per measured run (default 5)
  --state-connections L  part 3: comma-separated wrk connection counts (default 32,2)
  --only LIST            comma-separated subset of ${PARTS.join(',')} (default all)`;

interface Options {
  durationSec: number;
  warmupSec: number;
  rounds: number;
  connections: number;
  picks: number;
  stateDurationSec: number;
  stateConnections: number[];
  parts: Part[];
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      picks: { type: 'string', default: '2000000' },
      'state-duration': { type: 'string', default: '5' },
      'state-connections': { type: 'string', default: '32,2' },
      only: { type: 'string', default: PARTS.join(',') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  return {
    durationSec: intOption('duration', values.duration, 1),
    warmupSec: intOption('warmup', values.warmup, 0),
    rounds: intOption('rounds', values.rounds, 1),
    connections: intOption('connections', values.connections, 1),
    picks: intOption('picks', values.picks, 1000),
    stateDurationSec: intOption('state-duration', values['state-duration'], 1),
    stateConnections: values['state-connections'].split(',').map((c) => intOption('state-connections', c.trim(), 1)),
    parts: onlyOption(values.only, PARTS, 'part'),
  };
}

/** Runs bench/pick-cost.ts in a child process (its own JIT and heap) and returns its rows. */
async function pickCost(scope: Scope, picks: number): Promise<{ picks: number; rows: PickCostRow[] }> {
  const script = join(benchDir, 'pick-cost.ts');
  const { code, stdout, stderr } = await scope.run(process.execPath, [script, '--json', '--picks', String(picks)], 300_000);
  if (code !== 0) throw new Error(`node ${script} failed (exit ${code}):\n${stderr}${stdout}`);
  return JSON.parse(stdout) as { picks: number; rows: PickCostRow[] };
}

/**
 * Part 2 against part 1, when both ran: the largest pick() cost over round robin's (10 endpoints)
 * as a share of the CPU time round robin costs signalbox per request — what part 1 can expect to see.
 */
function pickScale(report: { pickCost?: { rows: PickCostRow[] }; cost?: { summary: PolicySummary[] } }): string | null {
  const rows = report.pickCost?.rows;
  const rr = report.cost?.summary.find((s) => s.policy === 'round-robin');
  const rrPick = rows?.find((r) => r.policy === 'round-robin')?.costs[0]?.nsPerPick;
  if (rows === undefined || rr === undefined || rrPick === undefined) return null;
  const worst = rows.reduce((a, b) => (b.costs[0]!.nsPerPick > a.costs[0]!.nsPerPick ? b : a));
  const extraNs = worst.costs[0]!.nsPerPick - rrPick;
  return (
    `for scale: the dearest pick() (${worst.policy}, 10 endpoints) costs ${extraNs.toFixed(0)} ns more than round robin's, ` +
    `${((extraNs / 1000 / rr.cpuUsPerRequest) * 100).toFixed(2)}% of the ${rr.cpuUsPerRequest.toFixed(1)} µs of CPU signalbox spends per request under round robin`
  );
}

async function main(scope: Scope, opts: Options): Promise<void> {
  if (opts.parts.includes('cost') || opts.parts.includes('state')) requireTools(opts.parts.includes('cost') ? ['nginx', 'wrk'] : ['wrk']);
  const root = join(benchDir, '..');
  const startedAt = new Date();
  const host = machine();
  console.log(`machine: ${host.cpus} × ${host.cpuModel}, load ${host.loadAverage1m}, Linux ${host.kernel}`);
  console.log(`tools:   node ${host.node}, nginx ${host.nginx}, ${host.wrk}\n`);
  const log = (line: string): void => console.log(line);
  const report: { pickCost?: { picks: number; rows: PickCostRow[] }; cost?: { summary: PolicySummary[] }; [key: string]: unknown } = { benchmark: 'policies', startedAt: startedAt.toISOString(), machine: host, options: opts };
  const tables: string[] = [];

  if (opts.parts.includes('picks')) {
    log(`part 2 (run first, on a quiet machine): node bench/pick-cost.ts --picks ${opts.picks}`);
    const picks = await pickCost(scope, opts.picks);
    report.pickCost = picks;
    tables.push(`2. in-process pick() cost, ns per pick (bench/pick-cost.ts):\n${formatPickCost(picks.rows, picks.picks)}`);
  }
  if (opts.parts.includes('cost')) {
    log(`\npart 1: signalbox --workers 1, ${ENDPOINTS} endpoints (one nginx, ${ENDPOINTS} ports), wrk -t1 -c${opts.connections} -d${opts.durationSec}s, new x-key per request`);
    const cost = await measurePolicyCost(scope, root, opts, log);
    report.cost = cost;
    tables.push(
      `1. cost per request against round robin (medians over each policy's runs; ×rr and Δ vs rr compare each run with the round-robin runs on either side):\n${formatPolicyTable(cost.summary)}`,
    );
  }
  if (opts.parts.includes('state')) {
    const conns = opts.stateConnections.map((c) => `-c${c}`).join(' and ');
    log(`\npart 3: least-request, ewma and round-robin over a slow (${SLOW_MS} ms) and a fast (${FAST_MS} ms) upstream, 1 and 2 workers, wrk -t1 ${conns} -d${opts.stateDurationSec}s`);
    const state = await measureWorkerState(scope, root, { durationSec: opts.stateDurationSec, connections: opts.stateConnections, rounds: opts.rounds, workers: [1, 2] }, log);
    report.workerState = state;
    tables.push(
      `3. per-worker state: share of requests the slow (${SLOW_MS} ms) endpoint answered, by its own count (medians of ${opts.rounds} run(s); round robin must be 50%):\n${formatStateTable(state.summary)}`,
    );
  }

  const scale = pickScale(report);
  if (scale !== null) tables.push(`1b. ${scale}`);
  // Tables in part order, whatever order the parts ran in.
  console.log(`\n${tables.sort().join('\n\n')}`);
  console.log(`\nwrote ${writeJson(benchDir, startedAt, report, 'policies')}`);
}

await runInScope('bench/policies.ts', (scope) => main(scope, parseOptions(process.argv.slice(2))));
