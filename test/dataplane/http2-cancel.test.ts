/**
 * An HTTP/2 client that resets a stream (RST_STREAM) or drops its connection cancels the request
 * upstream at once, whatever phase it is in. Each test reads the upstream's own log: when the
 * request arrived, and when its connection was closed under it — or that it never arrived.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { CODE, FRAME, RawH2, dataFrame, headersFrame, requestBlock, rstStreamFrame } from '../helpers/h2-frames.ts';
import { holdingUpstream, type HoldingUpstream } from '../helpers/holding-upstream.ts';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { metric, waitForMetric } from '../helpers/metrics.ts';
import { startScripted, type ScriptedEnv } from '../helpers/scripted.ts';

/** How soon after the RST_STREAM the upstream must see its request aborted (a loaded CI machine included). */
const PROMPT_MS = 150;

const httpsPort = (env: ScriptedEnv): number => Number(new URL(env.proxy.https).port);

/** One GET on stream `id` (END_STREAM: no body). */
const get = (id: number, path: string, host = 'app.test'): Buffer => headersFrame(id, requestBlock(host, path));

describe('HTTP/2: a reset stream cancels its upstream request at once', () => {
  let env: ScriptedEnv | null = null;
  let conn: RawH2 | null = null;
  afterEach(async () => {
    conn?.destroy();
    await env?.close();
    env = null;
    conn = null;
  });

  const start = async (up: HoldingUpstream, extra: object[] = [], annotations: Record<string, string> = {}): Promise<ScriptedEnv> =>
    (env = await startScripted({
      upstreams: { app: up.handler },
      annotations: { app: annotations },
      objects: () => [ingress('app', 'app.test', [{ path: '/', service: 'app' }]), ...extra],
      proxy: { workers: 1 },
    }));

  it('while the upstream response is slow: the upstream connection closes within milliseconds of the RST_STREAM', async (t) => {
    const up = holdingUpstream();
    const e = await start(up);
    conn = await RawH2.open(httpsPort(e));
    conn.write(get(1, '/slow'));
    const held = await up.arrival(1);
    const resetAt = performance.now();
    conn.write(rstStreamFrame(1, CODE.CANCEL));
    const abortedAt = await held.aborted;
    t.diagnostic(`upstream request aborted ${(abortedAt - resetAt).toFixed(2)} ms after the RST_STREAM`);
    assert.ok(abortedAt - resetAt < PROMPT_MS, `upstream request aborted ${(abortedAt - resetAt).toFixed(1)} ms after the reset`);
    // The connection itself is fine: the next stream is answered.
    conn.write(get(3, '/fast'));
    await conn.until(() => conn!.frames.some((f) => f.type === FRAME.HEADERS && f.streamId === 3));
    await waitForMetric(e.proxy, /signalbox_http_requests_total\{[^}]*code="499"\} 1/);
  });

  it('while its body is being uploaded: the upstream request is aborted within milliseconds of the RST_STREAM', async (t) => {
    const up = holdingUpstream();
    const e = await start(up);
    conn = await RawH2.open(httpsPort(e));
    conn.write(headersFrame(1, requestBlock('app.test', '/upload', 'POST', { 'content-type': 'application/octet-stream' }), { endStream: false }), dataFrame(1, Buffer.alloc(1_000, 1)));
    const held = await up.arrival(1);
    const resetAt = performance.now();
    conn.write(rstStreamFrame(1, CODE.CANCEL));
    const abortedAt = await held.aborted;
    t.diagnostic(`upstream upload aborted ${(abortedAt - resetAt).toFixed(2)} ms after the RST_STREAM`);
    assert.ok(abortedAt - resetAt < PROMPT_MS, `upstream request aborted ${(abortedAt - resetAt).toFixed(1)} ms after the reset`);
  });

  it('when the connection goes away: every upstream request of it is aborted', async (t) => {
    const up = holdingUpstream();
    const e = await start(up);
    conn = await RawH2.open(httpsPort(e));
    conn.write(get(1, '/one'), get(3, '/two'), get(5, '/three'));
    await up.arrival(3);
    const closedAt = performance.now();
    conn.destroy();
    const aborted = await Promise.all(up.log.map((r) => r.aborted));
    t.diagnostic(`upstream requests aborted ${aborted.map((at) => (at - closedAt).toFixed(2)).join(', ')} ms after the close`);
    for (const at of aborted) assert.ok(at - closedAt < PROMPT_MS, `aborted ${(at - closedAt).toFixed(1)} ms after the close`);
  });

  it('while held by a pause: the request leaves the queue, and nothing reaches the upstream when the pause ends', async () => {
    const up = holdingUpstream();
    const paused = (enabled: boolean): object => routeScript('hold', {
      targetRefs: [{ kind: 'Ingress', name: 'app' }],
      pause: { enabled, maxWaitSeconds: 30 },
      code: 'export function onRequest() { return null; }',
    });
    const e = await start(up, [paused(true)]);
    const heldNow = (): Promise<number> => metric(e.proxy, /signalbox_pause_held_requests\{kind="operator",gate="default\/hold"\} (\d+)/);
    conn = await RawH2.open(httpsPort(e));
    conn.write(get(1, '/held'));
    await waitForMetric(e.proxy, /signalbox_pause_held_requests\{kind="operator",gate="default\/hold"\} 1/);
    conn.write(rstStreamFrame(1));
    await waitForMetric(e.proxy, /signalbox_pause_abandoned_total\{kind="operator",gate="default\/hold"\} 1/);
    assert.equal(await heldNow(), 0, 'it left the queue at once');
    // Opened and reset in one packet: closed before the proxy handles it, it is never queued either.
    conn.write(get(3, '/reset-at-once'), rstStreamFrame(3));
    conn.write(get(5, '/fast-after'));
    await waitForMetric(e.proxy, /signalbox_pause_held_requests\{kind="operator",gate="default\/hold"\} 1/);
    await e.rewrite([ingress('app', 'app.test', [{ path: '/', service: 'app' }]), paused(false)]);
    await conn.until(() => conn!.frames.some((f) => f.type === FRAME.HEADERS && f.streamId === 5));
    assert.deepEqual(up.log.map((r) => r.url), [], 'neither reset request reached the upstream (the live one after them was answered)');
  });

  it('while its RouteScript awaits a lookup: the verdict is dropped and nothing is sent upstream', async () => {
    const up = holdingUpstream();
    let lookupSeen!: () => void;
    const lookingUp = new Promise<void>((resolve) => (lookupSeen = resolve));
    const e = (env = await startScripted({
      upstreams: {
        app: up.handler,
        directory: (_req, res) => {
          lookupSeen();
          setTimeout(() => res.end('shard'), 400);
        },
      },
      objects: () => [
        ingress('app', 'app.test', [{ path: '/', service: 'app' }]),
        routeScript('slow', {
          targetRefs: [{ kind: 'Ingress', name: 'app' }],
          lookup: { service: { name: 'directory', port: { number: 80 } }, path: '/keys/{key}', cacheTtlSeconds: 0, timeoutMs: 1000 },
          limits: { timeoutMs: 1000, memoryMiB: 16 },
          code: "export async function onRequest(req, ctx) { if (req.path.startsWith('/slow')) await ctx.lookup('k'); return null; }",
        }),
      ],
      proxy: { workers: 1 },
    }));
    conn = await RawH2.open(httpsPort(e));
    conn.write(get(1, '/slow'));
    await lookingUp;
    conn.write(rstStreamFrame(1));
    await waitForMetric(e.proxy, /signalbox_http_requests_total\{[^}]*code="499"\} 1/);
    conn.write(get(3, '/fast'));
    await conn.until(() => conn!.frames.some((f) => f.type === FRAME.HEADERS && f.streamId === 3));
    assert.deepEqual(up.log.map((r) => r.url), [], 'the reset request never reached the upstream');
  });

  it('while waiting for a pooled connection: it is never sent, even once the connection is free', async () => {
    const up = holdingUpstream();
    const e = await start(up, [], { 'signalbox.dev/max-connections': '1' });
    conn = await RawH2.open(httpsPort(e));
    conn.write(get(1, '/first'));
    const first = await up.arrival(1);
    // The only upstream connection is busy: the second request waits for it in the pool.
    conn.write(get(3, '/second'));
    await waitForMetric(e.proxy, /signalbox_http2_active_streams 2/);
    conn.write(rstStreamFrame(3));
    await waitForMetric(e.proxy, /signalbox_http2_active_streams 1/);
    first.answer();
    conn.write(get(5, '/third'));
    const third = await up.arrival(2);
    assert.deepEqual(up.log.map((r) => r.url), ['/first', '/third'], 'the reset request was dropped unsent');
    third.answer();
    await conn.until(() => conn!.frames.some((f) => f.type === FRAME.HEADERS && f.streamId === 5));
  });
});
