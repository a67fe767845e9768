/**
 * HTTP/2 abuse, written as an attacker writes it: raw frames over TLS (test/helpers/h2-frames.ts).
 * Each attack must have a bounded cost, end its connection with GOAWAY, and be counted; the
 * upstream's own log shows what reached it.
 */
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { afterEach, describe, it } from 'node:test';
import {
  CODE, FRAME, RawH2, SETTING, continuationFrame, headersFrame, hpackIndexed, hpackLiteral, pingFrame, requestBlock, rstStreamFrame, settingsFrame,
} from '../helpers/h2-frames.ts';
import { holdingUpstream } from '../helpers/holding-upstream.ts';
import { metric, waitForMetric } from '../helpers/metrics.ts';
import type { TestProxyOptions } from '../helpers/proxy.ts';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';
import type { UpstreamHandler } from '../helpers/upstreams.ts';

const get = (id: number, path: string): Buffer => headersFrame(id, requestBlock('app.test', path));
const abuse = (kind: string): RegExp => new RegExp(`signalbox_http2_abuse_total\\{kind="${kind}"\\} (\\d+)`);
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('HTTP/2 abuse', () => {
  let setup: SingleRoute | null = null;
  const conns: RawH2[] = [];
  afterEach(async () => {
    for (const c of conns.splice(0)) c.destroy();
    await setup?.close();
    setup = null;
  });
  const start = async (handler?: UpstreamHandler, options: TestProxyOptions = {}): Promise<{ s: SingleRoute; port: number }> => {
    setup = await startSingleRoute('app', handler, { workers: 1, ...options });
    return { s: setup, port: Number(new URL(setup.proxy.https).port) };
  };
  const open = async (port: number, options: Parameters<typeof RawH2.open>[1] = {}): Promise<RawH2> => {
    const c = await RawH2.open(port, options);
    conns.push(c);
    await c.until(() => c.count(FRAME.SETTINGS) >= 1, 5_000, 'server SETTINGS');
    return c;
  };

  it('advertises SETTINGS_MAX_CONCURRENT_STREAMS (100 by default) and a client over it gets what nghttp2 gives', async () => {
    const up = holdingUpstream();
    const { s, port } = await start(up.handler, { http2: { maxConcurrentStreams: 4 } });
    // Before the client acknowledged the limit it could not know it: the streams over it are
    // refused (REFUSED_STREAM: nothing processed, safe to retry) and the connection stays.
    const early = await open(port, { ackSettings: false });
    assert.equal(early.serverSettings().get(SETTING.MAX_CONCURRENT_STREAMS), 4);
    early.write(...[1, 3, 5, 7, 9, 11].map((id) => get(id, `/early-${id}`)));
    await early.until(() => early.resetCode(9) !== null && early.resetCode(11) !== null);
    assert.equal(early.resetCode(9), CODE.REFUSED_STREAM);
    assert.equal(early.resetCode(11), CODE.REFUSED_STREAM);
    await up.arrival(4);
    assert.equal(early.goaway, null);
    // After acknowledging it, going over it is a protocol violation: GOAWAY, counted.
    const late = await open(port);
    await late.until(() => late.frames.some((f) => f.type === FRAME.SETTINGS && (f.flags & 1) === 1), 5_000, 'SETTINGS ACK');
    late.write(...[1, 3, 5, 7, 9].map((id) => get(id, `/late-${id}`)));
    const goaway = await late.goawayOrClose();
    assert.equal(goaway?.code, CODE.PROTOCOL_ERROR);
    assert.equal(await metric(s.proxy, abuse('too-many-streams')), 1);
    assert.deepEqual(up.log.map((r) => r.url).filter((u) => u.startsWith('/late')).length <= 4, true);
    for (const r of up.log) r.answer();
  });

  it('refuses a stream past --http2-max-streams-per-worker with RST_STREAM REFUSED_STREAM, counted', async () => {
    const up = holdingUpstream();
    const { s, port } = await start(up.handler, { http2: { maxStreamsPerWorker: 3 } });
    const a = await open(port);
    const b = await open(port);
    a.write(get(1, '/a1'), get(3, '/a2'));
    await up.arrival(2);
    b.write(get(1, '/b1'));
    await up.arrival(3);
    b.write(get(3, '/b2'));
    await b.until(() => b.resetCode(3) !== null);
    assert.equal(b.resetCode(3), CODE.REFUSED_STREAM);
    assert.deepEqual(up.log.map((r) => r.url), ['/a1', '/a2', '/b1'], 'the refused stream never reached the upstream');
    assert.equal(await metric(s.proxy, /signalbox_http2_streams_refused_total\{reason="worker-limit"\} (\d+)/), 1);
    assert.equal(await metric(s.proxy, /signalbox_proxy_errors_total\{reason="stream-refused"\} (\d+)/), 1);
    // Once a stream ends there is room again.
    up.log[0]!.answer();
    await waitForMetric(s.proxy, /signalbox_http2_active_streams 2\n/);
    b.write(get(5, '/b3'));
    await up.arrival(4);
    assert.equal(b.goaway, null, 'a refusal does not end the connection');
    for (const r of up.log) r.answer();
  });

  it('rapid reset: 10,000 streams opened and reset reach the upstream a bounded number of times, then GOAWAY ENHANCE_YOUR_CALM', async (t) => {
    const { s, port } = await start(undefined, { http2: { maxResets: 200 } });
    const c = await open(port);
    let sent = 0;
    for (let id = 1; sent < 10_000; id += 2) {
      if (!c.write(get(id, `/r${id}`), rstStreamFrame(id))) break;
      sent++;
      if (sent % 50 === 0) await tick();
    }
    const goaway = await c.goawayOrClose();
    assert.equal(goaway?.code, CODE.ENHANCE_YOUR_CALM);
    await c.closed;
    t.diagnostic(`${sent} streams written before the connection ended; ${s.up.seen.length} reached the upstream`);
    assert.ok(s.up.seen.length <= 300, `the upstream saw ${s.up.seen.length} of ${sent} streams`);
    // The worker's count reaches the admin endpoint a moment after the GOAWAY: wait for it, then it must be exactly 1.
    await waitForMetric(s.proxy, /signalbox_http2_abuse_total\{kind="rapid-reset"\} 1\n/);
    assert.equal(await metric(s.proxy, abuse('rapid-reset')), 1);
  });

  it('rapid reset where every stream reached the upstream before its reset: at most --http2-max-resets of them', async (t) => {
    const up = holdingUpstream();
    const { s, port } = await start(up.handler, { http2: { maxResets: 20 } });
    const c = await open(port);
    let id = 1;
    for (; id < 2_000 && c.open; id += 2) {
      const n = up.log.length + 1;
      if (!c.write(get(id, `/s${id}`))) break;
      const arrived = await Promise.race([up.arrival(n), c.closed.then(() => null)]);
      if (arrived === null) break;
      c.write(rstStreamFrame(id));
    }
    const goaway = await c.goawayOrClose();
    assert.equal(goaway?.code, CODE.ENHANCE_YOUR_CALM);
    t.diagnostic(`${up.log.length} streams reached the upstream before GOAWAY`);
    assert.ok(up.log.length <= 22, `the upstream saw ${up.log.length} streams`);
    const aborted = await Promise.all(up.log.map((r) => r.aborted));
    assert.equal(aborted.length, up.log.length, 'and every one of them was aborted upstream');
    assert.equal(await metric(s.proxy, abuse('rapid-reset')), 1);
  });

  it('CONTINUATION flood: a header block that never ends is cut off with GOAWAY ENHANCE_YOUR_CALM', async (t) => {
    const { s, port } = await start();
    const c = await open(port);
    c.write(headersFrame(1, requestBlock('app.test', '/'), { endHeaders: false }));
    let sent = 0;
    while (sent < 100_000 && c.write(continuationFrame(1, hpackLiteral(`x-pad-${sent}`, 'v')))) {
      sent++;
      if (sent % 100 === 0) await tick();
    }
    const goaway = await c.goawayOrClose();
    assert.equal(goaway?.code, CODE.ENHANCE_YOUR_CALM);
    await c.closed;
    t.diagnostic(`${sent} CONTINUATION frames written before the connection ended`);
    assert.ok(sent < 100_000, 'the connection ended before the flood did');
    assert.equal(s.up.seen.length, 0);
    assert.equal(await metric(s.proxy, abuse('continuation-flood')), 1);
  });

  it('SETTINGS flood: past --http2-max-control-frames the connection gets GOAWAY ENHANCE_YOUR_CALM', async (t) => {
    const { s, port } = await start(undefined, { http2: { maxControlFrames: 50 } });
    const c = await open(port);
    let sent = 0;
    while (sent < 100_000 && c.write(settingsFrame([[SETTING.INITIAL_WINDOW_SIZE, 65_535]]))) {
      sent++;
      if (sent % 100 === 0) await tick();
    }
    const goaway = await c.goawayOrClose();
    assert.equal(goaway?.code, CODE.ENHANCE_YOUR_CALM);
    await c.closed;
    const acks = c.frames.filter((f) => f.type === FRAME.SETTINGS && (f.flags & 1) === 1).length;
    t.diagnostic(`the proxy acknowledged ${acks} of ${sent} SETTINGS written`);
    assert.ok(acks < 1_000, `the proxy answered ${acks} of ${sent} SETTINGS`);
    assert.equal(await metric(s.proxy, abuse('settings-flood')), 1);
  });

  it('PING flood: past --http2-max-control-frames the connection gets GOAWAY ENHANCE_YOUR_CALM', async (t) => {
    const { s, port } = await start(undefined, { http2: { maxControlFrames: 50 } });
    const c = await open(port);
    let sent = 0;
    while (sent < 100_000 && c.write(pingFrame(Buffer.from('attack!!')))) {
      sent++;
      if (sent % 100 === 0) await tick();
    }
    const goaway = await c.goawayOrClose();
    assert.equal(goaway?.code, CODE.ENHANCE_YOUR_CALM);
    await c.closed;
    t.diagnostic(`the proxy answered ${c.count(FRAME.PING)} of ${sent} PINGs written`);
    assert.ok(c.count(FRAME.PING) < 1_000, `the proxy answered ${c.count(FRAME.PING)} of ${sent} PINGs`);
    assert.equal(await metric(s.proxy, abuse('ping-flood')), 1);
  });

  it('HPACK bomb: header blocks that decode to far more than the header list limit end the connection', async (t) => {
    const { s, port } = await start();
    const c = await open(port);
    // One 4,000-byte value into the dynamic table, then 16,000 one-byte references to it: 20 KB on
    // the wire, 64 MB once decoded, against a 16 KB header list limit.
    const bomb = Buffer.concat([requestBlock('app.test', '/'), hpackLiteral('x-bomb', 'a'.repeat(4_000), true), ...Array.from({ length: 16_000 }, () => hpackIndexed(62))]);
    const started = performance.now();
    let sent = 0;
    for (let id = 1; sent < 5_000; id += 2) {
      if (!c.write(headersFrame(id, bomb.subarray(0, 16_000), { endHeaders: false }), continuationFrame(id, bomb.subarray(16_000), true))) break;
      sent++;
      await tick();
    }
    const goaway = await c.goawayOrClose();
    assert.equal(goaway?.code, CODE.ENHANCE_YOUR_CALM);
    await c.closed;
    assert.ok(performance.now() - started < 3_000, 'ended within a few sweeps');
    const resets = c.frames.filter((f) => f.type === FRAME.RST_STREAM && f.payload.readUInt32BE(0) === CODE.ENHANCE_YOUR_CALM).length;
    t.diagnostic(`${sent} bombs written, ${resets} reset, connection ended after ${(performance.now() - started).toFixed(0)} ms`);
    assert.ok(resets >= 1 && resets < 1_000, `${resets} header blocks were decoded before the connection ended`);
    assert.equal(s.up.seen.length, 0, 'nothing reached the upstream');
    assert.equal(await metric(s.proxy, abuse('headers-too-large')), 1);
  });

  it('leaves ordinary HTTP/2 traffic alone: hundreds of requests, some cancelled, PINGs and SETTINGS now and then', async () => {
    const { s } = await start();
    const session = h2connect(s.proxy.https, { rejectUnauthorized: false });
    try {
      const one = (path: string, cancel = false): Promise<number> => new Promise((resolve, reject) => {
        const req = session.request({ ':path': path, ':authority': 'app.test' });
        req.on('response', (h) => {
          if (cancel) req.close(0x8);
          resolve(Number(h[':status']));
        });
        req.on('error', reject);
        req.resume();
        req.end();
      });
      for (let round = 0; round < 10; round++) {
        const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => one(`/r${round}-${i}`, i % 10 === 0)));
        assert.ok(statuses.every((x) => x === 200));
        await new Promise<void>((resolve) => session.ping(() => resolve()));
        session.settings({ initialWindowSize: 65_535 });
      }
      assert.equal(session.closed || session.destroyed, false);
      await waitForMetric(s.proxy, /signalbox_http_requests_total\{[^}]*code="200"\} 300/);
      assert.doesNotMatch(await (await fetch(`${s.proxy.admin}/metrics`)).text(), /signalbox_http2_abuse_total\{/);
    } finally {
      session.close();
    }
  });
});
