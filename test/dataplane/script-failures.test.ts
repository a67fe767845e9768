import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';

/** A RouteScript named `name` on path `path` of Ingress `app`, with `code` and more spec fields. */
function onPath(name: string, path: string, code: string, extra: Record<string, unknown> = {}): object {
  return routeScript(name, { targetRefs: [{ kind: 'Ingress', name: 'app', path }], code, ...extra });
}

const PATHS = ['/ok', '/throw', '/loop', '/bomb', '/garbage', '/reject', '/broken', '/noload', '/globals', '/peek', '/closed'];

describe('RouteScript failures fail only their request', () => {
  let env: ScriptedEnv;
  before(async () => {
    env = await startScripted({
      upstreams: { app: null, other: null },
      objects: () => [
        ingress('app', 'app.test', PATHS.map((path) => ({ path, service: 'app' }))),
        onPath('ok', '/ok', "export function onRequest() { return { setHeaders: { 'x-script': 'ok' } }; }"),
        onPath('throw', '/throw', "export function onRequest() { throw new TypeError('no tenant'); }"),
        onPath('loop', '/loop', 'export function onRequest() { for (;;) {} }', { limits: { timeoutMs: 20, memoryMiB: 16 } }),
        onPath('bomb', '/bomb', `export function onRequest(req) {
          if (req.headers['x-safe']) return { setHeaders: { 'x-script': 'bomb-survived' } };
          const hoard = []; for (;;) hoard.push(new Array(100000).fill(hoard.length));
        }`, { limits: { timeoutMs: 1000, memoryMiB: 8 } }),
        onPath('garbage', '/garbage', "export function onRequest() { return { backend: 'nowhere' }; }"),
        onPath('reject', '/reject', "export function onRequest() { throw new Error('denied'); }", { failurePolicy: 'reject', rejectStatus: 429 }),
        onPath('broken', '/broken', 'export function onRequest(req) { return { backend: };'),
        onPath('closed', '/closed', "export function onRequest(req) { if (!req.headers.authorization) return { respond: { status: 401 } } ", { failurePolicy: 'reject', rejectStatus: 401 }),
        onPath('noload', '/noload', "throw new Error('top-level failure'); export function onRequest() { return null; }"),
        onPath('globals', '/globals', "export function onRequest() { globalThis.secret = 'mine'; return { setHeaders: { 'x-script': 'set' } }; }"),
        onPath('peek', '/peek', "export function onRequest(req, ctx) { return { setHeaders: { 'x-script': String(globalThis.secret) + '/' + JSON.stringify(ctx.data) } }; }", { data: { own: 1 } }),
      ],
      proxy: { workers: 1 },
    });
  });
  after(() => env.close());

  const errors = (script: string, cause: string): Promise<number> =>
    metric(env.proxy, new RegExp(`signalbox_script_errors_total\\{script="default/${script}",cause="${cause}"\\} (\\d+)`));

  it('a script that throws falls back to the route\'s backend, and is counted', async () => {
    const res = await send(env.proxy, 'app.test', '/throw');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'app GET /throw');
    assert.equal(await errors('throw', 'throw'), 1);
  });

  it('an infinite loop is stopped by the CPU budget and falls back; other routes keep answering meanwhile', async () => {
    const [looped, ...others] = await Promise.all([
      send(env.proxy, 'app.test', '/loop'),
      ...Array.from({ length: 5 }, () => send(env.proxy, 'app.test', '/ok')),
    ]);
    assert.equal(looped.status, 200);
    assert.equal(looped.body, 'app GET /loop');
    for (const res of others) assert.equal(res.status, 200);
    assert.equal(env.ups.app!.seen.filter((s) => s.url === '/ok').at(-1)!.headers['x-script'], 'ok');
    assert.equal(await errors('loop', 'timeout'), 1);
  });

  it('an allocation bomb hits the memory limit; the request falls back and the next run gets a fresh isolate', async () => {
    const res = await send(env.proxy, 'app.test', '/bomb');
    assert.equal(res.status, 200);
    assert.equal(await errors('bomb', 'memory'), 1);
    await send(env.proxy, 'app.test', '/bomb', { 'x-safe': '1' });
    assert.equal(env.ups.app!.seen.at(-1)!.headers['x-script'], 'bomb-survived');
  });

  it('an invalid decision (an undeclared backend) falls back', async () => {
    const res = await send(env.proxy, 'app.test', '/garbage');
    assert.equal(res.status, 200);
    assert.equal(await errors('garbage', 'invalid-decision'), 1);
  });

  it('failurePolicy reject answers the RouteScript\'s status, marked as a script failure', async () => {
    const before = env.ups.app!.seen.length;
    const res = await send(env.proxy, 'app.test', '/reject');
    assert.equal(res.status, 429);
    assert.equal(res.headers['x-signalbox-error'], 'script-failed');
    assert.equal(env.ups.app!.seen.length, before, 'nothing went upstream');
  });

  it('a script that does not compile is a diagnostic with line and column; its route keeps normal routing', async () => {
    const res = await send(env.proxy, 'app.test', '/broken');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'app GET /broken');
    const table = (await (await request(`${env.proxy.debug}/debug/table`)).body.json()) as { diagnostics: { name: string; code: string; message: string }[] };
    const diagnostic = table.diagnostics.find((d) => d.name === 'broken');
    assert.equal(diagnostic?.code, 'RouteScriptCompileError');
    assert.match(diagnostic!.message, /^code 1:\d+: SyntaxError/);
  });

  it('a script that does not compile, with failurePolicy reject, fails closed: its route answers rejectStatus', async () => {
    const before = env.ups.app!.seen.length;
    const res = await send(env.proxy, 'app.test', '/closed', { authorization: 'Bearer x' });
    assert.equal(res.status, 401);
    assert.equal(res.headers['x-signalbox-error'], 'script-failed');
    assert.equal(env.ups.app!.seen.length, before, 'nothing went upstream');
    assert.equal(await errors('closed', 'unavailable'), 1);
    const report = (await (await request(`${env.proxy.debug}/debug/scripts`)).body.json()) as { id: string; state: string; rejectStatus?: number }[];
    assert.deepEqual(report.find((s) => s.id === 'default/closed'), { id: 'default/closed', state: 'invalid', rejectStatus: 401, routes: ['Ingress/default/app/rule/0/path/10'], chains: { 'Ingress/default/app/rule/0/path/10': ['default/closed'] }, workers: [] });
  });

  it('a script that keeps failing is reported as failing and backs off instead of running on every request', async () => {
    for (let i = 0; i < 8; i++) assert.equal((await send(env.proxy, 'app.test', '/throw')).status, 200);
    const ran = await errors('throw', 'throw');
    const skipped = await errors('throw', 'unavailable');
    assert.ok(ran >= 5 && skipped >= 1, `ran and failed ${ran} times, skipped ${skipped} times`);
    assert.equal(await metric(env.proxy, /signalbox_script_failing\{script="default\/throw"\} (\d+)/), 1);
    const report = (await (await request(`${env.proxy.debug}/debug/scripts`)).body.json()) as { id: string; state: string; routes: string[]; workers: { lastFailure: { cause: string; message: string } | null }[] }[];
    const throwing = report.find((s) => s.id === 'default/throw')!;
    assert.equal(throwing.state, 'failing');
    assert.deepEqual(throwing.routes, ['Ingress/default/app/rule/0/path/1']);
    assert.deepEqual(throwing.workers[0]!.lastFailure, { cause: 'throw', message: 'TypeError: no tenant' });
    assert.equal(report.find((s) => s.id === 'default/ok')!.state, 'ok');
  });

  it('a script whose module fails at load is failing from the start; its route falls back', async () => {
    assert.equal((await send(env.proxy, 'app.test', '/noload')).status, 200);
    assert.equal(await errors('noload', 'unavailable'), 1);
    const report = (await (await request(`${env.proxy.debug}/debug/scripts`)).body.json()) as { id: string; state: string; workers: { lastFailure: { message: string } | null }[] }[];
    const noload = report.find((s) => s.id === 'default/noload')!;
    assert.equal(noload.state, 'failing');
    assert.match(noload.workers[0]!.lastFailure!.message, /top-level failure/);
  });

  it('scripts are isolated: one script\'s globals and data are invisible to another', async () => {
    await send(env.proxy, 'app.test', '/globals');
    await send(env.proxy, 'app.test', '/peek');
    assert.equal(env.ups.app!.seen.at(-1)!.headers['x-script'], 'undefined/{"own":1}');
  });
});
