import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decisionOf, handler, request, source, testEngine } from './builders.ts';

const counter = 'export function onRequest() { globalThis.n = (globalThis.n ?? 0) + 1; return { setHeaders: { n: String(globalThis.n) } }; }';

describe('load compiles once per content', () => {
  test('identical sources give the same compiled script, with no new isolate', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const first = engine.load(source(counter, { data: { shards: { a: 1 } } }));
    await run(first);
    const created = engine.stats.isolatesCreated;
    const again = engine.load(source(counter, { data: { shards: { a: 1 } } })); // a new, equal object (a new table)
    assert.equal(again, first);
    assert.equal(engine.load(again.source), first);
    assert.equal(engine.stats.isolatesCreated, created);
    assert.deepEqual(decisionOf(await run(again)), { setHeaders: { n: '2' } }, 'the warm isolate is kept');
  });

  test('a change of code, data, limits or backends is a new script', (t) => {
    const { engine } = testEngine();
    t.after(() => engine.dispose());
    const base = source(counter);
    const first = engine.load(base);
    for (const changed of [
      { ...base, code: `${counter}\n` },
      { ...base, data: { x: 1 } },
      { ...base, limits: { timeoutMs: 6, memoryMiB: 16 } },
      { ...base, limits: { timeoutMs: 5, memoryMiB: 32 } },
      { ...base, backends: ['shard-a'] },
    ]) {
      assert.notEqual(engine.load(changed), first);
    }
  });

  test('load sets the isolate up, so the first request does not pay for it', async (t) => {
    const { engine } = testEngine();
    t.after(() => engine.dispose());
    await engine.load(source(counter)).ready;
    assert.equal(engine.stats.isolatesCreated, 1);
    assert.equal(engine.stats.warmIsolates, 1);
  });
});

describe('retain and the isolate pool', () => {
  test('retain disposes scripts that left the table and replaced versions', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const a1 = engine.load(source(counter, { id: 'ns/a' }));
    const b = engine.load(source(counter, { id: 'ns/b' }));
    const a2 = engine.load(source(`${counter}\n// v2`, { id: 'ns/a' }));
    await Promise.all([a1.ready, b.ready, a2.ready]);
    assert.equal(engine.stats.warmIsolates, 3);
    engine.retain(new Set(['ns/a']));
    assert.equal(engine.stats.warmIsolates, 1);
    assert.equal(engine.stats.loadedScripts, 1);
    assert.equal(engine.status('ns/b'), undefined);
    assert.equal(a2.isolate !== null, true);
    assert.equal(a1.isolate, null);
    assert.equal(b.isolate, null);
    // A request still holding the old table may run a retired script: it works, then lets go.
    assert.deepEqual(decisionOf(await run(a1)), { setHeaders: { n: '1' } });
    assert.equal(a1.isolate, null);
  });

  test('at most maxIsolates stay warm; the least recently used goes and comes back fresh', async (t) => {
    const { engine, run } = testEngine({ maxIsolates: 2 });
    t.after(() => engine.dispose());
    const a = engine.load(source(counter, { id: 'ns/a' }));
    const b = engine.load(source(counter, { id: 'ns/b' }));
    await run(a);
    await run(a);
    await run(b);
    const c = engine.load(source(counter, { id: 'ns/c' })); // a was used before b: a goes
    await c.ready;
    assert.equal(engine.stats.warmIsolates, 2);
    assert.equal(a.isolate, null);
    assert.deepEqual(decisionOf(await run(c)), { setHeaders: { n: '1' } });
    assert.deepEqual(decisionOf(await run(a)), { setHeaders: { n: '1' } }, 'a fresh isolate: module state starts over');
    assert.equal(engine.stats.warmIsolates, 2);
    assert.equal(b.isolate, null, 'b was now the least recently used');
  });

  test('a script with a run in flight is not evicted', async (t) => {
    let answer: (value: string) => void = () => {};
    let asked: () => void = () => {};
    const lookupStarted = new Promise<void>((resolve) => { asked = resolve; });
    const { engine, run } = testEngine({ maxIsolates: 1, lookup: () => new Promise<string>((resolve) => { answer = resolve; asked(); }) });
    t.after(() => engine.dispose());
    const waiting = engine.load(source("export async function onRequest(req, ctx) { return { setHeaders: { v: await ctx.lookup('k') } }; }", { id: 'ns/waiting', limits: { timeoutMs: 1000, memoryMiB: 16 } }));
    const pending = run(waiting);
    // The run is in flight (in its isolate, awaiting the lookup) before the other script loads.
    await lookupStarted;
    const other = engine.load(source(counter, { id: 'ns/other' }));
    assert.deepEqual(decisionOf(await run(other)), { setHeaders: { n: '1' } });
    assert.notEqual(waiting.isolate, null);
    answer('done');
    assert.deepEqual(decisionOf(await pending), { setHeaders: { v: 'done' } });
  });

  test('a script replaced under load finishes every request in flight, old or new', async (t) => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const { engine, run } = testEngine({ lookup: async (_id, key) => { await gate; return key; } });
    t.after(() => engine.dispose());
    const version = (v: string) => source(`export async function onRequest(req, ctx) { return { setHeaders: { v: '${v}', k: await ctx.lookup(req.path) } }; }`, { id: 'shop/hot', limits: { timeoutMs: 2000, memoryMiB: 16 } });
    const v1 = engine.load(version('1'));
    const before = Array.from({ length: 50 }, (_, i) => run(v1, request({ path: `/${i}` })));
    const v2 = engine.load(version('2'));
    engine.retain(new Set(['shop/hot'])); // the swap: v1 is retired while 50 of its runs wait
    const after = Array.from({ length: 50 }, (_, i) => run(v2, request({ path: `/${i}` })));
    release();
    const outcomes = await Promise.all([...before, ...after]);
    assert.deepEqual(outcomes.map((outcome) => (outcome.ok ? (outcome.decision?.setHeaders?.v ?? '?') : outcome.message)), [...Array(50).fill('1'), ...Array(50).fill('2')]);
    assert.equal(v1.isolate, null, 'the retired version is disposed once idle');
    assert.equal(engine.stats.warmIsolates, 1);
  });

  test('dispose fails runs in flight and refuses new ones', async (t) => {
    const { engine, run } = testEngine({ lookup: () => new Promise<string>(() => {}) });
    const script = engine.load(handler("return ctx.lookup('k').then(() => null);", { limits: { timeoutMs: 5000, memoryMiB: 16 } }));
    const pending = run(script);
    engine.dispose();
    assert.deepEqual(await pending, { ok: false, cause: 'unavailable', message: 'the script engine is shut down' });
    assert.deepEqual(await run(script), { ok: false, cause: 'unavailable', message: 'the script engine is shut down' });
    assert.equal(engine.stats.warmIsolates, 0);
    t.after(() => engine.dispose()); // idempotent
  });
});
