import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compile } from '../../src/compile/compile.ts';
import { snapshotFromObjects } from '../../src/compile/snapshot-from-objects.ts';
import { DEFAULT_COMPILE_OPTIONS, type Snapshot } from '../../src/model/snapshot.ts';

const CODE = 'export function onRequest() { return null; }';

function script(name: string, created: string, memoryMiB: number, path: string | null): object {
  return {
    apiVersion: 'signalbox.dev/v1alpha1',
    kind: 'RouteScript',
    metadata: { name, namespace: 'shop', creationTimestamp: created },
    spec: { targetRefs: [{ kind: 'Ingress', name: path === null ? 'nowhere' : 'web', ...(path === null ? {} : { path }) }], limits: { memoryMiB }, code: CODE },
  };
}

function snapshot(): Snapshot {
  return snapshotFromObjects([
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'signalbox' }, spec: { controller: 'signalbox.dev/ingress-controller' } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        ingressClassName: 'signalbox',
        rules: [{ host: 'shop.test', http: { paths: ['/a', '/b', '/c', '/d'].map((path) => ({ path, pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } })) } }],
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } },
    script('first', '2026-01-01T00:00:00Z', 256, '/a'),
    // Targets nothing: it gets no isolate, so it takes nothing from the budget.
    script('idle', '2026-01-02T00:00:00Z', 512, null),
    script('second', '2026-01-03T00:00:00Z', 128, '/b'),
    script('third', '2026-01-04T00:00:00Z', 256, '/c'),
    // Fits what is left after third was refused.
    script('fourth', '2026-01-05T00:00:00Z', 128, '/d'),
  ]).snapshot;
}

describe('the script memory budget is a compile option, applied oldest first', () => {
  const budget = { ...DEFAULT_COMPILE_OPTIONS, scriptMemoryBudgetMiB: 512 };

  test('a RouteScript past the budget is dropped with Accepted=False; older and smaller ones stay', () => {
    const result = compile(snapshot(), budget);
    assert.deepEqual(Object.keys(result.table.scripts).sort(), ['shop/first', 'shop/fourth', 'shop/idle', 'shop/second']);
    const refused = result.diagnostics.filter((d) => d.code === 'RouteScriptOverMemoryBudget');
    assert.deepEqual(refused.map((d) => [d.name, d.severity, d.path]), [['third', 'error', 'RouteScript/shop/third/limits/memoryMiB']]);
    assert.match(refused[0]!.message, /limits\.memoryMiB 256 does not fit .*older RouteScripts use 384 of 512 MiB per worker/);
    const status = result.statuses.find((s) => s.kind === 'RouteScript' && s.name === 'third')!;
    const accepted = status.conditions.find((c) => c.type === 'Accepted')!;
    assert.deepEqual([accepted.status, accepted.reason], ['False', 'RouteScriptOverMemoryBudget']);
  });

  test('the same snapshot in any order gives the same table', () => {
    const forward = snapshot();
    const backward: Snapshot = { ...forward, routeScripts: [...forward.routeScripts].reverse() };
    assert.equal(JSON.stringify(compile(backward, budget)), JSON.stringify(compile(forward, budget)));
  });

  test('without a budget every valid RouteScript is kept', () => {
    const result = compile(snapshot(), DEFAULT_COMPILE_OPTIONS);
    assert.equal(Object.keys(result.table.scripts).length, 5);
    assert.equal(result.diagnostics.filter((d) => d.code === 'RouteScriptOverMemoryBudget').length, 0);
  });

  test('every script of a chain holds an isolate, so each counts; the one past the budget leaves the chain', () => {
    const base = snapshot();
    const scripts = snapshotFromObjects([script('first', '2026-01-01T00:00:00Z', 256, '/a'), script('also-a', '2026-01-02T00:00:00Z', 256, '/a'), script('third-on-a', '2026-01-03T00:00:00Z', 16, '/a')]).snapshot;
    const result = compile({ ...base, routeScripts: scripts.routeScripts }, budget);
    assert.deepEqual(result.diagnostics.filter((d) => d.code === 'RouteScriptOverMemoryBudget').map((d) => d.name), ['third-on-a']);
    const route = result.table.virtualHosts[0]!.routes.find((r) => r.match.path.value === '/a')!;
    assert.deepEqual(route.filters, [{ type: 'RouteScript', script: 'shop/first' }, { type: 'RouteScript', script: 'shop/also-a' }]);
  });
});
