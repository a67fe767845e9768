/**
 * The safety net between compile and the data plane: a table that breaks its invariants is never
 * served. A front end with a bug is simulated by a compile that corrupts what one object becomes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile } from '../../src/compile/compile.ts';
import { compileGuarded } from '../../src/compile/guarded-compile.ts';
import { snapshotFromObjects } from '../../src/compile/snapshot-from-objects.ts';
import { TableBuilder } from '../../src/controller/table-builder.ts';
import { createLogger } from '../../src/log.ts';
import { createControlMetrics } from '../../src/metrics/metrics.ts';
import { DEFAULT_COMPILE_OPTIONS, type Snapshot } from '../../src/model/snapshot.ts';
import type { CompileResult, Route } from '../../src/model/table.ts';
import { withDefaultNamespace } from '../../src/source/namespace-defaults.ts';
import { ingress, ingressClass, serviceWithEndpoints } from '../helpers/manifests.ts';

const objects = [
  ingressClass(),
  ...serviceWithEndpoints('web', [{ port: 8080 }]),
  ingress('good', 'good.test', [{ path: '/', service: 'web' }]),
  ingress('buggy', 'buggy.test', [{ path: '/', service: 'web' }]),
];

function snapshot(): Snapshot {
  return snapshotFromObjects(withDefaultNamespace(objects)).snapshot;
}

/** A compile whose front end gives the routes of Ingress default/buggy an allow list that does not parse. */
function buggyFrontEnd(snap: Snapshot, options = DEFAULT_COMPILE_OPTIONS): CompileResult {
  const result = compile(snap, options);
  const corrupt = (r: Route): Route => (r.provenance.startsWith('Ingress/default/buggy/') ? { ...r, filters: [{ type: 'ClientAddress', allow: ['not-a-cidr'], deny: [] } as never, ...r.filters] } : r);
  return { ...result, table: { ...result.table, virtualHosts: result.table.virtualHosts.map((v) => ({ ...v, routes: v.routes.map(corrupt) })) } };
}

/** A compile that breaks something no object can be blamed for. */
function brokenTable(snap: Snapshot, options = DEFAULT_COMPILE_OPTIONS): CompileResult {
  const result = compile(snap, options);
  return { ...result, table: { ...result.table, listeners: result.table.listeners.map((l) => ({ ...l, provenance: '' })) } };
}

const hosts = (r: CompileResult): string[] => r.table.virtualHosts.map((v) => v.host);

describe('compileGuarded', () => {
  it('changes nothing of a sound table', () => {
    const plain = compile(snapshot(), DEFAULT_COMPILE_OPTIONS);
    const guarded = compileGuarded(snapshot(), DEFAULT_COMPILE_OPTIONS);
    assert.deepEqual(guarded.unsafe, []);
    assert.equal(JSON.stringify({ table: guarded.table, diagnostics: guarded.diagnostics }), JSON.stringify({ table: plain.table, diagnostics: plain.diagnostics }));
  });

  it('leaves out the object whose translation broke the table, serves the rest, and says why on that object', () => {
    const guarded = compileGuarded(snapshot(), DEFAULT_COMPILE_OPTIONS, buggyFrontEnd);
    assert.deepEqual(guarded.unsafe, []);
    assert.deepEqual(hosts(guarded), ['good.test'], 'the buggy Ingress is not served in any form; the other one is');
    const d = guarded.diagnostics.filter((x) => x.code === 'TableInvariantViolated');
    assert.equal(d.length, 1);
    assert.equal(`${d[0]!.kind}/${d[0]!.namespace}/${d[0]!.name}`, 'Ingress/default/buggy');
    assert.equal(d[0]!.severity, 'error');
    assert.match(d[0]!.message, /not-a-cidr|ClientAddress|address/i, d[0]!.message);
  });

  it('marks a table no object can be blamed for as unsafe', () => {
    const guarded = compileGuarded(snapshot(), DEFAULT_COMPILE_OPTIONS, brokenTable);
    assert.ok(guarded.unsafe.length > 0);
  });
});

describe('TableBuilder with a broken front end', () => {
  it('publishes the table without the buggy object, and publishes nothing when no object can be blamed', () => {
    const lines: Array<{ level: number; msg: string; code?: string }> = [];
    const log = createLogger({ destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    const metrics = createControlMetrics();
    const good = new TableBuilder(DEFAULT_COMPILE_OPTIONS, log, metrics, null, buggyFrontEnd).build(snapshot());
    assert.ok(good !== null);
    assert.deepEqual(good.table.virtualHosts.map((v) => v.host), ['good.test']);
    assert.ok(lines.some((l) => l.code === 'TableInvariantViolated' && l.level >= 50), 'logged as an error');

    const refusing = new TableBuilder(DEFAULT_COMPILE_OPTIONS, log, metrics, null, brokenTable);
    assert.equal(refusing.build(snapshot()), null, 'nothing is published');
    assert.equal(refusing.current, null);
    assert.ok(lines.some((l) => /not published/.test(l.msg)));
  });
});
