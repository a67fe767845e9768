import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, serviceWithEndpoints, writeManifests } from '../helpers/manifests.ts';
import { steadyLoad } from '../helpers/load.ts';
import { metric } from '../helpers/metrics.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/** An upstream that records when each request arrived. */
async function timedUpstream(name: string): Promise<{ up: TestUpstream; arrivals: number[] }> {
  const arrivals: number[] = [];
  const up = await startUpstream(name, (req: IncomingMessage, res: ServerResponse) => {
    arrivals.push(performance.now());
    req.resume();
    req.on('end', () => res.end(`${name} ${req.url}`));
  });
  return { up, arrivals };
}

describe('automatic pause: a backend with no ready endpoint', () => {
  let env: ScriptedEnv | null = null;
  let extra: TestUpstream | null = null;
  afterEach(async () => {
    await env?.close();
    await extra?.close();
    env = null;
    extra = null;
  });

  it('holds requests while the EndpointSlice is empty and releases them, ramping, to the backend on its new port: no request fails', async () => {
    env = await startScripted({ upstreams: { app: null }, objects: () => [ingress('app', 'app.test', [{ path: '/', service: 'app' }])], proxy: { workers: 1 } });
    const moved = await timedUpstream('app-v2');
    extra = moved.up;
    const load = steadyLoad(env.proxy, 'app.test', '/', 16);
    await waitFor(async () => load.results.length >= 32);
    // The deploy: the old pod goes away (its slice empties), the new one comes up elsewhere once every
    // client is held, and no sooner than 1.5 s later (a deploy takes a while; the hold durations
    // below show it).
    const noEndpoints = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app2', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } };
    const drained = env.proxy.nextTable();
    await writeManifests(env.dir, 'all.yaml', [ingressClass(), { ...noEndpoints, metadata: { name: 'app', namespace: 'default' } }, ingress('app', 'app.test', [{ path: '/', service: 'app' }])]);
    await drained;
    const outage = performance.now();
    await env.ups.app!.close();
    const held = (): Promise<number> => metric(env!.proxy, /signalbox_pause_held_requests\{kind="no-endpoint",gate="default\/app:80"\} (\d+)/);
    // Under the 5 s maximum wait: past it a held request would fail, which is not what is tested.
    await waitFor(async () => (await held()) === 16, 3_500);
    const heldNow = await held();
    const rest = 1_500 - (performance.now() - outage);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    const back = env.proxy.nextTable();
    await writeManifests(env.dir, 'all.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: moved.up.port }]), ingress('app', 'app.test', [{ path: '/', service: 'app' }])]);
    await back;
    // The backlog is let go through the ramp, then new requests flow.
    await waitFor(async () => (await held()) === 0 && load.results.filter((r) => r.body.startsWith('app-v2')).length > 32);
    await load.stop();

    const failed = load.results.filter((r) => r.status !== 200);
    assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 3))}`);
    assert.equal(heldNow, 16, 'every client was held during the outage');
    assert.ok(load.results.filter((r) => r.body.startsWith('app-v2')).length > 16, 'the new backend served the backlog and after');
    // The ramp: the 16 held requests reached the new backend over a few hundred ms, slowly at first.
    const first = moved.arrivals.slice(0, 16);
    const spread = first.at(-1)! - first[0]!;
    assert.ok(spread >= 200, `released over ${spread.toFixed(0)} ms, not at once`);
    const early = first[4]! - first[0]!;
    const late = first[15]! - first[11]!;
    assert.ok(early > late, `the rate grows: 4 releases took ${early.toFixed(0)} ms at first, ${late.toFixed(0)} ms at the end`);
    // Requests that came while the backlog was let go queued behind it, so more than 16 were released.
    const released = await metric(env.proxy, /signalbox_pause_released_total\{kind="no-endpoint",gate="default\/app:80"\} (\d+)/);
    assert.ok(released >= 16, `released ${released}`);
    assert.equal(await metric(env.proxy, /signalbox_pause_expired_total\{kind="no-endpoint",gate="default\/app:80"\} (\d+)/), 0);
    assert.equal(await metric(env.proxy, /signalbox_pause_hold_duration_seconds_count\{kind="no-endpoint",gate="default\/app:80"\} (\d+)/), released);
    assert.equal(await metric(env.proxy, /signalbox_pause_held_requests\{kind="no-endpoint",gate="default\/app:80"\} (\d+)/), 0);
    const underASecond = await metric(env.proxy, /signalbox_pause_hold_duration_seconds_bucket\{le="1",kind="no-endpoint",gate="default\/app:80"\} (\d+)/);
    assert.ok(released - underASecond >= 16, `the 16 held through the outage waited over a second (${released - underASecond} did)`);
  });

  it('answers 503 with Retry-After past the maximum wait, and fast when the queue is full', async () => {
    env = await startScripted({
      upstreams: {},
      objects: () => [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'down', namespace: 'default', annotations: { 'signalbox.dev/pause-max-wait': '300ms', 'signalbox.dev/pause-queue-size': '2', 'signalbox.dev/pause-queue-bytes': '100' } }, spec: { ports: [{ name: 'http', port: 80 }] } },
        ingress('down', 'down.test', [{ path: '/', service: 'down' }]),
      ],
      proxy: { workers: 1 },
    });
    const started = performance.now();
    const all = await Promise.all(Array.from({ length: 4 }, (_, i) => send(env!.proxy, 'down.test', `/${i}`).then((r) => ({ ...r, ms: performance.now() - started }))));
    const expired = all.filter((r) => r.headers['x-signalbox-error'] === 'pause-expired');
    const full = all.filter((r) => r.headers['x-signalbox-error'] === 'pause-queue-full');
    assert.equal(expired.length, 2);
    assert.equal(full.length, 2);
    for (const r of [...expired, ...full]) {
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '1');
    }
    for (const r of expired) assert.ok(r.ms >= 290, `held until the maximum wait (${r.ms.toFixed(0)} ms)`);
    for (const r of full) assert.ok(r.ms < 250, `refused at once (${r.ms.toFixed(0)} ms)`);
    // Declared body bytes count too: 1000 bytes is over the gate's 100.
    const upload = await send(env.proxy, 'down.test', '/upload', { 'content-type': 'text/plain' }, { method: 'POST', body: 'x'.repeat(1000) });
    assert.equal(upload.headers['x-signalbox-error'], 'pause-queue-full');
    assert.equal(await metric(env.proxy, /signalbox_pause_rejected_total\{kind="no-endpoint",gate="default\/down:80",bound="requests"\} (\d+)/), 2);
    assert.equal(await metric(env.proxy, /signalbox_pause_rejected_total\{kind="no-endpoint",gate="default\/down:80",bound="bytes"\} (\d+)/), 1);
    assert.equal(await metric(env.proxy, /signalbox_pause_expired_total\{kind="no-endpoint",gate="default\/down:80"\} (\d+)/), 2);
  });

  it('frees the slot of a client that disconnects while held', async () => {
    env = await startScripted({
      upstreams: {},
      objects: () => [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'down', namespace: 'default', annotations: { 'signalbox.dev/pause-max-wait': '2s', 'signalbox.dev/pause-queue-size': '1' } }, spec: { ports: [{ name: 'http', port: 80 }] } },
        ingress('down', 'down.test', [{ path: '/', service: 'down' }]),
      ],
      proxy: { workers: 1 },
    });
    const leaving = new AbortController();
    const first = request(`${env.proxy.http}/first`, { headers: { host: 'down.test' }, signal: leaving.signal }).catch(() => 'aborted');
    await waitFor(async () => (await metric(env!.proxy, /signalbox_pause_held_requests\{kind="no-endpoint",gate="default\/down:80"\} (\d+)/)) === 1);
    leaving.abort();
    assert.equal(await first, 'aborted');
    await waitFor(async () => (await metric(env!.proxy, /signalbox_pause_abandoned_total\{kind="no-endpoint",gate="default\/down:80"\} (\d+)/)) === 1);
    const second = await send(env.proxy, 'down.test', '/second');
    assert.equal(second.headers['x-signalbox-error'], 'pause-expired', 'the second request was held (its predecessor freed the only slot), not refused');
  });

  it('is off with pause-max-wait 0, and never holds for a Service that does not exist', async () => {
    env = await startScripted({
      upstreams: {},
      objects: () => [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'down', namespace: 'default', annotations: { 'signalbox.dev/pause-max-wait': '0' } }, spec: { ports: [{ name: 'http', port: 80 }] } },
        ingress('down', 'down.test', [{ path: '/off', service: 'down' }, { path: '/missing', service: 'no-such-service' }]),
      ],
      proxy: { workers: 1 },
    });
    for (const path of ['/off', '/missing']) {
      const started = performance.now();
      const res = await send(env.proxy, 'down.test', path);
      assert.equal(res.headers['x-signalbox-error'], 'no-endpoint');
      assert.ok(performance.now() - started < 500);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
