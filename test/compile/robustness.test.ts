/**
 * `compile` never throws on bad input and stays deterministic: the golden inputs are mutated at
 * random (deterministic seeds) with values of the wrong type anywhere in the object trees, and every
 * result must keep the table's invariants.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { compile } from '../../src/compile/compile.ts';
import { snapshotFromObjects } from '../../src/compile/snapshot-from-objects.ts';
import { addressSortKey, compareStrings } from '../../src/compile/order.ts';
import { DEFAULT_CLUSTER_POLICY, LB_POLICIES } from '../../src/model/policy.ts';
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

function reversed(snapshot: Snapshot): Snapshot {
  return {
    ingresses: [...snapshot.ingresses].reverse(),
    ingressClasses: [...snapshot.ingressClasses].reverse(),
    services: [...snapshot.services].reverse(),
    endpointSlices: [...snapshot.endpointSlices].reverse(),
    secrets: [...snapshot.secrets].reverse(),
    routeScripts: [...snapshot.routeScripts].reverse(),
    configMaps: [...snapshot.configMaps].reverse(),
  };
}

function assertInvariants(result: CompileResult): void {
  const { table } = result;
  const routes = [...table.virtualHosts.flatMap((v) => v.routes), ...(table.defaultRoute === null ? [] : [table.defaultRoute])];
  for (const route of routes) assert.ok(Object.hasOwn(table.clusters, route.cluster), `route to unknown cluster ${route.cluster}`);
  const keys = Object.keys(table.clusters);
  assert.deepEqual(keys, [...keys].sort(), 'cluster keys sorted');
  const ports = new Set<string>();
  for (const [key, cluster] of Object.entries(table.clusters)) {
    assert.equal(cluster.name, key, 'a cluster is keyed by its name');
    if (cluster.servicePort !== null) {
      // One cluster per Service port, named by its number however the routes referenced it.
      assert.equal(cluster.name, `${cluster.namespace}/${cluster.service}:${cluster.servicePort}`, 'a resolved cluster is named by its port number');
      const port = `${cluster.namespace}/${cluster.service} ${cluster.servicePort}`;
      assert.ok(!ports.has(port), `two clusters for Service port ${port}`);
      ports.add(port);
    } else {
      assert.deepEqual(cluster.endpoints, [], `unresolved cluster ${key} has endpoints`);
      assert.deepEqual(cluster.policy, DEFAULT_CLUSTER_POLICY, `unresolved cluster ${key} has a policy of its own`);
    }
    assert.ok(LB_POLICIES.includes(cluster.policy.lbPolicy), `cluster ${key} has lbPolicy ${cluster.policy.lbPolicy}`);
    for (const e of cluster.endpoints) assert.ok(Number.isInteger(e.weight) && e.weight >= 1 && e.weight <= 1000, `endpoint weight ${e.weight} in ${key}`);
    const order = cluster.endpoints.map((e) => [addressSortKey(e.address), e.address, e.port] as const);
    const sorted = [...order].sort((a, b) => compareStrings(a[0], b[0]) || compareStrings(a[1], b[1]) || a[2] - b[2]);
    assert.deepEqual(order, sorted, `endpoints of ${key} sorted by address value, then port`);
  }
  const hosts = table.virtualHosts.map((v) => v.host);
  assert.equal(new Set(hosts).size, hosts.length, 'one virtual host per name');
  const order = { exact: 0, wildcard: 1, any: 2 } as const;
  const ranks = table.virtualHosts.map((v) => order[v.match]);
  assert.deepEqual(ranks, [...ranks].sort(), 'exact, then wildcard, then any');
  for (const vhost of table.virtualHosts) assert.ok(vhost.routes.length > 0, `empty virtual host ${vhost.host}`);
  const sni = table.certificates.flatMap((c) => c.hosts);
  assert.equal(new Set(sni).size, sni.length, 'an SNI name is in at most one certificate');
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
      assertInvariants(result);
      assert.equal(JSON.stringify(compile(reversed(snapshot), DEFAULT_COMPILE_OPTIONS)), JSON.stringify(result), `seed ${seed}: order-dependent`);
      const router = buildRouter(result.table);
      for (const host of ['shop.example.com', 'a.example.com', 'x', '[::1]']) router.match(host, '/');
    }
  });
});
