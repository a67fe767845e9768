/**
 * `compile` never throws on bad input and stays deterministic: the golden inputs are mutated at
 * random (deterministic seeds) with values of the wrong type anywhere in the object trees, and every
 * result must keep the table's invariants (`checkTable`).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { compile } from '../../src/compile/compile.ts';
import { snapshotFromObjects } from '../../src/compile/snapshot-from-objects.ts';
import { addressSortKey, compareStrings } from '../../src/compile/shared/order.ts';
import { checkTable } from '../../src/model/check-table.ts';
import { DEFAULT_COMPILE_OPTIONS, type Snapshot } from '../../src/model/snapshot.ts';
import type { CompileResult } from '../../src/model/table.ts';
import { buildRouter } from '../../src/router/router.ts';

const DIR = join(import.meta.dirname, '../../testdata/compile');
const GARBAGE: readonly unknown[] = [null, undefined, 0, -1, 1.5, 1e9, Number.NaN, '', 'x', '/', '*', 'Prefix', 'IPv4', true, false, [], {}, [null], [1, 'a'], { a: 1 }];

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every object and array inside `value`, so that one can be picked and damaged. */
function containers(value: unknown, out: (Record<string, unknown> | unknown[])[] = []): (Record<string, unknown> | unknown[])[] {
  if (typeof value === 'object' && value !== null) {
    out.push(value as Record<string, unknown> | unknown[]);
    for (const child of Object.values(value)) containers(child, out);
  }
  return out;
}

/** A deep copy of `objects` with `count` random fields or elements replaced by garbage. */
function mutate(objects: readonly unknown[], random: () => number, count: number): unknown[] {
  const copy = structuredClone(objects) as unknown[];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  for (let i = 0; i < count; i++) {
    const target = pick(containers(copy));
    const keys = Object.keys(target);
    if (keys.length === 0) continue;
    (target as Record<string, unknown>)[pick(keys)] = structuredClone(pick(GARBAGE));
  }
  return copy;
}

function allInputs(): unknown[] {
  return readdirSync(DIR)
    .filter((name) => name.endsWith('.in.yaml'))
    .sort()
    .flatMap((name) => YAML.parseAllDocuments(readFileSync(join(DIR, name), 'utf8')) as YAML.Document[])
    .map((doc) => doc.toJS() as unknown);
}

/** Every list of the snapshot (the optional Gateway API ones too) reversed. */
function reversed(snapshot: Snapshot): Snapshot {
  return Object.fromEntries(Object.entries(snapshot).map(([key, list]) => [key, [...(list as unknown[])].reverse()])) as unknown as Snapshot;
}

/**
 * The table passes `checkTable`; besides, what only the compiler's own helpers can say (endpoints
 * in address order) and what is not in the table (diagnostic codes) holds.
 */
function assertInvariants(result: CompileResult, seed: number): void {
  const { table } = result;
  assert.deepEqual(checkTable(table), [], `seed ${seed}: the table breaks its invariants`);
  for (const [key, cluster] of Object.entries(table.clusters)) {
    const order = cluster.endpoints.map((e) => [addressSortKey(e.address), e.address, e.port] as const);
    const sorted = [...order].sort((a, b) => compareStrings(a[0], b[0]) || compareStrings(a[1], b[1]) || a[2] - b[2]);
    assert.deepEqual(order, sorted, `endpoints of ${key} sorted by address value, then port`);
  }
  for (const d of result.diagnostics) assert.match(d.code, /^[A-Z][A-Za-z0-9]+$/, 'diagnostic codes are PascalCase');
}

describe('compile robustness', () => {
  test('garbage snapshots: nothing throws, nothing is routed', () => {
    for (const snapshot of [null, undefined, 42, 'x', [], {}, { ingresses: 'x', services: {}, secrets: [null] }, { ingresses: [null, 1, 'a', [], {}] }]) {
      const result = compile(snapshot as unknown as Snapshot, DEFAULT_COMPILE_OPTIONS);
      assert.deepEqual(result.table.virtualHosts, []);
      assert.equal(result.table.defaultRoute, null);
    }
  });

  test('an object whose fields throw when read becomes ObjectInvalid', () => {
    const ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'trap', namespace: 'x', annotations: { 'kubernetes.io/ingress.class': 'signalbox' } },
      get spec(): unknown {
        throw new Error('boom');
      },
    };
    const result = compile({ ingresses: [ingress], ingressClasses: [], services: [], endpointSlices: [], secrets: [] } as unknown as Snapshot, DEFAULT_COMPILE_OPTIONS);
    assert.ok(result.diagnostics.some((d) => d.code === 'ObjectInvalid' && d.name === 'trap'), JSON.stringify(result.diagnostics));
  });

  test('randomly damaged manifests compile without throwing, deterministically, with invariants', () => {
    const inputs = allInputs();
    for (let seed = 1; seed <= 150; seed++) {
      const random = prng(seed);
      const objects = mutate(inputs, random, 1 + Math.floor(random() * 12));
      const { snapshot } = snapshotFromObjects(objects);
      const result = compile(snapshot, DEFAULT_COMPILE_OPTIONS);
      assertInvariants(result, seed);
      assert.equal(JSON.stringify(compile(reversed(snapshot), DEFAULT_COMPILE_OPTIONS)), JSON.stringify(result), `seed ${seed}: order-dependent`);
      const router = buildRouter(result.table);
      for (const host of ['shop.example.com', 'a.example.com', 'x', '[::1]']) router.match(host, '/');
    }
  });
});
