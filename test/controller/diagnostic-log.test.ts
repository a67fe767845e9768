import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { snapshotFromObjects } from '../../src/compile/snapshot-from-objects.ts';
import { TableBuilder } from '../../src/controller/table-builder.ts';
import { createLogger } from '../../src/log.ts';
import { createControlMetrics } from '../../src/metrics/metrics.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../../src/model/snapshot.ts';
import { withDefaultNamespace } from '../../src/source/namespace-defaults.ts';
import { ingress, ingressClass } from '../helpers/manifests.ts';

interface Line {
  level: number;
  code?: string;
  msg: string;
  path?: string;
  paths?: string[];
}

/** A TableBuilder whose process log lines are collected. */
function builder(): { build(objects: object[]): void; lines: Line[] } {
  const lines: Line[] = [];
  const log = createLogger({ destination: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } });
  const tables = new TableBuilder(DEFAULT_COMPILE_OPTIONS, log, createControlMetrics());
  return {
    lines,
    build(objects) {
      const { snapshot, diagnostics } = snapshotFromObjects(withDefaultNamespace(objects));
      tables.build(snapshot, diagnostics);
    },
  };
}

describe('the diagnostics in the process log', () => {
  const objects = [
    ingressClass(),
    ingress('shop', 'shop.test', [
      { path: '/a1', service: 'missing-a' }, { path: '/a2', service: 'missing-a' }, { path: '/a3', service: 'missing-a' },
      { path: '/b1', service: 'missing-b' }, { path: '/b2', service: 'missing-b' }, { path: '/b3', service: 'missing-b' },
    ]),
  ];

  it('log a missing Service once, naming every route that sends to it', () => {
    const b = builder();
    b.build(objects);
    const missing = b.lines.filter((l) => l.code === 'ServiceNotFound');
    assert.deepEqual(missing.map((l) => [l.msg, l.paths]), [
      ['Service default/missing-a not found; requests get 503 until it exists', [0, 1, 2].map((i) => `Ingress/default/shop/rule/0/path/${i}`)],
      ['Service default/missing-b not found; requests get 503 until it exists', [3, 4, 5].map((i) => `Ingress/default/shop/rule/0/path/${i}`)],
    ]);
  });

  it('do not log again while the problem stays', () => {
    const b = builder();
    b.build(objects);
    const before = b.lines.filter((l) => l.code === 'ServiceNotFound').length;
    b.build(objects);
    assert.equal(b.lines.filter((l) => l.code === 'ServiceNotFound').length, before);
  });
});
