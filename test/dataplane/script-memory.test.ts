import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';

/** A RouteScript on path `path` of Ingress `app`, with a 16 MiB heap. */
function onPath(name: string, path: string, code: string): object {
  return routeScript(name, { targetRefs: [{ kind: 'Ingress', name: 'app', path }], code, limits: { timeoutMs: 1000, memoryMiB: 16 } });
}

/**
 * A script that tries to hold 512 MiB through `allocate` (an expression giving an ArrayBuffer or a
 * WebAssembly memory), touches every page of it so that it is resident, keeps it in a module-level
 * variable and tells the upstream what happened in `x-hoard`.
 */
function hoarder(allocate: string): string {
  return `
    const hoard = [];
    export function onRequest() {
      let result;
      try {
        const buffer = ${allocate};
        const bytes = new Uint8Array(buffer);
        for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 1;
        hoard.push(buffer);
        result = 'held ' + Math.round(bytes.length / 1048576) + ' MiB';
      } catch (e) {
        result = e.name + ': ' + e.message;
      }
      return { setHeaders: { 'x-hoard': result.slice(0, 200) } };
    }`;
}

const MIB = 1024 * 1024;
const HOARDS: Record<string, string> = {
  '/wasm': '(() => { const m = new WebAssembly.Memory({ initial: 1, maximum: 16384 }); m.grow(8191); return m.buffer; })()',
  '/resizable': 'new ArrayBuffer(512 * 1048576, { maxByteLength: 512 * 1048576 })',
  '/resize': '(() => { const b = new ArrayBuffer(1, { maxByteLength: 512 * 1048576 }); b.resize(512 * 1048576); return b; })()',
  '/growable': '(() => { const b = new SharedArrayBuffer(1, { maxByteLength: 512 * 1048576 }); b.grow(512 * 1048576); return b; })()',
  '/fixed': 'new ArrayBuffer(512 * 1048576)',
};

describe('a script cannot hold memory outside its memoryMiB', () => {
  let env: ScriptedEnv;
  before(async () => {
    env = await startScripted({
      upstreams: { app: null },
      objects: () => [
        ingress('app', 'app.test', [...Object.keys(HOARDS), '/victim'].map((path) => ({ path, service: 'app' }))),
        ...Object.entries(HOARDS).map(([path, allocate]) => onPath(path.slice(1), path, hoarder(allocate))),
      ],
      proxy: { workers: 1 },
    });
  });
  after(() => env.close());

  for (const path of Object.keys(HOARDS)) {
    it(`${path}: three requests leave the process's resident memory within 100 MiB, and a neighbour keeps answering`, async () => {
      const rssBefore = process.memoryUsage().rss;
      for (let i = 0; i < 3; i++) {
        const res = await send(env.proxy, 'app.test', path);
        assert.equal(res.status, 200);
        const seen = env.ups.app!.seen.at(-1)!;
        assert.equal(seen.url, path);
        // What the script managed, as the upstream received it: never 512 MiB held.
        assert.doesNotMatch(String(seen.headers['x-hoard']), /^held/, `request ${i + 1}: ${String(seen.headers['x-hoard'])}`);
      }
      const grew = (process.memoryUsage().rss - rssBefore) / MIB;
      assert.ok(grew < 100, `resident memory grew by ${grew.toFixed(0)} MiB`);
      const victim = await send(env.proxy, 'app.test', '/victim');
      assert.equal(victim.status, 200);
      assert.equal(victim.body, 'app GET /victim');
      assert.equal(await metric(env.proxy, /signalbox_worker_restarts_total (\d+)/), 0);
    });
  }

  it('the sandbox has no WebAssembly and no SharedArrayBuffer, and ArrayBuffer makes fixed-length buffers', async () => {
    await env.rewrite([
      ...env.objects,
      ingress('probe', 'probe.test', [{ path: '/', service: 'app' }]),
      routeScript('probe', {
        targetRefs: [{ kind: 'Ingress', name: 'probe' }],
        code: `export function onRequest() {
          const b = new ArrayBuffer(8, { maxByteLength: 64 });
          const seen = [typeof WebAssembly, typeof SharedArrayBuffer, b.resizable, typeof b.resize, b.constructor === ArrayBuffer,
            new Uint8Array(4).buffer instanceof ArrayBuffer, Object.getPrototypeOf(new Uint8Array(4).buffer).constructor === ArrayBuffer];
          return { setHeaders: { 'x-probe': seen.join(' ') } };
        }`,
      }),
    ]);
    const res = await send(env.proxy, 'probe.test', '/');
    assert.equal(res.status, 200);
    assert.equal(env.ups.app!.seen.at(-1)!.headers['x-probe'], 'undefined undefined false undefined true true true');
  });
});

describe("ctx.state has one byte budget per RouteScript, whatever the number of its routes", () => {
  const PATHS = Array.from({ length: 200 }, (_, i) => `/p${i}`);
  let env: ScriptedEnv;
  before(async () => {
    env = await startScripted({
      upstreams: { app: null },
      objects: () => [
        ingress('app', 'app.test', PATHS.map((path) => ({ path, service: 'app' }))),
        ingress('victim', 'victim.test', [{ path: '/', service: 'app' }]),
        // Each request stores 300 values of 1,000 characters in its route's state: ~600 KB by the
        // estimate, 120 MB over the 200 routes, where the budget is 8 MiB.
        routeScript('filler', {
          targetRefs: [{ kind: 'Ingress', name: 'app' }],
          limits: { timeoutMs: 1000, memoryMiB: 16 },
          code: `export function onRequest(req, ctx) {
            if (req.query.read) return { setHeaders: { 'x-first': String(ctx.state.get('k0') ?? 'gone'), 'x-last': String(ctx.state.get('k299')?.length ?? 'gone') } };
            const value = req.path.padEnd(1000, '.');
            for (let i = 0; i < 300; i++) ctx.state.set('k' + i, value);
            return null;
          }`,
        }),
      ],
      proxy: { workers: 1 },
    });
  });
  after(() => env.close());

  it('filling every route keeps ctx.state within the budget, evicts the oldest keys, and the neighbour keeps answering', async () => {
    for (const path of PATHS) assert.equal((await send(env.proxy, 'app.test', path)).status, 200);
    const script = 'script="default/filler"';
    const bytes = await metric(env.proxy, new RegExp(`signalbox_script_state_bytes\\{${script}\\} (\\d+)`));
    const keys = await metric(env.proxy, new RegExp(`signalbox_script_state_keys\\{${script}\\} (\\d+)`));
    assert.ok(bytes > 4 * MIB && bytes <= 8 * MIB, `ctx.state holds ${bytes} bytes`);
    assert.ok(keys > 2_000 && keys < 5_000, `ctx.state holds ${keys} keys`);
    assert.ok(await metric(env.proxy, new RegExp(`signalbox_script_state_evictions_total\\{${script},reason="budget"\\} (\\d+)`)) > 50_000);
    // The first route's keys went to make room; the last route's are all there. The script saw no error.
    await send(env.proxy, 'app.test', '/p0?read=1');
    await send(env.proxy, 'app.test', '/p199?read=1');
    const [first, last] = env.ups.app!.seen.slice(-2);
    assert.deepEqual([first!.headers['x-first'], last!.headers['x-first'], last!.headers['x-last']], ['gone', '/p199'.padEnd(1000, '.'), '1000']);
    assert.equal(await metric(env.proxy, /signalbox_script_errors_total\{script="default\/filler",cause="[a-z-]+"\} (\d+)/), 0);
    const victim = await send(env.proxy, 'victim.test', '/');
    assert.equal(victim.status, 200);
    assert.equal(victim.body, 'app GET /');
    assert.equal(await metric(env.proxy, /signalbox_worker_restarts_total (\d+)/), 0);
  });
});

describe('the RouteScripts of a worker share one memory budget (--script-memory-budget)', () => {
  /** A RouteScript created at `created` on `path`, with `memoryMiB`, saying who ran in x-script. */
  const sized = (name: string, path: string, memoryMiB: number, created: string, extra: Record<string, unknown> = {}): object => ({
    ...(routeScript(name, {
      targetRefs: [{ kind: 'Ingress', name: 'app', path }],
      limits: { timeoutMs: 50, memoryMiB },
      code: `export function onRequest() { return { setHeaders: { 'x-script': '${name}' } }; }`,
      ...extra,
    }) as { metadata: object }),
    metadata: { name, namespace: 'default', creationTimestamp: created },
  });
  let env: ScriptedEnv;
  before(async () => {
    env = await startScripted({
      upstreams: { app: null },
      objects: () => [
        ingress('app', 'app.test', ['/old', '/older', '/young', '/closed', '/plain'].map((path) => ({ path, service: 'app' }))),
        sized('older', '/older', 32, '2026-01-01T00:00:00Z'),
        sized('old', '/old', 32, '2026-01-02T00:00:00Z'),
        // Younger, and past the 64 MiB the two older ones already use.
        sized('young', '/young', 16, '2026-01-03T00:00:00Z'),
        sized('closed', '/closed', 16, '2026-01-04T00:00:00Z', { failurePolicy: 'reject', rejectStatus: 503 }),
      ],
      proxy: { workers: 1, compile: { scriptMemoryBudgetMiB: 64 } },
    });
  });
  after(() => env.close());

  it('the youngest RouteScripts past the budget are refused with a diagnostic; the older ones keep running', async () => {
    const seen = async (path: string): Promise<unknown> => {
      const res = await send(env.proxy, 'app.test', path);
      assert.equal(res.status, 200, path);
      return env.ups.app!.seen.at(-1)!.headers['x-script'];
    };
    assert.equal(await seen('/older'), 'older');
    assert.equal(await seen('/old'), 'old');
    assert.equal(await seen('/young'), undefined, 'the refused script did not run; its route served as if it had none');
    assert.equal(await seen('/plain'), undefined);
    // failurePolicy reject fails closed, as an invalid RouteScript does: nothing reaches the upstream.
    const before = env.ups.app!.seen.length;
    const closed = await send(env.proxy, 'app.test', '/closed');
    assert.equal(closed.status, 503);
    assert.equal(closed.headers['x-signalbox-error'], 'script-failed');
    assert.equal(env.ups.app!.seen.length, before);
    const table = (await (await fetch(`${env.proxy.debug}/debug/table`)).json()) as { diagnostics: { name: string; code: string; message: string }[] };
    const refused = table.diagnostics.filter((d) => d.code === 'RouteScriptOverMemoryBudget').map((d) => d.name).sort();
    assert.deepEqual(refused, ['closed', 'young']);
    assert.match(table.diagnostics.find((d) => d.name === 'young')!.message, /older RouteScripts use 64 of 64 MiB per worker/);
    assert.equal(await metric(env.proxy, /signalbox_worker_restarts_total (\d+)/), 0);
  });
});

describe('what a script sends out of its isolate is bounded', () => {
  let env: ScriptedEnv;
  let markerSeen: () => void = () => {};
  const marker = new Promise<void>((resolve) => (markerSeen = resolve));
  before(async () => {
    env = await startScripted({
      upstreams: {
        app: null,
        directory: (req, res) => {
          if (req.url === '/keys/marker') markerSeen();
          res.writeHead(200).end('v');
        },
      },
      objects: () => [
        ingress('app', 'app.test', ['/lookups', '/marker', '/big', '/victim'].map((path) => ({ path, service: 'app' }))),
        // Starts 1,000 lookups of distinct keys and does not wait for them.
        routeScript('lookups', {
          targetRefs: [{ kind: 'Ingress', name: 'app', path: '/lookups' }],
          lookup: { service: { name: 'directory', port: { number: 80 } }, path: '/keys/{key}', cacheTtlSeconds: 60, timeoutMs: 1000 },
          code: `export function onRequest(req, ctx) {
            let refused = 0;
            for (let i = 0; i < 1000; i++) { try { ctx.lookup('k' + i).catch(() => {}); } catch (e) { refused++; } }
            return { setHeaders: { 'x-refused': String(refused) } };
          }`,
          // 1,000 calls across the isolate's boundary: more than the default budget on a busy machine.
          limits: { timeoutMs: 1000, memoryMiB: 16 },
        }),
        routeScript('marker', {
          targetRefs: [{ kind: 'Ingress', name: 'app', path: '/marker' }],
          lookup: { service: { name: 'directory', port: { number: 80 } }, path: '/keys/{key}', cacheTtlSeconds: 60, timeoutMs: 1000 },
          code: "export async function onRequest(req, ctx) { return { setHeaders: { 'x-marker': await ctx.lookup('marker') } }; }",
          limits: { timeoutMs: 1000, memoryMiB: 16 },
        }),
        // A 100 MiB respond body, a 100 MiB ctx.state value and a decision with a 100 MiB key.
        routeScript('big', {
          targetRefs: [{ kind: 'Ingress', name: 'app', path: '/big' }],
          limits: { timeoutMs: 1000, memoryMiB: 512 },
          code: `export function onRequest(req, ctx) {
            const huge = 'x'.repeat(100 * 1048576);
            if (req.query.what === 'state') { ctx.state.set('k', huge); return null; }
            if (req.query.what === 'name') return { setHeaders: { [huge]: () => 1 } };
            return { respond: { status: 200, body: huge } };
          }`,
        }),
      ],
      proxy: { workers: 1 },
    });
  });
  after(() => env.close());

  it('a request starts at most 16 lookups; the lookup service sees no more', async () => {
    const res = await send(env.proxy, 'app.test', '/lookups');
    assert.equal(res.status, 200);
    assert.equal(env.ups.app!.seen.at(-1)!.headers['x-refused'], '984');
    // The lookup client sends in order: once the marker of a later request arrives, the earlier ones have.
    await send(env.proxy, 'app.test', '/marker');
    await marker;
    const keys = env.ups.directory!.seen.filter((s) => s.url.startsWith('/keys/k')).length;
    assert.equal(keys, 16);
  });

  for (const what of ['body', 'state', 'name']) {
    it(`a 100 MiB ${what} fails that request only; the neighbour keeps answering`, async () => {
      const res = await send(env.proxy, 'app.test', `/big?what=${what}`);
      assert.equal(res.status, 200);
      assert.equal(res.body, `app GET /big?what=${what}`, 'the failed run fell back to the route');
      const victim = await send(env.proxy, 'app.test', '/victim');
      assert.equal(victim.body, 'app GET /victim');
      assert.equal(await metric(env.proxy, /signalbox_worker_restarts_total (\d+)/), 0);
    });
  }
});
