import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ScriptStatus } from '../../src/script/types.ts';
import { decisionOf, handler, ManualClock, request, source, testEngine } from './builders.ts';

describe('a failing script fails only its request', () => {
  test('a throw is `throw` with the message', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const outcome = await runOnce(handler("throw new TypeError('no shop header');"));
    assert.deepEqual(outcome, { ok: false, cause: 'throw', message: 'TypeError: no shop header' });
    const thrownString = await runOnce(handler("throw 'plain';", { id: 'shop/plain' }));
    assert.deepEqual(thrownString, { ok: false, cause: 'throw', message: 'a non-Error value was thrown: plain' });
  });

  test('a rejected promise is `throw` too', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const outcome = await runOnce(source("export async function onRequest() { await null; throw new Error('later'); }"));
    assert.deepEqual(outcome, { ok: false, cause: 'throw', message: 'Error: later' });
  });

  test('an infinite loop is stopped at twice its budget plus 10 ms, and the next request runs', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const script = engine.load(handler("if (req.headers.loop) for (;;) {} return { backend: 'shard-a' };", { limits: { timeoutMs: 100, memoryMiB: 16 } }));
    assert.deepEqual(decisionOf(await run(script)), { backend: 'shard-a' }); // the isolate's first request has a larger budget
    const started = performance.now();
    const outcome = await run(script, request({ headers: { loop: '1' } }));
    const elapsed = performance.now() - started;
    assert.deepEqual(outcome, { ok: false, cause: 'timeout', message: 'the script exceeded its 100 ms budget' });
    assert.ok(elapsed >= 205 && elapsed < 1_000, `took ${elapsed} ms`);
    assert.deepEqual(decisionOf(await run(script)), { backend: 'shard-a' });
  });

  test('the first request in a fresh isolate gets the setup budget (ten budgets, at least 100 ms), later ones twice the budget plus 10 ms', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const script = engine.load(handler('for (;;) {}', { limits: { timeoutMs: 20, memoryMiB: 16 } }));
    const timed = async (): Promise<number> => {
      const started = performance.now();
      const outcome = await run(script);
      assert.deepEqual(outcome, { ok: false, cause: 'timeout', message: 'the script exceeded its 20 ms budget' });
      return performance.now() - started;
    };
    const cold = await timed();
    const warm = await timed();
    // Lower bounds are the budgets; upper bounds only say that the run was stopped (a busy machine is slow).
    assert.ok(cold >= 95 && cold < 2_000, `cold run took ${cold} ms`);
    assert.ok(warm >= 48 && warm < 1_000, `warm run took ${warm} ms`);
    assert.ok(cold > warm, `the cold run had the larger budget (${cold} ms against ${warm} ms)`);
  });

  test('an async script that never settles times out at the budget', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const outcome = await runOnce(source('export function onRequest() { return new Promise(() => {}); }', { limits: { timeoutMs: 30, memoryMiB: 16 } }));
    assert.deepEqual(outcome, { ok: false, cause: 'timeout', message: 'the script exceeded its 30 ms budget' });
    assert.equal(engine.stats.runsInFlight, 0);
  });

  test('an allocation bomb hits the memory limit; the next request gets a fresh isolate', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const script = engine.load(handler(`
      globalThis.requests = (globalThis.requests ?? 0) + 1;
      if (req.headers.bomb) { const hoard = []; for (;;) hoard.push(new Array(100000).fill(hoard.length)); }
      return { setHeaders: { 'x-requests': String(globalThis.requests) } };`, { limits: { timeoutMs: 2000, memoryMiB: 16 } }));
    assert.deepEqual(decisionOf(await run(script)), { setHeaders: { 'x-requests': '1' } });
    const created = engine.stats.isolatesCreated;
    const outcome = await run(script, request({ headers: { bomb: '1' } }));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.cause, 'memory');
      assert.match(outcome.message, /memory limit of 16 MiB/);
    }
    // Fresh isolate: module state starts over.
    assert.deepEqual(decisionOf(await run(script)), { setHeaders: { 'x-requests': '1' } });
    assert.equal(engine.stats.isolatesCreated, created + 1);
  });

  test('a string or buffer bomb that V8 refuses in the isolate is a `throw`, and the isolate survives', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const script = engine.load(handler("if (req.headers.bomb) { let s = 'x'; for (;;) s += s; } return null;"));
    const outcome = await run(script, request({ headers: { bomb: '1' } }));
    assert.ok(!outcome.ok && (outcome.cause === 'throw' || outcome.cause === 'memory'), JSON.stringify(outcome));
    assert.equal(decisionOf(await run(script)), null);
  });

  test('garbage and an undeclared backend are `invalid-decision`', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const garbage = await runOnce(handler('return 7;', { id: 'shop/garbage' }));
    assert.deepEqual(garbage, { ok: false, cause: 'invalid-decision', message: 'the decision must be an object or null, not a number' });
    const undeclared = await runOnce(handler("return { backend: 'payments' };", { id: 'shop/undeclared' }));
    assert.equal(undeclared.ok, false);
    if (!undeclared.ok) assert.equal(undeclared.cause, 'invalid-decision');
  });

  test('a failure in one script leaves another running', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const bad = engine.load(handler('for (;;) {}', { id: 'shop/bad', limits: { timeoutMs: 20, memoryMiB: 16 } }));
    const good = engine.load(handler("return { backend: 'shard-b' };", { id: 'shop/good' }));
    const [a, b] = await Promise.all([run(bad), run(good)]);
    assert.equal(a.ok, false);
    assert.deepEqual(decisionOf(b), { backend: 'shard-b' });
  });
});

describe('a script that keeps failing backs off', () => {
  test('after 5 failures in a row it is not run (unavailable) until the backoff ends; it is reported', async (t) => {
    const clock = new ManualClock();
    const statuses: ScriptStatus[] = [];
    const { engine, run } = testEngine({ now: clock.read, onStatus: (status) => statuses.push(status) });
    t.after(() => engine.dispose());
    const script = engine.load(handler("if (req.headers.fail) throw new Error('broken'); globalThis.runs = (globalThis.runs ?? 0) + 1; return { setHeaders: { runs: String(globalThis.runs) } };", { id: 'shop/flaky' }));
    const failing = request({ headers: { fail: '1' } });
    for (let i = 0; i < 4; i++) assert.equal((await run(script, failing)).ok, false);
    assert.equal(engine.status('shop/flaky')?.state, 'ok');
    assert.equal(engine.status('shop/flaky')?.consecutiveFailures, 4);
    const fifth = await run(script, failing);
    assert.ok(!fifth.ok && fifth.cause === 'throw');
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0]?.state, 'failing');
    assert.deepEqual(statuses[0]?.lastFailure, { cause: 'throw', message: 'Error: broken' });
    assert.equal(statuses[0]?.retryAt, clock.now + 1000);

    // While backing off: unavailable, fast, and the script does not run at all.
    const refused = await run(script);
    assert.ok(!refused.ok && refused.cause === 'unavailable' && /backing off \(last: throw: Error: broken\)/.test(refused.message), JSON.stringify(refused));

    // The backoff ends: one trial. It fails → backoff doubles.
    clock.advance(1000);
    assert.ok(!(await run(script, failing)).ok);
    assert.equal(engine.status('shop/flaky')?.retryAt, clock.now + 2000);
    clock.advance(1999);
    assert.ok(!(await run(script)).ok, 'still backing off');
    clock.advance(1);

    // A successful trial closes the breaker; the script never ran while refused.
    assert.deepEqual(decisionOf(await run(script)), { setHeaders: { runs: '1' } });
    assert.equal(engine.status('shop/flaky')?.state, 'ok');
    assert.equal(statuses.at(-1)?.state, 'ok');
    assert.deepEqual(decisionOf(await run(script)), { setHeaders: { runs: '2' } });
  });

  test('failures that are not consecutive never trip it', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const script = engine.load(handler("if (req.headers.fail) throw new Error('x'); return null;"));
    for (let i = 0; i < 20; i++) await run(script, i % 2 === 0 ? request({ headers: { fail: '1' } }) : request());
    assert.equal(engine.status(script.id)?.state, 'ok');
  });

  test('the backoff is capped', async (t) => {
    const clock = new ManualClock();
    const { engine, run } = testEngine({ now: clock.read, failurePolicy: { threshold: 1, initialBackoffMs: 100, maxBackoffMs: 300 } });
    t.after(() => engine.dispose());
    const script = engine.load(handler("throw new Error('always');"));
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      await run(script);
      const retryAt = engine.status(script.id)?.retryAt ?? 0;
      waits.push(retryAt - clock.now);
      clock.now = retryAt;
    }
    assert.deepEqual(waits, [100, 200, 300, 300, 300]);
  });

  test('a script that cannot load is unavailable and failing at once', async (t) => {
    const clock = new ManualClock();
    const { engine, runOnce } = testEngine({ now: clock.read });
    t.after(() => engine.dispose());
    const noExport = await runOnce(source('export const onRequest = 42;', { id: 'shop/not-a-function' }));
    assert.ok(!noExport.ok && noExport.cause === 'unavailable', JSON.stringify(noExport));
    assert.equal(engine.status('shop/not-a-function')?.state, 'failing');
    assert.match(engine.status('shop/not-a-function')?.lastFailure?.message ?? '', /must export a function onRequest/);
    const topLevelThrow = engine.load(source("throw new Error('bad module'); export function onRequest() {}", { id: 'shop/top-level' }));
    await topLevelThrow.ready;
    assert.match(engine.status(topLevelThrow.id)?.lastFailure?.message ?? '', /failed to load: Error: bad module|failed to load: bad module/);
    const topLevelLoop = engine.load(source('for (;;) {} export function onRequest() {}', { id: 'shop/top-loop', limits: { timeoutMs: 5, memoryMiB: 16 } }));
    await topLevelLoop.ready;
    assert.match(engine.status(topLevelLoop.id)?.lastFailure?.message ?? '', /timed out/);
  });
});

describe('a malformed request from the proxy', () => {
  test('is `unavailable` and does not count against the script', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const script = engine.load(handler('return null;'));
    const outcome = await run(script, { ...request(), method: undefined } as unknown as ReturnType<typeof request>);
    assert.ok(!outcome.ok && outcome.cause === 'unavailable', JSON.stringify(outcome));
    assert.equal(engine.status(script.id)?.consecutiveFailures, 0);
    assert.equal(decisionOf(await run(script)), null);
  });
});
