/**
 * Scratch measurement, not a test: what one call into a script costs with each way isolated-vm
 * offers, and what `ScriptEngine.run` costs end to end, for the typical sharding script (a header
 * read, a map lookup in the data, `{backend, setHeaders}`). Run it with
 *
 *   node test/script/measure-call-cost.ts
 *
 * The numbers chose the engine's design: synchronous calls, the request as one string with headers
 * read on demand, decisions as JSON text. src/script/README.md has a table of them and the reasoning.
 */
import ivm from 'isolated-vm';
import { createLogger } from '../../src/log.ts';
import { ScriptEngine } from '../../src/script/engine.ts';
import { RouteState } from '../../src/script/route-state.ts';
import type { ScriptRequest } from '../../src/script/types.ts';

const shards: Record<string, string> = {};
for (let i = 0; i < 10_000; i++) shards[String(i)] = `shard-${'ab'[i % 2]}`;

/** A browser-like request: what the proxy would hand a script. */
const req: ScriptRequest = {
  method: 'GET',
  host: 'shop.example.com',
  path: '/products/1234',
  query: { page: '2', sort: 'price' },
  headers: {
    host: 'shop.example.com',
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
    'accept-language': 'en-GB,en;q=0.9',
    'accept-encoding': 'gzip, deflate, br',
    cookie: 'session=7f1c2a9e4b; theme=dark; consent=1',
    'x-shop-id': '4242',
    'x-request-id': '0f8fad5b-d9cb-469f-a165-70867728950e',
    'x-forwarded-for': '203.0.113.9',
  },
  cookies: { session: '7f1c2a9e4b', theme: 'dark', consent: '1' },
  clientIp: '203.0.113.9',
  sni: 'shop.example.com',
};

const SCRIPT = `export function onRequest(req, ctx) {
  const name = ctx.data.shards[req.headers['x-shop-id']];
  if (!name) return { respond: { status: 404, body: 'unknown shop' } };
  return { backend: name, setHeaders: { 'x-shard': name } };
}`;

/**
 * Runs `fn` `n` times, three rounds, and reports the best round: wall time and process CPU time
 * (user + system, all threads — isolated-vm's timer thread included) per call. On a busy machine the
 * CPU figure is the steadier one.
 */
function measure(name: string, fn: () => unknown, n = 100_000): number {
  for (let i = 0; i < n / 10; i++) fn();
  let bestWall = Infinity;
  let bestCpu = Infinity;
  for (let round = 0; round < 3; round++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < n; i++) fn();
    bestWall = Math.min(bestWall, ((performance.now() - start) * 1000) / n);
    const used = process.cpuUsage(cpu);
    bestCpu = Math.min(bestCpu, (used.user + used.system) / n);
  }
  report(name, bestWall, bestCpu);
  return bestCpu;
}

/** Like {@link measure} for a promise; `perCall` calls are made together each time and awaited as one. */
async function measureAsync(name: string, fn: () => Promise<unknown>, n = 50_000, perCall = 1): Promise<number> {
  const turn = perCall === 1 ? fn : () => Promise.all(Array.from({ length: perCall }, fn));
  for (let i = 0; i < n / perCall / 10; i++) await turn();
  let bestWall = Infinity;
  let bestCpu = Infinity;
  for (let round = 0; round < 3; round++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < n; i += perCall) await turn();
    bestWall = Math.min(bestWall, ((performance.now() - start) * 1000) / n);
    const used = process.cpuUsage(cpu);
    bestCpu = Math.min(bestCpu, (used.user + used.system) / n);
  }
  report(name, bestWall, bestCpu);
  return bestCpu;
}

function report(name: string, wallUs: number, cpuUs: number): void {
  console.log(`${name.padEnd(66)} ${wallUs.toFixed(2).padStart(7)} µs wall ${cpuUs.toFixed(2).padStart(7)} µs CPU`);
}

// Native, for scale: the same logic in Node with no isolate at all.
const nativeData = { shards };
const native = (r: ScriptRequest) => {
  const name = nativeData.shards[r.headers['x-shop-id'] ?? ''];
  return name ? { backend: name, setHeaders: { 'x-shard': name } } : null;
};
measure('native function (no isolate)', () => native(req));

// The raw options of isolated-vm.
const isolate = new ivm.Isolate({ memoryLimit: 16 });
const context = isolate.createContextSync();
context.evalClosureSync(
  `const data = JSON.parse($0);
   const freeze = (o) => { if (o && typeof o === 'object') { Object.freeze(o); for (const k in o) freeze(o[k]); } return o; };
   const on = (r) => { const n = data.shards[r.headers['x-shop-id']]; return n ? { backend: n, setHeaders: { 'x-shard': n } } : null; };
   globalThis.noop = () => 1;
   globalThis.objInObjOut = (r) => on(freeze(r));
   globalThis.objInJsonOut = (r) => JSON.stringify(on(freeze(r)));
   globalThis.jsonInJsonOut = (s) => JSON.stringify(on(freeze(JSON.parse(s))));
   globalThis.asyncJson = async (s) => JSON.stringify(on(freeze(JSON.parse(s))));`,
  [JSON.stringify({ shards })],
);
const ref = (name: string) => context.global.getSync(name, { reference: true }) as ivm.Reference<(...args: unknown[]) => unknown>;
const noop = ref('noop');
const objInObjOut = ref('objInObjOut');
const objInJsonOut = ref('objInJsonOut');
const jsonInJsonOut = ref('jsonInJsonOut');
const asyncJson = ref('asyncJson');
measure('applySync, no arguments, no timeout', () => noop.applySync(undefined, []));
measure('applySync, no arguments, timeout', () => noop.applySync(undefined, [], { timeout: 50 }));
measure('applySync, ExternalCopy in, result copy out, timeout', () =>
  objInObjOut.applySync(undefined, [new ivm.ExternalCopy(req).copyInto({ release: true })], { result: { copy: true }, timeout: 50 }));
measure('applySync, arguments copy in, result copy out, timeout', () =>
  objInObjOut.applySync(undefined, [req], { arguments: { copy: true }, result: { copy: true }, timeout: 50 }));
measure('applySync, arguments copy in, JSON string out, timeout', () =>
  JSON.parse(objInJsonOut.applySync(undefined, [req], { arguments: { copy: true }, timeout: 50 }) as string));
measure('applySync, JSON string in and out, timeout', () =>
  JSON.parse(jsonInJsonOut.applySync(undefined, [JSON.stringify(req)], { timeout: 50 }) as string));
await measureAsync('apply (async, thread pool), JSON in and out, timeout', async () =>
  JSON.parse((await jsonInJsonOut.apply(undefined, [JSON.stringify(req)], { timeout: 50 })) as string));
await measureAsync('apply (async), copy in and out, timeout', () =>
  objInObjOut.apply(undefined, [req], { arguments: { copy: true }, result: { copy: true }, timeout: 50 }));
await measureAsync('apply (async), async function, result { promise: true }', async () =>
  JSON.parse((await asyncJson.apply(undefined, [JSON.stringify(req)], { result: { promise: true }, timeout: 50 })) as string));
isolate.dispose();

// The engine end to end: admission, JSON in, ctx, run, JSON out, validation, Outcome, the await.
const engine = new ScriptEngine({ log: createLogger({ level: 'silent' }) });
const script = engine.load({ id: 'bench/shards', code: SCRIPT, data: { shards }, limits: { timeoutMs: 5, memoryMiB: 32 }, backends: ['shard-a', 'shard-b'] });
const state = new RouteState();
const check = await engine.run(script, req, state);
if (!check.ok || check.decision?.backend !== 'shard-a') throw new Error(`unexpected outcome ${JSON.stringify(check)}`);
// A request alone in its turn of the event loop pays for the turn (setImmediate) too; a busy proxy
// has many per turn, and they share one isolate call.
await measureAsync('ScriptEngine.run, sharding script, alone in its turn', () => engine.run(script, req, state), 100_000);
await measureAsync('ScriptEngine.run, sharding script, 16 per turn', () => engine.run(script, req, state), 200_000, 16);
const counting = engine.load({
  id: 'bench/throttle',
  code: `export function onRequest(req, ctx) { if (ctx.state.incr(req.clientIp, 1, 1000) > 1e9) return { respond: { status: 429 } }; return { backend: ctx.data.shards[req.headers['x-shop-id']] }; }`,
  data: { shards },
  limits: { timeoutMs: 5, memoryMiB: 32 },
  backends: ['shard-a', 'shard-b'],
});
await measureAsync('ScriptEngine.run, sharding + ctx.state.incr, 16 per turn', () => engine.run(counting, req, state), 200_000, 16);
const hashing = engine.load({
  id: 'bench/hash',
  code: `export function onRequest(req, ctx) { return { backend: ctx.hash(req.headers['x-shop-id']) % 2 ? 'shard-a' : 'shard-b' }; }`,
  data: null,
  limits: { timeoutMs: 5, memoryMiB: 16 },
  backends: ['shard-a', 'shard-b'],
});
await measureAsync('ScriptEngine.run, ctx.hash sharding, 16 per turn', () => engine.run(hashing, req, state), 200_000, 16);
const asyncScript = engine.load({ id: 'bench/async', code: SCRIPT.replace('export function', 'export async function'), data: { shards }, limits: { timeoutMs: 5, memoryMiB: 32 }, backends: ['shard-a', 'shard-b'] });
await measureAsync('ScriptEngine.run, the same as an async function, 16 per turn', () => engine.run(asyncScript, req, state), 100_000, 16);
engine.dispose();
