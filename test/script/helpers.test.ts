import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { hashKey32 } from '../../src/balancer/hash.ts';
import { RouteState } from '../../src/script/route-state.ts';
import { decisionOf, handler, ManualClock, request, testEngine } from './builders.ts';

describe('ctx.data', () => {
  const { engine, run } = testEngine();
  after(() => engine.dispose());
  const script = engine.load(
    handler(
      `const same = globalThis.lastData === ctx.data;
       globalThis.lastData = ctx.data;
       let writable = true;
       try { ctx.data.shards['1'] = 'x'; ctx.data.extra = 1; } catch { writable = false; }
       return { setHeaders: {
         shard: ctx.data.shards[req.headers['x-shop-id']],
         same: String(same),
         frozen: String(Object.isFrozen(ctx.data) && Object.isFrozen(ctx.data.shards) && Object.isFrozen(ctx.data.list[0])),
         writable: String(writable),
       } };`,
      { id: 'shop/data', data: { shards: { '1': 'shard-a', '2': 'shard-b' }, list: [{ n: 1 }] } },
    ),
  );

  test('is the script data, deep-frozen (writes throw in the module strict mode)', async () => {
    const decision = decisionOf(await run(script, request({ headers: { 'x-shop-id': '2' } })));
    assert.deepEqual(decision, { setHeaders: { shard: 'shard-b', same: 'false', frozen: 'true', writable: 'false' } });
  });

  test('is the same object on every request: copied once per isolate, not per request', async () => {
    const decision = decisionOf(await run(script)) as { setHeaders: Record<string, string> };
    assert.equal(decision.setHeaders.same, 'true');
  });
});

describe('ctx.hash', () => {
  const keys = ['', 'a', 'abc', 'abcd', 'abcde', 'tenant-42', 'user:1234567890', 'Hello, world!', 'ππππππππ', 'special characters açb↓c', '😀 emoji', 'a\uD800b', '\uDC00', 'x'.repeat(1000)];

  test('equals balancer/hash.ts hashKey32, so sharding in a script and ring hash agree', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const outcome = await runOnce(handler(`return { setHeaders: { h: JSON.parse(req.headers.keys).map((k) => ctx.hash(k)).join(',') } };`), request({ headers: { keys: JSON.stringify(keys) } }));
    const decision = decisionOf(outcome) as { setHeaders: { h: string } };
    assert.deepEqual(decision.setHeaders.h.split(',').map(Number), keys.map((key) => hashKey32(key)));
  });

  test('of a non-string throws in the script', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const outcome = await runOnce(handler('return { hashKey: String(ctx.hash(42)) };'));
    assert.ok(!outcome.ok && outcome.cause === 'throw' && /ctx.hash/.test(outcome.message));
  });
});

describe('ctx.state', () => {
  const throttle = handler(`
    const n = ctx.state.incr('ip:' + req.clientIp, 1, 1000);
    if (n > 3) return { respond: { status: 429, headers: { 'retry-after': '1' } } };
    return { setHeaders: { 'x-count': String(n) } };`, { id: 'shop/throttle' });

  test('counts per route with TTL windows (edge throttling)', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const clock = new ManualClock();
    const state = new RouteState({ now: clock.read });
    const script = engine.load(throttle);
    const statuses: unknown[] = [];
    for (let i = 0; i < 5; i++) statuses.push(decisionOf(await run(script, request(), state)));
    assert.deepEqual(statuses, [
      { setHeaders: { 'x-count': '1' } },
      { setHeaders: { 'x-count': '2' } },
      { setHeaders: { 'x-count': '3' } },
      { respond: { status: 429, headers: { 'retry-after': '1' } } },
      { respond: { status: 429, headers: { 'retry-after': '1' } } },
    ]);
    // Another client has its own counter; another route its own state.
    assert.deepEqual(decisionOf(await run(script, request({ clientIp: '10.9.9.9' }), state)), { setHeaders: { 'x-count': '1' } });
    assert.deepEqual(decisionOf(await run(script, request(), new RouteState())), { setHeaders: { 'x-count': '1' } });
    clock.advance(1000);
    assert.deepEqual(decisionOf(await run(script, request(), state)), { setHeaders: { 'x-count': '1' } });
    assert.equal(state.get('ip:10.1.2.3'), 1);
  });

  test('get, set with TTL and delete from the script; values persist in the proxy, not the isolate', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const clock = new ManualClock();
    const state = new RouteState({ now: clock.read });
    const script = engine.load(handler(`
      const op = req.headers.op;
      if (op === 'set') { ctx.state.set('mode', 'maintenance', 500); ctx.state.set('n', 7); }
      if (op === 'delete') ctx.state.delete('n');
      return { setHeaders: { mode: String(ctx.state.get('mode')), n: String(ctx.state.get('n')) } };`, { id: 'shop/kv' }));
    assert.deepEqual(decisionOf(await run(script, request({ headers: { op: 'set' } }), state)), { setHeaders: { mode: 'maintenance', n: '7' } });
    clock.advance(499);
    assert.deepEqual(decisionOf(await run(script, request({ headers: {} }), state)), { setHeaders: { mode: 'maintenance', n: '7' } });
    clock.advance(1);
    assert.deepEqual(decisionOf(await run(script, request({ headers: { op: 'delete' } }), state)), { setHeaders: { mode: 'null', n: 'null' } });
  });

  test('misuse throws inside the script, where it can be caught', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const outcome = await runOnce(handler(`
      const errors = [];
      for (const bad of [() => ctx.state.set('k', { an: 'object' }), () => ctx.state.set('', 1), () => ctx.state.set('k', 1, -5), () => { ctx.state.set('s', 'x'); ctx.state.incr('s'); }]) {
        try { bad(); errors.push('none'); } catch (e) { errors.push(e instanceof Error ? 'Error' : typeof e); }
      }
      return { setHeaders: { errors: errors.join(',') } };`));
    assert.deepEqual(decisionOf(outcome), { setHeaders: { errors: 'Error,Error,Error,Error' } });
    const uncaught = await runOnce(handler("ctx.state.incr('k', 'two'); return null;", { id: 'shop/uncaught' }));
    assert.ok(!uncaught.ok && uncaught.cause === 'throw' && /by must be a finite number/.test(uncaught.message), JSON.stringify(uncaught));
  });
});

describe('ctx.log', () => {
  test('writes lines with the script id, at most 10 per second per script, and counts the rest', async (t) => {
    const clock = new ManualClock();
    const { engine, run, lines } = testEngine({ now: clock.read });
    t.after(() => engine.dispose());
    const script = engine.load(handler("for (let i = 0; i < 25; i++) ctx.log('line', i, { shop: req.headers['x-shop-id'] }); return null;", { id: 'shop/chatty' }));
    decisionOf(await run(script));
    const logged = () => lines.filter((line) => line.script === 'shop/chatty' && typeof line.msg === 'string' && line.msg.startsWith('line'));
    assert.equal(logged().length, 10);
    assert.equal(logged()[0]?.msg, 'line 0 {"shop":"1"}');
    assert.equal(engine.status('shop/chatty')?.logLinesDropped, 15);
    clock.advance(1000);
    decisionOf(await run(script));
    assert.equal(logged().length, 20);
    assert.equal(logged()[10]?.droppedBefore, 15, 'the first line after a drop says how many were dropped');
    assert.equal(engine.status('shop/chatty')?.logLinesDropped, 30);
  });

  test('long lines are clipped and unprintable values do not throw', async (t) => {
    const { engine, runOnce, lines } = testEngine();
    t.after(() => engine.dispose());
    decisionOf(await runOnce(handler("const cyclic = {}; cyclic.self = cyclic; ctx.log('x'.repeat(5000)); ctx.log('cyclic', cyclic, undefined, 1n); return null;", { id: 'shop/clip' })));
    const messages = lines.filter((line) => line.script === 'shop/clip').map((line) => String(line.msg));
    assert.equal(messages.length, 2);
    assert.ok(messages[0]!.length <= 2049);
    assert.equal(messages[1], 'cyclic [unprintable] undefined [unprintable]');
  });
});
