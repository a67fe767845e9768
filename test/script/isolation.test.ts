import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decisionOf, handler, request, source, testEngine } from './builders.ts';

/** Runs `expression` in a fresh script and gives its string value. */
async function evaluate(expression: string): Promise<string> {
  const { engine, runOnce } = testEngine();
  try {
    const decision = decisionOf(await runOnce(handler(`return { setHeaders: { v: String(${expression}) } };`))) as { setHeaders: { v: string } };
    return decision.setHeaders.v;
  } finally {
    engine.dispose();
  }
}

describe('a script sees no Node.js, no network, no timers', () => {
  const absent = ['process', 'require', 'module', 'Buffer', 'fetch', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'XMLHttpRequest', 'WebSocket', 'globalThis.global'];
  for (const name of absent) {
    test(`${name} is undefined`, async () => {
      assert.equal(await evaluate(`typeof ${name}`), 'undefined');
    });
  }

  test('eval and Function work, inside the sandbox', async () => {
    assert.equal(await evaluate("eval('1 + 1') + Function('return typeof process')()"), '2undefined');
  });

  test('the constructors of ctx functions lead back into the isolate only', async () => {
    assert.equal(await evaluate("ctx.state.get.constructor('return typeof process + typeof require')()"), 'undefinedundefined');
    assert.equal(await evaluate("ctx.log.constructor.constructor('return typeof fetch')()"), 'undefined');
  });

  test('dynamic import is refused', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const outcome = await runOnce(source("export async function onRequest() { await import('node:fs'); return null; }"));
    assert.ok(!outcome.ok && outcome.cause === 'throw', JSON.stringify(outcome));
  });

  test('the request is a frozen copy', async () => {
    assert.equal(await evaluate("[req, req.headers, req.query, req.query.tag, req.cookies].every(Object.isFrozen) && req.query.tag.join('+')"), 'a+b');
    assert.equal(await evaluate("(() => { try { req.headers['x-shop-id'] = '2'; return 'wrote'; } catch (e) { return e.constructor.name; } })()"), 'TypeError');
  });

  test('ctx is frozen and replacing builtins does not change how decisions are read', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const outcome = await runOnce(handler(`
      if (!Object.isFrozen(ctx) || !Object.isFrozen(ctx.state)) throw new Error('ctx is not frozen');
      JSON.stringify = () => '{"backend":"shard-z"}';
      JSON.parse = () => ({ headers: {} });
      Promise.prototype.then = function () { throw new Error('hijacked'); };
      return { backend: 'shard-a' };`));
    assert.deepEqual(decisionOf(outcome), { backend: 'shard-a' });
  });
});

describe('scripts never see each other', () => {
  test('globals and data of one script are invisible to another', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const a = engine.load(handler("globalThis.secret = 'from-a'; Object.prototype.polluted = 'yes'; return null;", { id: 'team-a/script', data: { token: 'a-token' } }));
    const b = engine.load(handler("return { setHeaders: { secret: String(globalThis.secret), polluted: String(({}).polluted), data: JSON.stringify(ctx.data) } };", { id: 'team-b/script', data: { mine: 1 } }));
    await run(a);
    assert.deepEqual(decisionOf(await run(b)), { setHeaders: { secret: 'undefined', polluted: 'undefined', data: '{"mine":1}' } });
  });

  test('two RouteScripts with identical code still get separate isolates', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const code = 'export function onRequest() { globalThis.n = (globalThis.n ?? 0) + 1; return { setHeaders: { n: String(globalThis.n) } }; }';
    const a = engine.load(source(code, { id: 'ns-a/same' }));
    const b = engine.load(source(code, { id: 'ns-b/same' }));
    assert.notEqual(a, b);
    await run(a);
    await run(a);
    assert.deepEqual(decisionOf(await run(b)), { setHeaders: { n: '1' } });
  });
});

describe('what persists between requests', () => {
  test('module-level state persists per isolate (per script, per worker), like an edge worker', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const script = engine.load(source(`
      const seen = new Map();
      let requests = 0;
      export function onRequest(req) {
        requests++;
        seen.set(req.clientIp, (seen.get(req.clientIp) ?? 0) + 1);
        return { setHeaders: { requests: String(requests), mine: String(seen.get(req.clientIp)) } };
      }`));
    await run(script);
    await run(script, request({ clientIp: '10.0.0.9' }));
    assert.deepEqual(decisionOf(await run(script)), { setHeaders: { requests: '3', mine: '2' } });
  });

  test('a ctx kept past its request cannot be used', async (t) => {
    const { engine, run } = testEngine();
    t.after(() => engine.dispose());
    const script = engine.load(handler(`
      if (globalThis.kept) {
        try { globalThis.kept.state.set('k', 1); return { setHeaders: { stale: 'usable' } }; }
        catch (e) { return { setHeaders: { stale: e.message } }; }
      }
      globalThis.kept = ctx;
      return null;`));
    await run(script);
    assert.deepEqual(decisionOf(await run(script)), { setHeaders: { stale: 'this ctx belongs to a request that has ended' } });
  });

  test('work a request leaves behind (a pending lookup continuation) never runs after it', async (t) => {
    let answer: (value: string) => void = () => {};
    const { engine, run } = testEngine({ lookup: () => new Promise<string>((resolve) => { answer = resolve; }) });
    t.after(() => engine.dispose());
    const script = engine.load(handler(`
      if (req.headers.leave) { ctx.lookup('k').then(() => { globalThis.leaked = true; for (;;) {} }); return null; }
      return { setHeaders: { leaked: String(globalThis.leaked) } };`));
    assert.equal(decisionOf(await run(script, request({ headers: { leave: '1' } }))), null);
    answer('late');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(decisionOf(await run(script)), { setHeaders: { leaked: 'undefined' } });
  });
});
