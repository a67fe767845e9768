/**
 * The control loop on an in-memory source, with the test runner's timers standing in for the
 * clock: the first table once the source has loaded, a burst of changes compiled once after the
 * holdoff, a steady trickle still published at the maximum delay, identical tables not
 * republished, and nothing after stop.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { ControlLoop } from '../../src/controller/control-loop.ts';
import { createLogger } from '../../src/log.ts';
import { createControlMetrics } from '../../src/metrics/metrics.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../../src/model/snapshot.ts';
import type { CompileResult, PublishedTable } from '../../src/model/table.ts';
import type { ObjectSource } from '../../src/source/object-source.ts';
import { ingress, ingressClass, serviceWithEndpoints } from '../helpers/manifests.ts';

/** A source whose objects the test sets, and whose change notifications it sends. */
class MemorySource implements ObjectSource {
  objectsNow: object[];
  #onChange: (() => void) | null = null;
  loaded = false;
  closed = false;
  constructor(objects: object[]) {
    this.objectsNow = objects;
  }
  async load(): Promise<void> {
    this.loaded = true;
  }
  objects(): unknown[] {
    return this.objectsNow;
  }
  diagnostics() {
    return [];
  }
  watch(onChange: () => void): void {
    this.#onChange = onChange;
  }
  close(): void {
    this.closed = true;
    this.#onChange = null;
  }
  /** Replaces the objects and notifies, like a file write or a watch event. */
  change(objects: object[]): void {
    this.objectsNow = objects;
    this.#onChange?.();
  }
}

/** The objects of a cluster where `host` routes `/` to a Service. */
function site(host: string): object[] {
  return [ingressClass(), ingress('site', host, [{ path: '/', service: 'web' }]), ...serviceWithEndpoints('web', [{ address: '10.0.0.1', port: 8080 }])];
}

function hostsOf(table: PublishedTable): string[] {
  return table.table.virtualHosts.map((vh) => vh.host);
}

function loop(source: MemorySource): { loop: ControlLoop; published: PublishedTable[]; built: [CompileResult, PublishedTable | null][] } {
  const published: PublishedTable[] = [];
  const built: [CompileResult, PublishedTable | null][] = [];
  const l = new ControlLoop(source, {
    compile: DEFAULT_COMPILE_OPTIONS,
    debounce: { holdoffMs: 100, maxDelayMs: 1_000 },
    log: createLogger({ destination: { write: () => undefined } }),
    metrics: createControlMetrics(),
    publish: (table) => published.push(table),
    hooks: { built: (result, table) => built.push([result, table]) },
  });
  return { loop: l, published, built };
}

describe('the control loop', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  it('publishes the first table once the source has loaded, and tells the hooks', async () => {
    const source = new MemorySource(site('a.test'));
    const { loop: l, published, built } = loop(source);
    assert.equal(l.current, null);
    await l.load();
    assert.ok(source.loaded);
    assert.deepEqual(published.map(hostsOf), [['a.test']]);
    assert.equal(l.current, published[0]);
    assert.equal(built.length, 1);
    assert.equal(built[0]![1], published[0]);
    assert.ok(built[0]![0].statuses.some((s) => s.kind === 'Ingress' && s.name === 'site'));
  });

  it('ignores changes before watch, then compiles a burst of changes once, after the holdoff', async () => {
    const source = new MemorySource(site('a.test'));
    const { loop: l, published } = loop(source);
    await l.load();
    source.change(site('ignored.test'));
    l.watch();
    source.change(site('b.test'));
    mock.timers.tick(60);
    source.change(site('c.test'));
    mock.timers.tick(60);
    source.change(site('d.test'));
    mock.timers.tick(99);
    assert.equal(published.length, 1, 'nothing is compiled while changes keep coming within the holdoff');
    mock.timers.tick(1);
    assert.deepEqual(published.map(hostsOf), [['a.test'], ['d.test']]);
    assert.equal(published[1]!.version, 2);
  });

  it('publishes a steady trickle of changes at the maximum delay', async () => {
    const source = new MemorySource(site('a.test'));
    const { loop: l, published } = loop(source);
    await l.load();
    l.watch();
    for (let i = 0; i < 12; i++) {
      source.change(site(`t${i}.test`));
      mock.timers.tick(90);
    }
    // Changes every 90 ms never leave 100 ms of quiet: the rebuild runs 1000 ms after the first.
    assert.deepEqual(published.map(hostsOf), [['a.test'], ['t11.test']]);
  });

  it('does not republish a table equal to the current one, but still tells the hooks', async () => {
    const source = new MemorySource(site('a.test'));
    const { loop: l, published, built } = loop(source);
    await l.load();
    l.watch();
    source.change(site('a.test'));
    mock.timers.tick(100);
    assert.equal(published.length, 1);
    assert.equal(built.length, 2);
    assert.equal(built[1]![1], null);
  });

  it('after stop, closes the source and drops a pending rebuild', async () => {
    const source = new MemorySource(site('a.test'));
    const { loop: l, published } = loop(source);
    await l.load();
    l.watch();
    source.change(site('b.test'));
    await l.stop();
    mock.timers.tick(2_000);
    assert.ok(source.closed);
    assert.equal(published.length, 1);
  });
});
