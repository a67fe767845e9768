/** Which scripts run on the worker's thread: cheap ones earn it, one slow call loses it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallMode, MAX_DEMOTIONS, PROMOTE_AFTER, SLOW_CALLS_TO_DEMOTE, SYNC_CALL_MAX_MS } from '../../src/script/call-mode.ts';
import { handler, request, testEngine } from './builders.ts';

test('a version starts asynchronous, earns synchronous calls by being cheap, and loses them for good after a few slow calls', () => {
  const mode = new CallMode();
  assert.equal(mode.sync, false);
  mode.observe(0.1, PROMOTE_AFTER - 1);
  mode.observe(SYNC_CALL_MAX_MS + 1, 1); // a slow call starts the count over
  mode.observe(0.1, PROMOTE_AFTER - 1);
  assert.equal(mode.sync, false);
  mode.observe(0.1, 1);
  assert.equal(mode.sync, true);
  mode.observe(SYNC_CALL_MAX_MS + 1, 1); // one slow call alone: garbage collection, say
  mode.observe(0.1, 1);
  assert.equal(mode.sync, true);
  for (let i = 0; i < MAX_DEMOTIONS; i++) {
    for (let j = 0; j < SLOW_CALLS_TO_DEMOTE; j++) mode.observe(SYNC_CALL_MAX_MS + 1, 1);
    assert.equal(mode.sync, false);
    mode.observe(0.1, PROMOTE_AFTER);
  }
  assert.equal(mode.sync, false, `after ${MAX_DEMOTIONS} demotions it stays asynchronous`);
});

test('a cheap script is promoted in the engine; calls that spin demote it, and each spin runs to its end', async (t) => {
  const { engine, run } = testEngine();
  t.after(() => engine.dispose());
  const script = engine.load(handler("if (req.headers['x-spin']) { const until = Date.now() + 20; while (Date.now() < until) {} } return { backend: 'shard-a' };", { limits: { timeoutMs: 100, memoryMiB: 16 } }));
  for (let i = 0; i < 10 * PROMOTE_AFTER / 50 && !script.mode.sync; i++) await Promise.all(Array.from({ length: 50 }, () => run(script)));
  assert.equal(script.mode.sync, true);
  for (let i = 0; i < SLOW_CALLS_TO_DEMOTE; i++) assert.equal((await run(script, request({ headers: { 'x-spin': '1' } }))).ok, true);
  assert.equal(script.mode.sync, false);
});
