import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests, type TestEndpoint } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/**
 * Balancing policies chosen by Service annotation, through the real proxy to real upstreams. Each
 * upstream answers with its name in `x-upstream`; counting those shows what the policy did.
 */
describe('balancing policy by Service annotation', () => {
  let dir: string;
  let proxy: TestProxy;
  const ups: TestUpstream[] = [];
  const agent = new Agent({ connections: 8 });

  const write = async (annotations: Record<string, string>, upstreams = ups, weights: number[] = []): Promise<void> => {
    const endpoints: TestEndpoint[] = upstreams.map((u, i) => ({ port: u.port, ...(weights[i] === undefined ? {} : { weight: weights[i] }) }));
    const applied = proxy?.nextTable();
    await writeManifests(dir, 'app.yaml', [ingressClass(), ...serviceWithEndpoints('app', endpoints, 'default', annotations), ingress('app', null, [{ path: '/', service: 'app' }])]);
    await applied;
  };
  const get = async (headers: Record<string, string> = {}): Promise<{ upstream: string; setCookie: string | undefined }> => {
    const res = await request(`${proxy.http}/`, { headers: { host: 'app.test', ...headers }, dispatcher: agent });
    await res.body.text();
    assert.equal(res.statusCode, 200);
    const cookie = res.headers['set-cookie'];
    return { upstream: res.headers['x-upstream'] as string, setCookie: Array.isArray(cookie) ? cookie[0] : cookie };
  };
  const tally = async (n: number, headers: (i: number) => Record<string, string> = () => ({})): Promise<Map<string, number>> => {
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const { upstream } = await get(headers(i));
      counts.set(upstream, (counts.get(upstream) ?? 0) + 1);
    }
    return counts;
  };

  before(async () => {
    for (const name of ['a', 'b', 'c', 'd']) ups.push(await startUpstream(name));
    dir = await tempManifestDir();
    await writeManifests(dir, 'app.yaml', [ingressClass()]);
    proxy = await startProxy(dir);
  });
  after(async () => {
    await proxy.stop();
    await agent.close();
    await Promise.all(ups.map((u) => u.close()));
    await removeDir(dir);
  });

  it('round robin by default: an equal share each', async () => {
    await write({});
    assert.deepEqual([...(await tally(40)).values()].sort(), [10, 10, 10, 10]);
  });

  it('weighted round robin follows endpoint weights, interleaved', async () => {
    await write({ 'signalbox.dev/lb-policy': 'weighted-round-robin' }, ups, [3, 1, 1, 1]);
    const order: string[] = [];
    for (let i = 0; i < 60; i++) order.push((await get()).upstream);
    const counts = Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, order.filter((u) => u === n).length]));
    assert.deepEqual(counts, { a: 30, b: 10, c: 10, d: 10 });
    assert.ok(!order.join('').includes('aaaa'), `the heavy endpoint is interleaved, not bursty: ${order.join('')}`);
  });

  it('ring-hash on a header keeps each key on one endpoint and moves few keys when one leaves', async () => {
    await write({ 'signalbox.dev/lb-policy': 'ring-hash', 'signalbox.dev/hash-on': 'header:x-shop-id' });
    const keys = Array.from({ length: 120 }, (_, i) => `shop-${i}`);
    const before = new Map<string, string>();
    for (const key of keys) before.set(key, (await get({ 'x-shop-id': key })).upstream);
    for (const key of keys.slice(0, 20)) assert.equal((await get({ 'x-shop-id': key })).upstream, before.get(key), 'the same key, the same endpoint');
    assert.equal(new Set(before.values()).size, 4, 'keys spread over every endpoint');

    await write({ 'signalbox.dev/lb-policy': 'ring-hash', 'signalbox.dev/hash-on': 'header:x-shop-id' }, ups.slice(0, 3));
    let moved = 0;
    for (const key of keys) {
      const now = (await get({ 'x-shop-id': key })).upstream;
      if (before.get(key) === 'd') assert.notEqual(now, 'd');
      else if (now !== before.get(key)) moved++;
    }
    assert.equal(moved, 0, 'keys of the endpoints that stayed did not move');
  });

  it('maglev on a cookie is sticky per key, and a request without the key still gets an answer', async () => {
    await write({ 'signalbox.dev/lb-policy': 'maglev', 'signalbox.dev/hash-on': 'cookie:user' });
    for (let i = 0; i < 10; i++) {
      const first = (await get({ cookie: `user=u${i}` })).upstream;
      for (let j = 0; j < 3; j++) assert.equal((await get({ cookie: `theme=x; user=u${i}` })).upstream, first);
    }
    const keyless = await tally(8);
    assert.equal([...keyless.values()].reduce((a, b) => a + b, 0), 8);
    assert.ok(keyless.size > 1, 'without the key requests fall back to round robin, not to one endpoint');
  });

  it('cookie affinity sets a cookie, honours it, and moves a client whose endpoint left', async () => {
    await write({ 'signalbox.dev/affinity': 'cookie', 'signalbox.dev/affinity-cookie-name': 'pin', 'signalbox.dev/affinity-cookie-ttl': '1h' });
    const first = await get();
    assert.match(first.setCookie ?? '', /^pin=[0-9a-f]{8}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/);
    const cookie = first.setCookie!.split(';')[0]!;
    for (let i = 0; i < 8; i++) {
      const again = await get({ cookie });
      assert.equal(again.upstream, first.upstream);
      assert.equal(again.setCookie, undefined, 'a pinned client gets no new cookie');
    }
    await write({ 'signalbox.dev/affinity': 'cookie', 'signalbox.dev/affinity-cookie-name': 'pin' }, ups.filter((u) => u.name !== first.upstream));
    const moved = await get({ cookie });
    assert.notEqual(moved.upstream, first.upstream);
    assert.match(moved.setCookie ?? '', /^pin=[0-9a-f]{8}; Path=\//);
    assert.notEqual(moved.setCookie!.split(';')[0], cookie, 'the cookie is reset to the new endpoint');
  });
});

describe('load-aware policies', () => {
  for (const policy of ['least-request', 'ewma'] as const) {
    it(`${policy} sends most requests to the endpoint that answers fast`, async () => {
      const slow = await startUpstream('slow', (req, res) => {
        req.resume();
        setTimeout(() => res.end('slow'), 150);
      });
      const fast = await startUpstream('fast', (req, res) => {
        req.resume();
        setTimeout(() => res.end('fast'), 2);
      });
      const dir = await tempManifestDir();
      const agent = new Agent({ connections: 64 });
      try {
        await writeManifests(dir, 'a.yaml', [
          ingressClass(),
          ...serviceWithEndpoints('app', [{ port: slow.port }, { port: fast.port }], 'default', { 'signalbox.dev/lb-policy': policy }),
          ingress('app', null, [{ path: '/', service: 'app' }]),
        ]);
        const proxy = await startProxy(dir);
        try {
          // 8 clients in a closed loop for a bounded number of requests.
          let left = 400;
          const client = async (): Promise<void> => {
            while (left-- > 0) {
              const res = await request(`${proxy.http}/`, { headers: { host: 'a.test' }, dispatcher: agent });
              await res.body.text();
            }
          };
          await Promise.all(Array.from({ length: 8 }, client));
          const toSlow = slow.seen.length;
          const toFast = fast.seen.length;
          assert.equal(toSlow + toFast, 400);
          assert.ok(toFast > toSlow * 4, `fast ${toFast} vs slow ${toSlow}`);
        } finally {
          await proxy.stop();
        }
      } finally {
        await agent.close();
        await slow.close();
        await fast.close();
        await removeDir(dir);
      }
    });
  }
});

describe('per-Service timeouts', () => {
  it('a response-header timeout annotation overrides the proxy-wide one', async () => {
    const slow = await startUpstream('slow', () => {});
    const dir = await tempManifestDir();
    try {
      await writeManifests(dir, 'a.yaml', [
        ingressClass(),
        ...serviceWithEndpoints('slow', [{ port: slow.port }], 'default', { 'signalbox.dev/response-header-timeout': '200ms' }),
        ingress('slow', null, [{ path: '/', service: 'slow' }]),
      ]);
      const proxy = await startProxy(dir, { timeouts: { responseHeadersMs: 60_000 } });
      try {
        const res = await request(`${proxy.http}/`, { headers: { host: 'a.test' } });
        assert.equal(res.statusCode, 504);
        assert.equal(res.headers['x-signalbox-error'], 'upstream-timeout');
        await res.body.text();
      } finally {
        await proxy.stop();
      }
    } finally {
      await slow.close();
      await removeDir(dir);
    }
  });
});
