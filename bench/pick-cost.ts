/**
 * Not a test: a quick in-process measurement of pick() cost, ns per pick for each policy at 10 and
 * 100 endpoints, all usable and with one endpoint unusable, plus the garbage collections seen
 * during the timed loops (0 means the loop allocated nothing worth collecting). Hash policies hash
 * a ~25-character key per pick. Run: `node test/balancer/pick-cost.ts`. It belongs in bench/ with
 * a peer to compare against; it lives here because this change was limited to test/balancer.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { createBalancer, newStats, requestEnded } from '../../src/balancer/balancer.ts';
import { LB_POLICIES } from '../../src/model/policy.ts';
import { endpoints, hashKeys } from './builders.ts';
import type { TestEndpoint } from './builders.ts';

const PICKS = 2_000_000;
// Flat strings, like header values from the HTTP parser (template literals build cons strings).
const keys: string[] = JSON.parse(JSON.stringify(hashKeys(4096)));

let collections = 0;
new PerformanceObserver((list) => (collections += list.getEntries().length)).observe({ entryTypes: ['gc'] });

/** Lets the observer deliver the collections of the code just run. */
const settle = (): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, 20));

/** ns per pick, and the collections during the timed loop only (not construction or warm-up). */
async function time(policy: (typeof LB_POLICIES)[number], count: number, usable: (e: TestEndpoint) => boolean, picks = PICKS): Promise<{ ns: number; gcs: number }> {
  const list = endpoints(count, Array.from({ length: count }, (_, i) => 1 + (i % 3)));
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

const down = (e: TestEndpoint): boolean => e.id !== '10.0.0.3:8080';
// The proxy calls pick() on balancers of every policy from one place: make this call site see
// them all before timing, so no policy is measured with a monomorphic advantage.
for (const policy of LB_POLICIES) await time(policy, 10, () => true, 10_000);
const rows: string[][] = [['policy', 'n=10', 'n=100', 'n=10, 1 unusable', 'n=100, 1 unusable']];
for (const policy of LB_POLICIES) {
  const cells: string[] = [];
  for (const usable of [() => true, down]) {
    for (const n of [10, 100]) {
      const { ns, gcs } = await time(policy, n, usable);
      cells.push(`${ns.toFixed(1)}${gcs > 0 ? ` (${gcs} GC)` : ''}`);
    }
  }
  rows.push([policy, ...cells]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
console.log(`ns per pick over ${PICKS} picks; (k GC) = collections during the timed loop, none means it allocated nothing`);
