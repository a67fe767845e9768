import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { validateDecision } from '../../src/script/decision.ts';
import { decisionOf, handler, testEngine } from './builders.ts';

const { engine, runOnce } = testEngine();
after(() => engine.dispose());

/** Runs a script returning `expression` and gives its outcome. */
function returning(expression: string, id = 'shop/decisions') {
  return runOnce(handler(`return ${expression};`, { id }));
}

describe('every decision kind comes out as a validated, frozen copy', () => {
  const cases: readonly (readonly [string, string, unknown])[] = [
    ['nothing (undefined)', 'undefined', null],
    ['nothing (null)', 'null', null],
    ['an empty decision', '{}', {}],
    ['a backend', "{ backend: 'shard-a' }", { backend: 'shard-a' }],
    ['headers to set (names lower-cased)', "{ setHeaders: { 'X-Shard': 'a', 'x-tenant': '42' } }", { setHeaders: { 'x-shard': 'a', 'x-tenant': '42' } }],
    ['headers to remove', "{ removeHeaders: ['Cookie', 'x-debug'] }", { removeHeaders: ['cookie', 'x-debug'] }],
    ['a hash key', "{ hashKey: 'user-7' }", { hashKey: 'user-7' }],
    ['an answer', "{ respond: { status: 302, headers: { location: '/login' }, body: 'moved' } }", { respond: { status: 302, headers: { location: '/login' }, body: 'moved' } }],
    ['an answer with a status only', '{ respond: { status: 204 } }', { respond: { status: 204 } }],
    ['a pause until a condition', "{ pause: { until: 'shard-moved:42', maxWaitMs: 5000 } }", { pause: { until: 'shard-moved:42', maxWaitMs: 5000 } }],
    ['a pause for a while', '{ pause: { maxWaitMs: 0 } }', { pause: { maxWaitMs: 0 } }],
    ['a pause with defaults', '{ pause: {} }', { pause: {} }],
    [
      'everything that combines',
      "{ backend: 'shard-b', setHeaders: { 'x-shard': 'b' }, removeHeaders: ['x-debug'], hashKey: 'k', pause: { until: 'ready' } }",
      { backend: 'shard-b', setHeaders: { 'x-shard': 'b' }, removeHeaders: ['x-debug'], hashKey: 'k', pause: { until: 'ready' } },
    ],
    ['a backend with a hash key', "{ backend: 'shard-a', hashKey: 'tenant-1' }", { backend: 'shard-a', hashKey: 'tenant-1' }],
    ['a key set to undefined is absent (as in JSON)', "{ backend: 'shard-a', hashKey: undefined }", { backend: 'shard-a' }],
    ['a class instance is read as its data', "new (class { constructor() { this.backend = 'shard-a'; } })()", { backend: 'shard-a' }],
    ['a header value with obs-text and tabs', "{ setHeaders: { 'x-v': 'caf\\u00e9\\tok' } }", { setHeaders: { 'x-v': 'café\tok' } }],
  ];
  for (const [name, expression, expected] of cases) {
    test(name, async () => {
      const decision = decisionOf(await returning(expression));
      assert.deepEqual(decision, expected);
      if (decision !== null) assert.ok(Object.isFrozen(decision));
    });
  }

  test('the issue example routes a known shop and answers 404 for an unknown one', async () => {
    const code = `export function onRequest(req, ctx) {
      const name = ctx.data.shards[req.headers['x-shop-id']];
      if (!name) return { respond: { status: 404, body: 'unknown shop' } };
      return { backend: name, setHeaders: { 'x-shard': name } };
    }`;
    const { engine: own, run } = testEngine();
    after(() => own.dispose());
    const script = own.load({ id: 'shop/tenant-shards', code, data: { shards: { '1': 'shard-a', '2': 'shard-b' } }, limits: { timeoutMs: 5, memoryMiB: 16 }, backends: ['shard-a', 'shard-b'] });
    const base = (await import('./builders.ts')).request;
    assert.deepEqual(decisionOf(await run(script, base({ headers: { 'x-shop-id': '2' } }))), { backend: 'shard-b', setHeaders: { 'x-shard': 'shard-b' } });
    assert.deepEqual(decisionOf(await run(script, base({ headers: { 'x-shop-id': '9' } }))), { respond: { status: 404, body: 'unknown shop' } });
  });

  test('an async onRequest decides the same way', async () => {
    const outcome = await runOnce(handler('return Promise.resolve({ backend: "shard-b" });'));
    assert.deepEqual(decisionOf(outcome), { backend: 'shard-b' });
    const asyncFn = await runOnce({ ...handler(''), code: 'export async function onRequest() { await null; return { hashKey: "x" }; }' });
    assert.deepEqual(decisionOf(asyncFn), { hashKey: 'x' });
  });

  test('a decision reports the time spent in the script', async () => {
    const outcome = await returning('{}');
    assert.ok(outcome.ok && outcome.cpuMs >= 0 && outcome.cpuMs < 50);
  });
});

describe('anything else is an invalid decision', () => {
  const garbage: readonly (readonly [string, string, RegExp])[] = [
    ['a number', '42', /object or null/],
    ['a string', "'shard-a'", /object or null/],
    ['a function', '() => 1', /object or null/],
    ['an array', "['shard-a']", /must be an object/],
    ['an unknown key', "{ backend: 'shard-a', weight: 3 }", /unknown key "weight"/],
    ['a misspelt key', "{ backnd: 'shard-a' }", /unknown key "backnd"/],
    ['a backend the script did not declare', "{ backend: 'shard-z' }", /"shard-z" is not one of the script's backends \(shard-a, shard-b\)/],
    ['a backend that is not a string', '{ backend: 1 }', /backend must be a string/],
    ['a function inside', "{ backend: 'shard-a', setHeaders: { x: () => 1 } }", /function/],
    ['a symbol inside', "{ hashKey: Symbol('k') }", /symbol/],
    ['a bigint inside', '{ hashKey: 1n }', /BigInt/],
    ['a header name with a space', "{ setHeaders: { 'x shard': 'a' } }", /not a valid header name/],
    ['a header name with a colon', "{ setHeaders: { 'x:y': 'a' } }", /not a valid header name/],
    ['an empty header name', "{ setHeaders: { '': 'a' } }", /not a valid header name/],
    ['a header value with CR LF', "{ setHeaders: { 'x-a': 'v\\r\\nx-evil: 1' } }", /not a valid header value/],
    ['a header value with a lone LF', "{ setHeaders: { 'x-a': 'v\\nx-evil: 1' } }", /not a valid header value/],
    ['a header value with a lone CR', "{ setHeaders: { 'x-a': 'v\\rx-evil: 1' } }", /not a valid header value/],
    ['a header value ending in LF', "{ setHeaders: { 'x-a': 'v\\n' } }", /not a valid header value/],
    ['a header value with ESC', "{ setHeaders: { 'x-a': 'v\\u001b[31m' } }", /not a valid header value/],
    ['a header value with DEL', "{ setHeaders: { 'x-a': 'v\\u007f' } }", /not a valid header value/],
    ['a header value with a vertical tab', "{ setHeaders: { 'x-a': 'v\\u000b' } }", /not a valid header value/],
    ['a response header value with a lone LF', "{ respond: { status: 200, headers: { 'x-a': 'v\\nx-evil: 1' } } }", /not a valid header value/],
    ['a response header value with a lone CR', "{ respond: { status: 200, headers: { 'x-a': 'v\\rx-evil: 1' } } }", /not a valid header value/],
    ['a header name with LF', "{ setHeaders: { 'x-a\\nx-evil': '1' } }", /not a valid header name/],
    ['a header name with CR', "{ setHeaders: { 'x-a\\r': '1' } }", /not a valid header name/],
    ['a header name with TAB', "{ setHeaders: { 'x-a\\t': '1' } }", /not a valid header name/],
    ['a header name with NUL', "{ setHeaders: { 'x-a\\u0000': '1' } }", /not a valid header name/],
    ['a header name with DEL', "{ setHeaders: { 'x-a\\u007f': '1' } }", /not a valid header name/],
    ['a response header name with LF', "{ respond: { status: 200, headers: { 'x-a\\nx-evil': '1' } } }", /not a valid header name/],
    ['removing a header name with LF', "{ removeHeaders: ['x-a\\nx-evil'] }", /not a valid header name/],
    ['a header value with NUL', "{ setHeaders: { 'x-a': 'v\\u0000' } }", /not a valid header value/],
    ['a header value beyond latin-1', "{ setHeaders: { 'x-a': '\\u2603' } }", /not a valid header value/],
    ['a header value that is a number', "{ setHeaders: { 'x-a': 1 } }", /must be a string/],
    ['a framing header', "{ setHeaders: { 'Content-Length': '0' } }", /content-length is managed by the proxy/],
    ['removing transfer-encoding', "{ removeHeaders: ['transfer-encoding'] }", /managed by the proxy/],
    ['setting host', "{ setHeaders: { host: 'evil.example' } }", /host is managed by the proxy/],
    ['a header both set and removed', "{ setHeaders: { 'x-a': '1' }, removeHeaders: ['X-A'] }", /both set and removed/],
    ['the same header twice in different case', "{ setHeaders: { 'x-a': '1', 'X-A': '2' } }", /twice/],
    ['removeHeaders that is not an array', "{ removeHeaders: 'x-a' }", /must be an array/],
    ['status 99', '{ respond: { status: 99 } }', /200 to 599/],
    ['status 600', '{ respond: { status: 600 } }', /200 to 599/],
    ['status 101 (not final)', '{ respond: { status: 101 } }', /200 to 599/],
    ['a fractional status', '{ respond: { status: 200.5 } }', /200 to 599/],
    ['a status as a string', "{ respond: { status: '200' } }", /200 to 599/],
    ['a respond without a status', "{ respond: { body: 'x' } }", /200 to 599/],
    ['an unknown respond key', '{ respond: { status: 200, code: 1 } }', /unknown key "code"/],
    ['a body over 64 KiB', "{ respond: { status: 200, body: 'x'.repeat(65537) } }", /larger than 65536 bytes/],
    ['a body over 64 KiB in UTF-8 bytes', "{ respond: { status: 200, body: '\\u00e9'.repeat(32769) } }", /larger than 65536 bytes/],
    ['a body that is not a string', '{ respond: { status: 200, body: {} } }', /body must be a string/],
    ['respond with a backend', "{ backend: 'shard-a', respond: { status: 403 } }", /respond cannot be combined with backend/],
    ['respond with a pause', '{ respond: { status: 403 }, pause: {} }', /respond cannot be combined with pause/],
    ['respond with request headers', "{ setHeaders: { 'x-a': '1' }, respond: { status: 403 } }", /respond cannot be combined with setHeaders/],
    ['a negative pause', '{ pause: { maxWaitMs: -1 } }', /maxWaitMs/],
    ['an endless pause', '{ pause: { maxWaitMs: Infinity } }', /maxWaitMs/],
    ['an empty pause condition', "{ pause: { until: '' } }", /pause.until/],
    ['a hash key that is too long', "{ hashKey: 'k'.repeat(1025) }", /hashKey is longer/],
    ['a __proto__ key', 'JSON.parse(\'{"__proto__": {"backend": "shard-a"}}\')', /unknown key "__proto__"/],
  ];
  for (const [name, expression, pattern] of garbage) {
    test(name, async () => {
      const outcome = await returning(expression, `shop/invalid-${name.replaceAll(/\W+/g, '-')}`);
      assert.equal(outcome.ok, false, `accepted: ${JSON.stringify(outcome)}`);
      if (outcome.ok) return;
      assert.equal(outcome.cause, 'invalid-decision');
      assert.match(outcome.message, pattern);
    });
  }

  test('a getter that loops is stopped by the budget, not run on the host', async () => {
    const outcome = await returning('{ get backend() { for (;;) {} } }', 'shop/getter');
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.cause, 'timeout');
  });

  test('a header named __proto__ stays a plain own key', () => {
    const check = validateDecision(JSON.parse('{"setHeaders": {"__proto__": "x"}}'), new Set());
    assert.ok(check.ok);
    if (check.ok) {
      assert.deepEqual(Object.keys(check.decision?.setHeaders ?? {}), ['__proto__']);
      assert.equal(Object.getPrototypeOf(check.decision?.setHeaders), Object.prototype);
    }
  });
});
