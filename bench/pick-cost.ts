/**
 * In-process cost of `pick()`: ns per pick for each policy at 10 and 100 endpoints, all usable and
 * with one endpoint unusable, plus the garbage collections seen during the timed loops (0 means
 * the loop allocated nothing worth collecting). Hash policies hash a ~25-character key per pick.
 * Round robin is the peer: the `×rr` columns are each policy's cost over round robin's.
 * policies.ts runs this as a child (`--json`) so its JIT and heap are not the harness's.
 *
 *   node bench/pick-cost.ts [--picks 2000000] [--json]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createBalancer, newStats, requestEnded, type BalancerEndpoint } from '../src/balancer/balancer.ts';
import { LB_POLICIES, type LbPolicy } from '../src/model/policy.ts';

/** One timed configuration of one policy. */
export interface PickCost {
  endpoints: number;
  /** Whether one endpoint was unusable (health, ejection), so `usable` rejects it. */
  oneUnusable: boolean;
  nsPerPick: number;
  /** Garbage collections during the timed loop. */
  gcs: number;
}

/** Every configuration of one policy, in {@link CONFIGS} order. */
export interface PickCostRow {
  policy: LbPolicy;
  costs: PickCost[];
}

/** The configurations timed for each policy, in column order. */
const CONFIGS = [
  { endpoints: 10, oneUnusable: false },
  { endpoints: 100, oneUnusable: false },
  { endpoints: 10, oneUnusable: true },
  { endpoints: 100, oneUnusable: true },
] as const;

/** `count` endpoints `10.0.<i/256>.<i%256>:8080` with weights 1, 2, 3, 1, 2, 3, … */
function endpoints(count: number): BalancerEndpoint[] {
  return Array.from({ length: count }, (_, i) => ({ id: `10.0.${i >> 8}.${i & 255}:8080`, weight: 1 + (i % 3), stats: newStats() }));
}

// 4096 distinct session-id-like keys. Flat strings, like header values from the HTTP parser
// (template literals build cons strings, hence the JSON round trip).
const keys: string[] = JSON.parse(JSON.stringify(Array.from({ length: 4096 }, (_, i) => `session-${i.toString(36)}-${(i * 2654435761) >>> 0}`)));

/** Garbage collections so far, counted while {@link measurePickCost} runs. */
let collections = 0;

/** Lets the observer deliver the collections of the code just run. */
const settle = (): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, 20));

/** ns per pick, and the collections during the timed loop only (not construction or warm-up). */
async function time(policy: LbPolicy, count: number, usable: (e: BalancerEndpoint) => boolean, picks: number): Promise<{ ns: number; gcs: number }> {
  const list = endpoints(count);
  // Samples a few seconds old, so EWMA computes its decay on every pick.
  list.forEach((e, i) => {
    e.stats.active = i % 4;
    requestEnded(e.stats, 5 + (i % 7), 1000 + i);
  });
  requestEnded(newStats(), -1, 5000);
  // Production randomness (Math.random): the timing needs no determinism.
  const b = createBalancer(policy, list);
  let sink = 0;
  for (let i = 0; i < picks / 10; i++) sink += b.pick(keys[i & 4095]!, usable)!.weight;
  await settle();
  const before = collections;
  const start = process.hrtime.bigint();
  for (let i = 0; i < picks; i++) sink += b.pick(keys[i & 4095]!, usable)!.weight;
  const ns = Number(process.hrtime.bigint() - start) / picks;
  await settle();
  if (sink === 0) throw new Error('unreachable');
  return { ns, gcs: collections - before };
}

/** Times every policy in every configuration, `picks` picks each. */
export async function measurePickCost(picks: number): Promise<PickCostRow[]> {
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ['gc'] });
  try {
    return await timeAll(picks);
  } finally {
    observer.disconnect();
  }
}

async function timeAll(picks: number): Promise<PickCostRow[]> {
  const down = (e: BalancerEndpoint): boolean => e.id !== '10.0.0.3:8080';
  // The proxy calls pick() on balancers of every policy from one place: make this call site see
  // them all before timing, so no policy is measured with a monomorphic advantage.
  for (const policy of LB_POLICIES) await time(policy, 10, () => true, 10_000);
  const rows: PickCostRow[] = [];
  for (const policy of LB_POLICIES) {
    const costs: PickCost[] = [];
    for (const config of CONFIGS) {
      const { ns, gcs } = await time(policy, config.endpoints, config.oneUnusable ? down : () => true, picks);
      costs.push({ ...config, nsPerPick: ns, gcs });
    }
    rows.push({ policy, costs });
  }
  return rows;
}

/** The rows as text: ns per pick per configuration, `(k GC)` when the loop collected, and ×rr. */
export function formatPickCost(rows: readonly PickCostRow[], picks: number): string {
  const rr = rows.find((r) => r.policy === 'round-robin');
  const header = ['policy', ...CONFIGS.map((c) => `n=${c.endpoints}${c.oneUnusable ? ', 1 unusable' : ''}`), '×rr n=10', '×rr n=100'];
  const lines = [header];
  for (const row of rows) {
    const cells = row.costs.map((c) => `${c.nsPerPick.toFixed(1)}${c.gcs > 0 ? ` (${c.gcs} GC)` : ''}`);
    const times = [0, 1].map((i) => (rr ? (row.costs[i]!.nsPerPick / rr.costs[i]!.nsPerPick).toFixed(1) : '-'));
    lines.push([row.policy, ...cells, ...times]);
  }
  const widths = header.map((_, c) => Math.max(...lines.map((r) => r[c]!.length)));
  const table = lines.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
  return `${table}\nns per pick over ${picks.toLocaleString('en-US')} picks; (k GC) = collections during the timed loop, none means it allocated nothing`;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { picks: { type: 'string', default: '2000000' }, json: { type: 'boolean', default: false } } });
  const picks = Number(values.picks);
  if (!Number.isInteger(picks) || picks < 1000) throw new Error(`--picks must be an integer ≥ 1000, got ${JSON.stringify(values.picks)}`);
  const rows = await measurePickCost(picks);
  console.log(values.json ? JSON.stringify({ picks, rows }) : formatPickCost(rows, picks));
}
