// Not part of `npm test` (benchmarks are not tests); run with `node --test bench/lib/gc-trace.test.ts`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addGcLine, gcDuring, type GcTotals } from './gc-trace.ts';

const worker = '[3275:0x7fca7c001000:1]     5803 ms: pause=0.6 mutator=60.1 gc=s reduce_memory=0 allocated=13631488 promoted=20480 new_space_survived=90112';
const main = '[3275:0x3a4de000:0]      400 ms: pause=5.5 mutator=12.0 gc=mc reduce_memory=0 allocated=1048576 promoted=0';

test('adds up collections per isolate and ignores other output', () => {
  const totals = new Map<string, GcTotals>();
  assert.equal(addGcLine(worker, totals), true);
  assert.equal(addGcLine(worker, totals), true);
  assert.equal(addGcLine(main, totals), true);
  assert.equal(addGcLine('{"level":30,"msg":"listening"}', totals), false);
  assert.deepEqual(totals.get('0x7fca7c001000'), { scavenges: 2, markCompacts: 0, pauseMs: 1.2, allocatedBytes: 2 * 13631488, promotedBytes: 40960 });
  assert.equal(totals.get('0x3a4de000')?.markCompacts, 1);
});

test('reports the busiest isolate between two snapshots, per 10,000 requests', () => {
  const before = new Map<string, GcTotals>();
  addGcLine(main, before);
  const after = new Map([...before].map(([k, v]) => [k, { ...v }]));
  for (let i = 0; i < 4; i++) addGcLine(worker, after);
  addGcLine(main, after);
  const gc = gcDuring(before, after, 20_000);
  assert.ok(gc !== null);
  assert.equal(gc.scavenges, 2);
  assert.equal(gc.markCompacts, 0);
  assert.ok(Math.abs(gc.pauseMs - 1.2) < 1e-9);
  assert.equal(gc.allocatedMB, (2 * 13631488) / 2 ** 20);
  assert.equal(gc.promotedKB, 40);
  assert.equal(gcDuring(before, before, 1000), null);
});
