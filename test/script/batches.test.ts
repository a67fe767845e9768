/** Requests queued in one turn of the event loop run in one isolate call, each with its own outcome. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouteState } from '../../src/script/route-state.ts';
import type { Outcome } from '../../src/script/types.ts';
import { decisionOf, handler, request, source, testEngine } from './builders.ts';

/** Runs one request per `ids` entry in the same turn, `x-id` set to it; outcomes in that order. */
function runTogether(run: (req: ReturnType<typeof request>) => Promise<Outcome>, ids: readonly string[]): Promise<Outcome[]> {
  return Promise.all(ids.map((id) => run(request({ headers: { 'x-id': id } }))));
}

test('requests of one turn run in one call, each with its own request, ctx and decision', async (t) => {
  const { engine, run } = testEngine();
  t.after(() => engine.dispose());
  const script = engine.load(
    source(`let n = 0;
      export function onRequest(req, ctx) {
        n++;
        return { setHeaders: { 'x-id': req.headers['x-id'], 'x-order': String(n), 'x-count': String(ctx.state.incr('k')) } };
      }`),
  );
  await run(script); // the isolate's first call
  const before = engine.stats;
  const state = new RouteState();
  const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
  const outcomes = await Promise.all(ids.map((id) => engine.run(script, request({ headers: { 'x-id': id } }), state)));
  assert.equal(engine.stats.batches - before.batches, 1, 'one isolate call for the 20 requests');
  assert.equal(engine.stats.batchedRequests - before.batchedRequests, 20);
  outcomes.forEach((outcome, i) => {
    assert.deepEqual(decisionOf(outcome), { setHeaders: { 'x-id': `r${i}`, 'x-order': String(i + 2), 'x-count': String(i + 1) } });
  });
  // Requests of the next turn are the next call.
  await Promise.all([run(script), run(script)]);
  assert.equal(engine.stats.batches - before.batches, 2);
});

test('a throw in a batch fails that request only', async (t) => {
  const { engine, run } = testEngine();
  t.after(() => engine.dispose());
  const script = engine.load(handler("if (req.headers['x-id'] === 'bad') throw new Error('bad shop'); return { backend: 'shard-a' };"));
  await run(script);
  const outcomes = await runTogether((req) => run(script, req), ['a', 'bad', 'b']);
  assert.deepEqual(decisionOf(outcomes[0]!), { backend: 'shard-a' });
  assert.deepEqual(outcomes[1], { ok: false, cause: 'throw', message: 'Error: bad shop' });
  assert.deepEqual(decisionOf(outcomes[2]!), { backend: 'shard-a' });
});

test('a request cut off at its deadline fails alone: those before keep their results, those after run once, next', async (t) => {
  const { engine, run } = testEngine();
  t.after(() => engine.dispose());
  const script = engine.load(
    source(
      `const seen = [];
      export function onRequest(req) {
        const id = req.headers['x-id'];
        if (id === 'report') return { setHeaders: { 'x-seen': seen.join(',') } };
        seen.push(id);
        if (id === 'loop') for (;;) {}
        return { setHeaders: { 'x-id': id } };
      }`,
      { limits: { timeoutMs: 20, memoryMiB: 16 } },
    ),
  );
  await run(script, request({ headers: { 'x-id': 'warm' } }));
  const before = engine.stats.batches;
  const outcomes = await runTogether((req) => run(script, req), ['a', 'b', 'loop', 'c', 'd']);
  assert.deepEqual(outcomes.map((o) => (o.ok ? 'ok' : o.cause)), ['ok', 'ok', 'timeout', 'ok', 'ok']);
  assert.deepEqual(outcomes[2], { ok: false, cause: 'timeout', message: 'the script exceeded its 20 ms budget' });
  assert.deepEqual(decisionOf(outcomes[3]!), { setHeaders: { 'x-id': 'c' } });
  assert.equal(engine.stats.batches - before, 2, 'the requests after the cut-off ran in a second call');
  // The isolate survives its deadline, and each request ran exactly once, in order.
  assert.deepEqual(decisionOf(await run(script, request({ headers: { 'x-id': 'report' } }))), { setHeaders: { 'x-seen': 'warm,a,b,loop,c,d' } });
});

test('an async continuation cut off at the deadline fails its own request; the batch ran once', async (t) => {
  const { engine, run } = testEngine();
  t.after(() => engine.dispose());
  const script = engine.load(
    source(
      `const seen = [];
      export async function onRequest(req) {
        const id = req.headers['x-id'];
        if (id === 'report') return { setHeaders: { 'x-seen': seen.join(',') } };
        seen.push(id);
        await null;
        if (id === 'loop') for (;;) {}
        return { setHeaders: { 'x-id': id } };
      }`,
      { limits: { timeoutMs: 20, memoryMiB: 16 } },
    ),
  );
  await run(script, request({ headers: { 'x-id': 'warm' } }));
  const outcomes = await runTogether((req) => run(script, req), ['a', 'loop', 'b']);
  assert.deepEqual(outcomes.map((o) => (o.ok ? 'ok' : o.cause)), ['ok', 'timeout', 'ok']);
  assert.deepEqual(decisionOf(outcomes[2]!), { setHeaders: { 'x-id': 'b' } });
  assert.deepEqual(decisionOf(await run(script, request({ headers: { 'x-id': 'report' } }))), { setHeaders: { 'x-seen': 'warm,a,loop,b' } });
});

test('a batch of slow but healthy requests is not cut off by adding up to one deadline', async (t) => {
  const { engine, run } = testEngine();
  t.after(() => engine.dispose());
  // Each request busies itself for 60 % of its 50 ms budget: six of them in one call would pass the
  // call's deadline (2 × 50 + 10 ms) — the call stops starting requests when the budget has passed.
  const script = engine.load(
    handler("const until = Date.now() + 30; while (Date.now() < until) {} return { setHeaders: { 'x-id': req.headers['x-id'] } };", {
      limits: { timeoutMs: 50, memoryMiB: 16 },
    }),
  );
  await run(script);
  const before = engine.stats.batches;
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
  const outcomes = await runTogether((req) => run(script, req), ids);
  outcomes.forEach((outcome, i) => assert.deepEqual(decisionOf(outcome), { setHeaders: { 'x-id': ids[i] } }));
  assert.ok(engine.stats.batches - before >= 3, `${engine.stats.batches - before} calls for 180 ms of work with a 50 ms budget`);
});

test('a script that starts failing within a queue stops being run for the rest of it', async (t) => {
  const { engine, run } = testEngine({ failurePolicy: { threshold: 2, initialBackoffMs: 60_000 } });
  t.after(() => engine.dispose());
  const script = engine.load(handler("if (req.headers['x-id'] !== 'ok') for (;;) {} return null;", { limits: { timeoutMs: 5, memoryMiB: 16 } }));
  await run(script, request({ headers: { 'x-id': 'ok' } }));
  const outcomes = await runTogether((req) => run(script, req), ['1', '2', '3', '4', '5', '6']);
  // Each looping request is a call of its own (those after it are put off); after two timeouts the
  // script backs off and the rest are refused without running.
  assert.deepEqual(outcomes.map((o) => (o.ok ? 'ok' : o.cause)), ['timeout', 'timeout', 'unavailable', 'unavailable', 'unavailable', 'unavailable']);
  assert.equal(engine.status('shop/test')?.state, 'failing');
});

test('a memory limit hit in a batch fails the requests of that call, and the next call gets a new isolate', async (t) => {
  const { engine, run } = testEngine();
  t.after(() => engine.dispose());
  const script = engine.load(
    handler("if (req.headers['x-id'] === 'bomb') { const keep = []; for (;;) keep.push(new Array(1e5).fill(1)); } return { backend: 'shard-b' };", {
      limits: { timeoutMs: 2_000, memoryMiB: 16 },
    }),
  );
  await run(script);
  const created = engine.stats.isolatesCreated;
  const outcomes = await runTogether((req) => run(script, req), ['a', 'bomb', 'b']);
  assert.deepEqual(outcomes.map((o) => (o.ok ? 'ok' : o.cause)), ['memory', 'memory', 'memory']);
  assert.deepEqual(decisionOf(await run(script)), { backend: 'shard-b' });
  assert.equal(engine.stats.isolatesCreated, created + 1);
});

test('runs still queued when the engine is disposed end as unavailable', async (t) => {
  const { engine, run } = testEngine();
  t.after(() => engine.dispose());
  const script = engine.load(handler('return null;'));
  const pending = [run(script), run(script)];
  engine.dispose();
  for (const outcome of await Promise.all(pending)) assert.deepEqual(outcome, { ok: false, cause: 'unavailable', message: 'the script engine is shut down' });
});
