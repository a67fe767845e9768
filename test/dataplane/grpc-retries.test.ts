/**
 * Retries of gRPC calls, only where gRPC allows them (gRFC A6): a call the upstream refused
 * (REFUSED_STREAM, GOAWAY before the stream) is replayed on another endpoint, and so is one
 * answered with a Trailers-Only status the Service lists in `signalbox.dev/retry-on-grpc-status`
 * — when its body was held whole; a status not listed, a body over 64 KiB, or a streaming call
 * answered while its client still sends, is the client's answer. The remaining `grpc-timeout` is
 * what the next attempt is given. Real grpc-js client and servers; every endpoint logs each call
 * by its `x-call` metadata, so the assertions say which endpoints a call reached.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import { echoClient, startEchoServer, unary, type EchoClient, type EchoServer, type Note } from '../helpers/grpc-echo.ts';
import { startRefusingUpstream, type RefusingUpstream } from '../helpers/grpc-refusing-upstream.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { deadPort } from '../helpers/upstreams.ts';

const GRPC = { 'signalbox.dev/backend-protocol': 'GRPC' };

/** Metadata naming the call, so that each endpoint's log says which calls reached it. */
function callId(id: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-call', id);
  return md;
}

/** The ids of the calls an Echo server logged. */
const idsOf = (server: EchoServer): string[] => server.log.map((c) => String(c.metadata['x-call']));

describe('gRPC retries through the proxy', { timeout: 60_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let failing: EchoServer;
  let good: EchoServer;
  let refusing: RefusingUpstream;
  let goingAway: RefusingUpstream;
  let slow: RefusingUpstream;
  const clients = new Map<string, EchoClient>();

  before(async () => {
    failing = await startEchoServer('failing', { failWith: grpc.status.UNAVAILABLE });
    good = await startEchoServer('good');
    refusing = await startRefusingUpstream({ kind: 'refuse' });
    goingAway = await startRefusingUpstream({ kind: 'goaway' });
    slow = await startRefusingUpstream({ kind: 'unavailable', delayMs: 300 });
    dir = await tempManifestDir();
    // No outlier detection: the failing endpoint's UNAVAILABLE answers would eject it, and these
    // tests need calls to keep reaching it.
    const service = (name: string, ports: number[], extra: Record<string, string> = {}): object[] =>
      serviceWithEndpoints(name, ports.map((port) => ({ port })), 'default', { ...GRPC, 'signalbox.dev/outlier-consecutive-failures': '0', ...extra });
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...service('retrying', [failing.port, good.port], { 'signalbox.dev/retry-on-grpc-status': 'unavailable' }),
      ...service('strict', [failing.port, good.port], { 'signalbox.dev/retry-on-grpc-status': 'resource-exhausted' }),
      ...service('refused', [refusing.port, good.port]),
      ...service('goaway', [goingAway.port, good.port]),
      ...service('slow', [slow.port, good.port], { 'signalbox.dev/retry-on-grpc-status': 'UNAVAILABLE' }),
      ...service('dead', [await deadPort(), good.port]),
      ...['retrying', 'strict', 'refused', 'goaway', 'slow', 'dead'].map((name) => ingress(name, `${name}.test`, [{ path: '/', service: name }])),
    ]);
    proxy = await startProxy(dir);
  });
  after(async () => {
    for (const c of clients.values()) c.close();
    await proxy?.stop();
    failing?.close();
    good?.close();
    await refusing?.close();
    await goingAway?.close();
    await slow?.close();
    await removeDir(dir);
  });

  /** The client of virtual host `<name>.test`. */
  const client = (name: string): EchoClient => {
    let c = clients.get(name);
    if (c === undefined) {
      c = echoClient(`127.0.0.1:${new URL(proxy.http).port}`, grpc.credentials.createInsecure(), `${name}.test`);
      clients.set(name, c);
    }
    return c;
  };

  it('retries a call answered UNAVAILABLE (Trailers-Only) on another endpoint: both endpoints saw it, the client only the good answer', async () => {
    const retriesBefore = await metric(proxy, /signalbox_retries_total\{cluster="default\/retrying:80",reason="grpc-status"\} (\d+)/);
    const ids = ['u1', 'u2', 'u3', 'u4'];
    for (const id of ids) {
      const { reply, status } = await unary(client('retrying'), 'Say', { text: id }, callId(id));
      assert.equal(status.code, grpc.status.OK, `${id}: ${status.details}`);
      assert.equal(reply?.servedBy, 'good');
    }
    const first = idsOf(failing).filter((id) => ids.includes(id));
    assert.ok(first.length >= 1, 'some calls went to the failing endpoint first');
    assert.deepEqual(idsOf(good).filter((id) => ids.includes(id)), ids, 'every call reached the good endpoint once');
    const retries = await metric(proxy, /signalbox_retries_total\{cluster="default\/retrying:80",reason="grpc-status"\} (\d+)/);
    assert.equal(retries - retriesBefore, first.length, 'one retry per call the failing endpoint answered');
  });

  it('does not retry a status the Service does not list', async () => {
    const ids = ['s1', 's2', 's3'];
    const failed: string[] = [];
    for (const id of ids) {
      const { status } = await unary(client('strict'), 'Say', { text: id }, callId(id));
      if (status.code === grpc.status.OK) continue;
      assert.equal(status.code, grpc.status.UNAVAILABLE);
      assert.equal(status.details, 'failing says UNAVAILABLE', "the failing endpoint's own answer");
      failed.push(id);
    }
    assert.ok(failed.length >= 1, 'some calls went to the failing endpoint');
    assert.deepEqual(idsOf(failing).filter((id) => ids.includes(id)), failed);
    assert.ok(!idsOf(good).some((id) => failed.includes(id)), 'no failed call was tried on the good endpoint');
  });

  /** A client-streaming Join of `texts` on `host`; resolves with its reply and status. */
  const join = (host: string, id: string, texts: readonly string[]): Promise<{ reply: Note | null; status: grpc.StatusObject }> =>
    new Promise((resolve) => {
      let reply: Note | null = null;
      const call = client(host).Join(callId(id), (_err: unknown, value?: Note) => (reply = value ?? null)) as grpc.ClientWritableStream<Note>;
      call.on('status', (status: grpc.StatusObject) => setImmediate(() => resolve({ reply, status })));
      for (const text of texts) call.write({ text });
      call.end();
    });

  it('retries a client-streaming call whose whole body was held', async () => {
    const ids = ['j1', 'j2'];
    for (const id of ids) {
      const { reply, status } = await join('retrying', id, ['a', 'b', 'c']);
      assert.equal(status.code, grpc.status.OK, `${id}: ${status.details}`);
      assert.deepEqual({ text: reply?.text, servedBy: reply?.servedBy }, { text: 'a b c', servedBy: 'good' });
    }
    assert.ok(idsOf(failing).some((id) => ids.includes(id)), 'a call went to the failing endpoint first');
    assert.deepEqual(good.log.filter((c) => ids.includes(String(c.metadata['x-call']))).map((c) => c.text), ['a b c', 'a b c'], 'the replayed body reached the good endpoint whole');
  });

  it('does not retry a call whose body went past 64 KiB once it was sent', async () => {
    const big = ['x'.repeat(30_000), 'y'.repeat(30_000), 'z'.repeat(30_000)];
    const ids = ['b1', 'b2'];
    const failed: string[] = [];
    for (const id of ids) {
      const { status } = await join('retrying', id, big);
      if (status.code === grpc.status.OK) continue;
      assert.equal(status.code, grpc.status.UNAVAILABLE);
      failed.push(id);
    }
    assert.ok(failed.length >= 1, 'a call went to the failing endpoint');
    const seen = failing.log.filter((c) => failed.includes(String(c.metadata['x-call'])));
    assert.equal(seen[0]?.text.length, 90_002, 'the failing endpoint read the whole body');
    assert.ok(!idsOf(good).some((id) => failed.includes(id)), 'the call was not replayed');
  });

  it('does not retry a streaming call answered while its client was still sending', async () => {
    const ids = ['c1', 'c2'];
    const failed: string[] = [];
    for (const id of ids) {
      const call = client('retrying').Chat(callId(id)) as grpc.ClientDuplexStream<Note, Note>;
      call.on('error', () => {});
      call.write({ text: id });
      // The good endpoint echoes, and then the client ends; the failing one answers at once.
      const data = once(call, 'data').then(() => call.end(), () => {});
      // (events.once would reject on the call's 'error', which comes first for a failed call.)
      const status = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
      if (status.code === grpc.status.OK) {
        await data;
        continue;
      }
      assert.equal(status.code, grpc.status.UNAVAILABLE);
      failed.push(id);
    }
    assert.ok(failed.length >= 1, 'a call went to the failing endpoint');
    assert.ok(!idsOf(good).some((id) => failed.includes(id)), 'the call was not replayed');
  });

  it('retries a call the upstream refused with REFUSED_STREAM, for any method', async () => {
    const ids = ['r1', 'r2', 'r3'];
    for (const id of ids) {
      const { reply, status } = await unary(client('refused'), 'Say', { text: id }, callId(id));
      assert.equal(status.code, grpc.status.OK, `${id}: ${status.details}`);
      assert.equal(reply?.servedBy, 'good');
    }
    const { reply, status } = await join('refused', 'r4', ['p', 'q']);
    assert.equal(status.code, grpc.status.OK, status.details);
    assert.equal(reply?.text, 'p q');
    const refused = refusing.log.map((c) => c.call).filter((id) => id.startsWith('r'));
    assert.ok(refused.length >= 1, 'some calls went to the refusing endpoint first');
    assert.deepEqual(idsOf(good).filter((id) => id.startsWith('r')), [...ids, 'r4'], 'every call was served once');
  });

  it('replays a refused streaming call while its client still sends: what was held, then the rest', async () => {
    const ids = ['w1', 'w2'];
    for (const id of ids) {
      const result = new Promise<{ reply: Note | null; status: grpc.StatusObject }>((resolve) => {
        let reply: Note | null = null;
        const call = client('refused').Join(callId(id), (_err: unknown, value?: Note) => (reply = value ?? null)) as grpc.ClientWritableStream<Note>;
        call.on('status', (status: grpc.StatusObject) => setImmediate(() => resolve({ reply, status })));
        call.write({ text: 'p' });
        // The rest only once an endpoint has the call: the refusing one, or the good one.
        void Promise.race([refusing.nextCall(), good.nextStart()]).then(() => {
          call.write({ text: 'q' });
          call.write({ text: 'r' });
          call.end();
        });
      });
      const { reply, status } = await result;
      assert.equal(status.code, grpc.status.OK, `${id}: ${status.details}`);
      assert.equal(reply?.text, 'p q r', 'the good endpoint got every message once');
    }
    assert.ok(refusing.log.some((c) => ids.includes(c.call)), 'a call went to the refusing endpoint first');
  });

  it('retries a call whose endpoint refused the connection, streaming ones too', async () => {
    const before = await metric(proxy, /signalbox_retries_total\{cluster="default\/dead:80",reason="connect-failure"\} (\d+)/);
    for (const id of ['d1', 'd2']) {
      const { status } = await unary(client('dead'), 'Say', { text: id }, callId(id));
      assert.equal(status.code, grpc.status.OK, `${id}: ${status.details}`);
    }
    for (const id of ['d3', 'd4']) {
      const { reply, status } = await join('dead', id, ['m', 'n']);
      assert.equal(status.code, grpc.status.OK, `${id}: ${status.details}`);
      assert.equal(reply?.text, 'm n');
    }
    assert.deepEqual(idsOf(good).filter((id) => id.startsWith('d')), ['d1', 'd2', 'd3', 'd4']);
    const retried = await metric(proxy, /signalbox_retries_total\{cluster="default\/dead:80",reason="connect-failure"\} (\d+)/);
    assert.ok(retried - before >= 1, 'some calls went to the dead endpoint first');
  });

  it('retries a call sent on a connection the upstream answered with GOAWAY before the stream', async () => {
    const ids = ['g1', 'g2', 'g3'];
    for (const id of ids) {
      const { status } = await unary(client('goaway'), 'Say', { text: id }, callId(id));
      assert.equal(status.code, grpc.status.OK, `${id}: ${status.details}`);
    }
    assert.ok(goingAway.log.length >= 1, 'some calls went to the endpoint going away first');
    assert.deepEqual(idsOf(good).filter((id) => ids.includes(id)), ids);
  });

  it("gives the next attempt only what is left of the call's grpc-timeout", async () => {
    const ids = ['t1', 't2'];
    for (const id of ids) {
      const { status } = await unary(client('slow'), 'Say', { text: id }, callId(id), { deadline: Date.now() + 5_000 });
      assert.equal(status.code, grpc.status.OK, `${id}: ${status.details}`);
    }
    const retried = slow.log.find((c) => ids.includes(c.call));
    assert.ok(retried !== undefined, 'a call went to the slow endpoint first');
    const firstMs = Number(/^(\d+)m$/.exec(retried.grpcTimeout ?? '')?.[1]);
    assert.ok(firstMs > 4_000 && firstMs <= 5_000, `the first attempt got the client's timeout (${retried.grpcTimeout})`);
    const second = good.log.find((c) => c.metadata['x-call'] === retried.call)!;
    assert.ok(second.deadlineLeftMs <= firstMs - 250, `the second attempt got ${Math.round(second.deadlineLeftMs)}ms, after 300ms at the slow one out of ${firstMs}ms`);
  });
});
