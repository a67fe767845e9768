import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { RouteState } from '../../src/script/route-state.ts';
import type { ScriptResponse } from '../../src/script/types.ts';
import { decisionOf, request, source, testEngine } from './builders.ts';

const { engine } = testEngine();
after(() => engine.dispose());

/** A response to the builders' default request. */
function response(overrides: Partial<ScriptResponse> = {}): ScriptResponse {
  return { status: 200, headers: { 'content-type': 'text/html', server: 'upstream/1.0' }, request: request(), ...overrides };
}

async function loaded(code: string, id: string) {
  const script = engine.load(source(code, { id }));
  await script.ready;
  return script;
}

describe('onResponse', () => {
  test('the engine says which hooks a script has, before it is set up', () => {
    const both = engine.load(source('export function onRequest() {}\nexport function onResponse() {}', { id: 'shop/hooks-both' }));
    const requestOnly = engine.load(source('export function onRequest() {}', { id: 'shop/hooks-request' }));
    const responseOnly = engine.load(source('export function onResponse() {}', { id: 'shop/hooks-response' }));
    assert.deepEqual(both.hooks, { onRequest: true, onResponse: true });
    assert.deepEqual(requestOnly.hooks, { onRequest: true, onResponse: false });
    assert.deepEqual(responseOnly.hooks, { onRequest: false, onResponse: true });
  });

  test('it sees the status, the lower-case headers and the request, all frozen', async () => {
    const script = await loaded(`export function onResponse(res, ctx) {
      return { setHeaders: { 'x-seen': [res.status, res.headers['content-type'], res.request.method, res.request.path, res.request.headers['x-shop-id'],
        Object.isFrozen(res), Object.isFrozen(res.headers), Object.isFrozen(res.request), Object.keys(res.headers).join('+')].join(' ') } };
    }`, 'shop/response-view');
    const outcome = await engine.runResponse(script, response({ headers: { 'content-type': 'text/html', 'x-upstream': 'a\u0001b' } }), new RouteState());
    assert.deepEqual(decisionOf(outcome), { setHeaders: { 'x-seen': '200 text/html GET /cart 1 true true true content-type+x-upstream' } });
  });

  test('it edits the response headers, and may remove headers a request decision may not (none of the framing ones)', async () => {
    const script = await loaded("export function onResponse(res) { return { setHeaders: { 'Cache-Control': 'no-store' }, removeHeaders: ['Server'] }; }", 'shop/response-edit');
    assert.deepEqual(decisionOf(await engine.runResponse(script, response(), new RouteState())), { setHeaders: { 'cache-control': 'no-store' }, removeHeaders: ['server'] });
    const framing = await loaded("export function onResponse() { return { removeHeaders: ['content-length'] }; }", 'shop/response-framing');
    const refused = await engine.runResponse(framing, response(), new RouteState());
    assert.ok(!refused.ok && refused.cause === 'invalid-decision' && /managed by the proxy/.test(refused.message), JSON.stringify(refused));
  });

  test('respond replaces an error response, from the upstream or the proxy, and nothing else', async () => {
    const script = await loaded("export function onResponse(res) { return { respond: { status: 503, headers: { 'content-type': 'text/plain' }, body: 'down for maintenance' } }; }", 'shop/response-respond');
    for (const status of [404, 500, 502, 504]) {
      assert.deepEqual(decisionOf(await engine.runResponse(script, response({ status }), new RouteState())), { respond: { status: 503, headers: { 'content-type': 'text/plain' }, body: 'down for maintenance' } });
    }
    for (const status of [200, 301, 399]) {
      const outcome = await engine.runResponse(script, response({ status }), new RouteState());
      assert.ok(!outcome.ok && outcome.cause === 'invalid-decision', JSON.stringify(outcome));
      if (!outcome.ok) assert.match(outcome.message, new RegExp(`only an error response .*not a ${status}`));
    }
  });

  test('request decisions are not response decisions', async () => {
    for (const [i, decision] of ["{ backend: 'shard-a' }", "{ hashKey: 'k' }", "{ redirect: { status: 302, location: '/' } }", "{ rewrite: { path: '/' } }", '{ pause: {} }'].entries()) {
      const script = await loaded(`export function onResponse() { return ${decision}; }`, `shop/response-wrong-${i}`);
      const outcome = await engine.runResponse(script, response(), new RouteState());
      assert.ok(!outcome.ok && outcome.cause === 'invalid-decision' && /unknown key/.test(outcome.message), JSON.stringify(outcome));
    }
  });

  test('a hook the script does not have decides nothing and does not run', async () => {
    const requestOnly = await loaded("let n = 0; export function onRequest() { return { setHeaders: { n: String(++n) } }; }", 'shop/only-request');
    const before = engine.stats.batches;
    assert.deepEqual(await engine.runResponse(requestOnly, response(), new RouteState()), { ok: true, decision: null, cpuMs: 0 });
    const responseOnly = await loaded("export function onResponse() { return { setHeaders: { 'x-a': '1' } }; }", 'shop/only-response');
    assert.deepEqual(await engine.run(responseOnly, request(), new RouteState()), { ok: true, decision: null, cpuMs: 0 });
    assert.equal(engine.stats.batches, before, 'no isolate call was made');
  });

  test('onRequest and onResponse share module state and the route state, and async works', async () => {
    const script = await loaded(`let started = 0;
      export function onRequest(req, ctx) { started++; ctx.state.set('last', req.path); return null; }
      export async function onResponse(res, ctx) { await null; return { setHeaders: { 'x-started': String(started), 'x-last': ctx.state.get('last') } }; }`, 'shop/shared-state');
    const state = new RouteState();
    assert.equal(decisionOf(await engine.run(script, request({ path: '/a' }), state)), null);
    assert.deepEqual(decisionOf(await engine.runResponse(script, response(), state)), { setHeaders: { 'x-started': '1', 'x-last': '/a' } });
  });

  test('a failure of onResponse is an outcome like one of onRequest, and counts against the same script', async () => {
    const { engine: own } = testEngine({ failurePolicy: { threshold: 2 } });
    after(() => own.dispose());
    const script = own.load(source("export function onRequest() { return null; }\nexport function onResponse() { throw new TypeError('no'); }", { id: 'shop/response-throws' }));
    await script.ready;
    const thrown = await own.runResponse(script, response(), new RouteState());
    assert.deepEqual(thrown, { ok: false, cause: 'throw', message: 'TypeError: no' });
    await own.runResponse(script, response(), new RouteState());
    assert.equal(own.status('shop/response-throws')?.state, 'failing');
    const refused = await own.run(script, request(), new RouteState());
    assert.ok(!refused.ok && refused.cause === 'unavailable', 'the failing script backs off for requests too');
  });

  test('an onResponse that spins is stopped by the budget', async () => {
    const script = engine.load(source('export function onResponse() { for (;;) {} }', { id: 'shop/response-spins', limits: { timeoutMs: 5, memoryMiB: 16 } }));
    await script.ready;
    const outcome = await engine.runResponse(script, response(), new RouteState());
    assert.ok(!outcome.ok && outcome.cause === 'timeout', JSON.stringify(outcome));
  });

  test('an export that is not a function fails the load with the hook named', async () => {
    const script = engine.load(source('export function onRequest() {}\nexport const onResponse = 1;', { id: 'shop/response-not-function' }));
    await script.ready;
    assert.match(engine.status('shop/response-not-function')?.lastFailure?.message ?? '', /must export a function onResponse\(res, ctx\), not a number/);
  });
});
