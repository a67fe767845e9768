import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpLookup, type LookupEndpoint } from '../../src/script/lookup.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';
import { decisionOf, handler, ManualClock, request, testEngine } from './builders.ts';

/**
 * A shard directory: `/shards/<id>` → the shard; `/slow/...` answers after 1.5 s, far past every
 * deadline the tests below expect, so that a loaded machine cannot blur the two; `/fail/...` 500s.
 */
const directory: Record<string, string> = { '1': 'shard-a', '2': 'shard-b', 'a/b c': 'shard-b' };
let server: TestUpstream;
const SLOW_MS = 1_500;

before(async () => {
  server = await startUpstream('directory', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, kind, key] = url.pathname.split('/');
    const value = directory[decodeURIComponent(key ?? '')];
    const answer = () => {
      if (kind === 'fail') res.writeHead(500).end('boom');
      else if (kind === 'big') res.writeHead(200).end('x'.repeat(20_000));
      else if (value === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(value);
    };
    if (kind === 'slow') setTimeout(answer, SLOW_MS);
    else answer();
  });
});
after(() => server.close());

function lookupFor(path: string, extra: Partial<LookupEndpoint> = {}, clock = new ManualClock()): HttpLookup {
  return new HttpLookup({ endpoints: (id) => (id === 'shop/shards' ? { endpoint: `127.0.0.1:${server.port}`, path, ...extra } : undefined), now: clock.read });
}

describe('HttpLookup', () => {
  test('a cached answer needs no endpoint: it still serves while the service has none ready; forget drops it', async (t) => {
    let ready = true;
    const lookup = new HttpLookup({
      endpoints: () => {
        if (!ready) throw new Error('the lookup service shop/directory:80 has no ready endpoint');
        return { endpoint: `127.0.0.1:${server.port}`, path: '/shards/{key}' };
      },
    });
    t.after(() => lookup.close());
    assert.equal(await lookup.fetch('shop/shards', '1'), 'shard-a');
    ready = false;
    assert.equal(await lookup.fetch('shop/shards', '1'), 'shard-a');
    await assert.rejects(lookup.fetch('shop/shards', '2'), /has no ready endpoint/);
    lookup.forget('shop/shards');
    await assert.rejects(lookup.fetch('shop/shards', '1'), /has no ready endpoint/);
  });

  test('GETs the key, caches it for its TTL, then asks again', async (t) => {
    const clock = new ManualClock();
    const lookup = lookupFor('/shards/{key}', { ttlMs: 1000 }, clock);
    t.after(() => lookup.close());
    const seenBefore = server.seen.length;
    assert.equal(await lookup.fetch('shop/shards', '1'), 'shard-a');
    assert.equal(await lookup.fetch('shop/shards', '1'), 'shard-a');
    assert.equal(lookup.fetches, 1);
    assert.equal(server.seen.at(-1)?.url, '/shards/1');
    clock.advance(1000);
    assert.equal(await lookup.fetch('shop/shards', '1'), 'shard-a');
    assert.equal(lookup.fetches, 2);
    assert.equal(server.seen.length - seenBefore, 2);
  });

  test('404 is null, cached for the negative TTL', async (t) => {
    const clock = new ManualClock();
    const lookup = lookupFor('/shards/{key}', { negativeTtlMs: 100 }, clock);
    t.after(() => lookup.close());
    assert.equal(await lookup.fetch('shop/shards', 'nope'), null);
    assert.equal(await lookup.fetch('shop/shards', 'nope'), null);
    assert.equal(lookup.fetches, 1);
    clock.advance(100);
    assert.equal(await lookup.fetch('shop/shards', 'nope'), null);
    assert.equal(lookup.fetches, 2);
  });

  test('concurrent lookups of one key share one request', async (t) => {
    const lookup = lookupFor('/slow/{key}', { timeoutMs: 5_000 });
    t.after(() => lookup.close());
    const values = await Promise.all(Array.from({ length: 20 }, () => lookup.fetch('shop/shards', '2')));
    assert.deepEqual(new Set(values), new Set(['shard-b']));
    assert.equal(lookup.fetches, 1);
  });

  test('the key is percent-encoded into the path', async (t) => {
    const lookup = lookupFor('shards/{key}');
    t.after(() => lookup.close());
    assert.equal(await lookup.fetch('shop/shards', 'a/b c'), 'shard-b');
    assert.equal(server.seen.at(-1)?.url, '/shards/a%2Fb%20c');
  });

  test('a key stays one segment of the path: it cannot climb, end the segment, or start a query or fragment', async (t) => {
    const lookup = lookupFor('/shards/{key}/info');
    t.after(() => lookup.close());
    const before = server.seen.length;
    const asked = (): string[] => server.seen.slice(before).map((r) => r.url);
    const keys: [key: string, url: string][] = [
      ['../../admin', '/shards/..%2F..%2Fadmin/info'],
      ['a/../b', '/shards/a%2F..%2Fb/info'],
      ['x?admin=1', '/shards/x%3Fadmin%3D1/info'],
      ['x#frag', '/shards/x%23frag/info'],
      ['%2e%2e', '/shards/%252e%252e/info'],
      ['..\\admin', '/shards/..%5Cadmin/info'],
      ['admin;x', '/shards/admin%3Bx/info'],
      ["it's(*)!", '/shards/it%27s%28%2A%29%21/info'],
      ['...', '/shards/.../info'],
      ['café', '/shards/caf%C3%A9/info'],
    ];
    for (const [key] of keys) assert.equal(await lookup.fetch('shop/shards', key), null, key);
    assert.deepEqual(asked(), keys.map(([, url]) => url), 'what the lookup service was asked for');
  });

  test('a key that is a dot segment fails the lookup without asking (no spelling of it is safe)', async (t) => {
    const lookup = lookupFor('/shards/{key}/info');
    t.after(() => lookup.close());
    const before = server.seen.length;
    // `%2E%2E` would not do: servers that decode it before resolving dot segments still climb.
    for (const key of ['..', '.']) await assert.rejects(lookup.fetch('shop/shards', key), /cannot name a resource/, key);
    await assert.rejects(lookup.fetch('shop/shards', 'a\uD800'), /not well-formed/);
    assert.deepEqual(server.seen.slice(before).map((r) => r.url), [], 'the lookup service was asked nothing');
  });

  test('a slow service times out; errors are not cached', async (t) => {
    const lookup = lookupFor('/slow/{key}', { timeoutMs: 50 });
    t.after(() => lookup.close());
    const started = performance.now();
    await assert.rejects(lookup.fetch('shop/shards', '1'), /timed out after 50 ms/);
    assert.ok(performance.now() - started < SLOW_MS - 500, 'gave up long before the answer');
    await assert.rejects(lookup.fetch('shop/shards', '1'), /timed out/);
    assert.equal(lookup.fetches, 2);
  });

  test('a 500, an oversized answer and a script without a lookup reject', async (t) => {
    const lookup = lookupFor('/fail/{key}');
    const big = lookupFor('/big/{key}');
    t.after(() => Promise.all([lookup.close(), big.close()]));
    await assert.rejects(lookup.fetch('shop/shards', '1'), /answered 500/);
    await assert.rejects(big.fetch('shop/shards', '1'), /larger than 16384 bytes/);
    await assert.rejects(lookup.fetch('shop/other', '1'), /no lookup service/);
  });
});

describe('ctx.lookup', () => {
  const shardByLookup = handler(`
    return ctx.lookup(req.headers['x-shop-id']).then(
      (name) => name === null ? { respond: { status: 404, body: 'unknown shop' } } : { backend: name },
      (error) => ({ respond: { status: 503, body: error.message } }));`, { id: 'shop/shards', limits: { timeoutMs: 200, memoryMiB: 16 } });

  test('routes by what the lookup service answers (async/await, cached per worker)', async (t) => {
    const lookup = lookupFor('/shards/{key}');
    const { engine, run } = testEngine({ lookup: lookup.fetch });
    t.after(async () => { engine.dispose(); await lookup.close(); });
    const script = engine.load({ ...shardByLookup, code: `export async function onRequest(req, ctx) {
      const name = await ctx.lookup(req.headers['x-shop-id']);
      return name === null ? { respond: { status: 404 } } : { backend: name, setHeaders: { 'x-shard': name } };
    }` });
    assert.deepEqual(decisionOf(await run(script, request({ headers: { 'x-shop-id': '2' } }))), { backend: 'shard-b', setHeaders: { 'x-shard': 'shard-b' } });
    assert.deepEqual(decisionOf(await run(script, request({ headers: { 'x-shop-id': '2' } }))), { backend: 'shard-b', setHeaders: { 'x-shard': 'shard-b' } });
    assert.deepEqual(decisionOf(await run(script, request({ headers: { 'x-shop-id': '7' } }))), { respond: { status: 404 } });
    assert.equal(lookup.fetches, 2);
  });

  test('a failed lookup rejects in the script, which may handle it', async (t) => {
    const lookup = lookupFor('/fail/{key}');
    const { engine, runOnce } = testEngine({ lookup: lookup.fetch });
    t.after(async () => { engine.dispose(); await lookup.close(); });
    assert.deepEqual(decisionOf(await runOnce(shardByLookup)), { respond: { status: 503, body: 'the lookup service answered 500' } });
  });

  test('waiting counts against the request budget', async (t) => {
    const lookup = lookupFor('/slow/{key}', { timeoutMs: 5000 });
    const { engine, run } = testEngine({ lookup: lookup.fetch });
    t.after(async () => { engine.dispose(); await lookup.close(); });
    const script = engine.load({ ...shardByLookup, code: shardByLookup.code.replace('{\n', "{\nif (req.headers['x-warm']) return null;\n"), limits: { timeoutMs: 100, memoryMiB: 16 } });
    assert.equal(decisionOf(await run(script, request({ headers: { 'x-warm': '1' } }))), null); // past the isolate's larger first budget
    const started = performance.now();
    const outcome = await run(script);
    const elapsed = performance.now() - started;
    assert.deepEqual(outcome, { ok: false, cause: 'timeout', message: 'the script exceeded its 100 ms budget' });
    // Never before twice the budget plus 10 ms; the upper bound only needs to beat the slow answer.
    assert.ok(elapsed >= 205 && elapsed < SLOW_MS - 500, `took ${elapsed} ms (stopped at twice the budget plus 10 ms, long before the ${SLOW_MS} ms answer)`);
  });

  test('a continuation after the lookup is bounded by the rest of the budget', async (t) => {
    const { engine, run } = testEngine({ lookup: async (_id, key) => key });
    t.after(() => engine.dispose());
    const script = engine.load({ ...shardByLookup, code: "export async function onRequest(req, ctx) { if (req.headers['x-warm']) return null; await ctx.lookup('k'); for (;;) {} }", limits: { timeoutMs: 100, memoryMiB: 16 } });
    assert.equal(decisionOf(await run(script, request({ headers: { 'x-warm': '1' } }))), null);
    const started = performance.now();
    const outcome = await run(script);
    assert.ok(!outcome.ok && outcome.cause === 'timeout', JSON.stringify(outcome));
    assert.ok(performance.now() - started < 1_000);
  });

  test('without a lookup service ctx.lookup throws; a bad key throws', async (t) => {
    const { engine, runOnce } = testEngine();
    t.after(() => engine.dispose());
    const outcome = await runOnce(handler("ctx.lookup('k'); return null;"));
    assert.ok(!outcome.ok && outcome.cause === 'throw' && /ctx.lookup is not available/.test(outcome.message), JSON.stringify(outcome));
    const { engine: withLookup, runOnce: runWith } = testEngine({ lookup: async () => 'v' });
    t.after(() => withLookup.dispose());
    const badKey = await runWith(handler('ctx.lookup(42); return null;'));
    assert.ok(!badKey.ok && badKey.cause === 'throw' && /key must be a string/.test(badKey.message), JSON.stringify(badKey));
  });

  test('a fetcher that answers garbage is a rejected lookup', async (t) => {
    const { engine, runOnce } = testEngine({ lookup: async () => 42 as unknown as string });
    t.after(() => engine.dispose());
    assert.deepEqual(decisionOf(await runOnce(shardByLookup)), { respond: { status: 503, body: 'the lookup returned a non-string' } });
  });
});
