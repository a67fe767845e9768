import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests, type TestEndpoint } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { deadPort, startUpstream, type TestUpstream, type UpstreamHandler } from '../helpers/upstreams.ts';
import { metric } from '../helpers/metrics.ts';

/** A proxy in front of one Service with `endpoints` and `annotations`. */
async function serviceBehindProxy(endpoints: TestEndpoint[], annotations: Record<string, string>): Promise<{ proxy: TestProxy; close: () => Promise<void> }> {
  const dir = await tempManifestDir();
  await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('app', endpoints, 'default', annotations), ingress('app', null, [{ path: '/', service: 'app' }])]);
  const proxy = await startProxy(dir);
  return {
    proxy,
    close: async () => {
      await proxy.stop();
      await removeDir(dir);
    },
  };
}

async function get(proxy: TestProxy, method = 'GET', agent?: Agent): Promise<{ status: number; upstream: unknown; error: unknown }> {
  const res = await request(`${proxy.http}/`, { method: method as 'GET', headers: { host: 'a.test' }, ...(agent ? { dispatcher: agent } : {}) });
  await res.body.text();
  return { status: res.statusCode, upstream: res.headers['x-upstream'], error: res.headers['x-signalbox-error'] };
}

describe('retries', () => {
  const upstreams: TestUpstream[] = [];
  after(() => Promise.all(upstreams.map((u) => u.close())));
  const up = async (name: string, handler?: UpstreamHandler): Promise<TestUpstream> => {
    const u = await startUpstream(name, handler);
    upstreams.push(u);
    return u;
  };

  it('a refused connection is retried on another endpoint, for any method, and nobody sees an error', async () => {
    const good = await up('good');
    const env = await serviceBehindProxy([{ port: await deadPort() }, { port: good.port }], { 'signalbox.dev/outlier-consecutive-failures': '0' });
    try {
      for (let i = 0; i < 6; i++) {
        for (const method of ['GET', 'POST']) {
          const r = await get(env.proxy, method);
          assert.equal(r.status, 200);
          assert.equal(r.upstream, 'good');
        }
      }
      assert.ok((await metric(env.proxy, /signalbox_retries_total\{cluster="default\/app:80",reason="connect-failure"\} (\d+)/)) >= 6);
    } finally {
      await env.close();
    }
  });

  it('a status listed in retry-on is retried for idempotent methods only', async () => {
    const flaky = await up('flaky', (req, res) => {
      req.resume();
      res.writeHead(503, { 'x-upstream': 'flaky' });
      res.end('busy');
    });
    const good = await up('good2');
    const env = await serviceBehindProxy([{ port: flaky.port }, { port: good.port }], {
      'signalbox.dev/retry-on': '503',
      'signalbox.dev/retries': '2',
      'signalbox.dev/outlier-consecutive-failures': '0',
    });
    try {
      const gets = await Promise.all(Array.from({ length: 6 }, () => get(env.proxy)));
      assert.deepEqual(gets.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
      const posts: number[] = [];
      for (let i = 0; i < 6; i++) posts.push((await get(env.proxy, 'POST')).status);
      assert.ok(posts.includes(503), 'a POST that got 503 is not replayed');
      assert.ok(posts.includes(200));
    } finally {
      await env.close();
    }
  });

  it('a connection reset before any response byte is retried on another endpoint for idempotent methods without a body, never for POST', async () => {
    const resetting = await up('resetting', (req) => req.socket.destroy());
    const good = await up('good3');
    const env = await serviceBehindProxy([{ port: resetting.port }, { port: good.port }], { 'signalbox.dev/outlier-consecutive-failures': '0' });
    try {
      for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']) {
        for (let i = 0; i < 4; i++) {
          const r = await get(env.proxy, method);
          assert.deepEqual([r.status, r.upstream], [200, 'good3'], `${method} #${i}`);
        }
      }
      const before = resetting.seen.length;
      const posts: unknown[] = [];
      for (let i = 0; i < 4; i++) posts.push((await get(env.proxy, 'POST')).error);
      assert.ok(posts.includes('upstream-reset'), 'a POST the upstream may have acted on is not replayed');
      assert.equal(resetting.seen.length - before, posts.filter((e) => e === 'upstream-reset').length, 'each failed POST reached the upstream once');
    } finally {
      await env.close();
    }
  });

  it('the retry budget caps the retries of its window', async () => {
    // Every endpoint refuses, so every request wants a retry. With no percentage and a floor of 1
    // retry a second, the 10-second window allows exactly 10 retries: the rest fail at once.
    const env = await serviceBehindProxy([{ port: await deadPort() }, { port: await deadPort() }], {
      'signalbox.dev/retry-budget-percent': '0',
      'signalbox.dev/retry-budget-min-per-second': '1',
      'signalbox.dev/outlier-consecutive-failures': '0',
    });
    const agent = new Agent({ connections: 40 });
    try {
      const results = await Promise.all(Array.from({ length: 40 }, () => get(env.proxy, 'GET', agent)));
      assert.ok(results.every((r) => r.status === 502));
      const retried = await metric(env.proxy, /signalbox_retries_total\{cluster="default\/app:80",reason="connect-failure"\} (\d+)/);
      const refused = await metric(env.proxy, /signalbox_retry_budget_exhausted_total\{cluster="default\/app:80"\} (\d+)/);
      assert.equal(retried, 10, 'the window allowed its floor of retries');
      assert.equal(refused, 30, 'and refused every retry past it');
    } finally {
      await agent.close();
      await env.close();
    }
  });
});

describe('passive outlier detection', () => {
  it('ejects an endpoint after consecutive 5xx, never more than the allowed share, and brings it back', async () => {
    let broken = true;
    const sick = await startUpstream('sick', (req, res) => {
      req.resume();
      res.writeHead(broken ? 500 : 200, { 'x-upstream': 'sick' });
      res.end();
    });
    const well = await startUpstream('well');
    const env = await serviceBehindProxy([{ port: sick.port }, { port: well.port }], {
      'signalbox.dev/outlier-consecutive-failures': '3',
      'signalbox.dev/outlier-base-ejection-time': '1s',
      'signalbox.dev/retries': '0',
    });
    try {
      const first = await Promise.all(Array.from({ length: 6 }, async () => (await get(env.proxy)).upstream));
      assert.equal(first.filter((u) => u === 'sick').length, 3, 'round robin until the third failure');
      const during: unknown[] = [];
      for (let i = 0; i < 10; i++) during.push((await get(env.proxy)).upstream);
      assert.ok(during.every((u) => u === 'well'), `ejected: ${during.join(',')}`);
      assert.equal(await metric(env.proxy, /signalbox_outlier_ejections_total\{cluster="default\/app:80"\} (\d+)/), 1);
      assert.equal(await metric(env.proxy, /signalbox_endpoint_ejected\{cluster="default\/app:80",endpoint="127\.0\.0\.1:\d+"\} (\d+)/), 1);
      broken = false;
      await new Promise((r) => setTimeout(r, 1_200)); // the ejection time of the annotation
      const after: unknown[] = [];
      for (let i = 0; i < 6; i++) after.push((await get(env.proxy)).upstream);
      assert.ok(after.includes('sick'), 'back in rotation after the ejection time');
    } finally {
      await env.close();
      await sick.close();
      await well.close();
    }
  });

  it('with every endpoint failing, ejects only up to max-ejection-percent', async () => {
    const bad = await Promise.all(['b1', 'b2'].map((n) => startUpstream(n, (req, res) => {
      req.resume();
      res.writeHead(500, { 'x-upstream': n });
      res.end();
    })));
    const env = await serviceBehindProxy(bad.map((u) => ({ port: u.port })), {
      'signalbox.dev/outlier-consecutive-failures': '2',
      'signalbox.dev/outlier-max-ejection-percent': '50',
      'signalbox.dev/retries': '0',
    });
    try {
      for (let i = 0; i < 20; i++) assert.equal((await get(env.proxy)).status, 500, 'errors pass through; the proxy never runs out of endpoints');
      assert.equal(await metric(env.proxy, /signalbox_outlier_ejections_total\{cluster="default\/app:80"\} (\d+)/), 1);
    } finally {
      await env.close();
      await Promise.all(bad.map((u) => u.close()));
    }
  });
});

describe('circuit breaker', () => {
  it('answers 503 at once past max-requests in flight', async () => {
    const slow = await startUpstream('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.end('done'), 300);
    });
    const env = await serviceBehindProxy([{ port: slow.port }], { 'signalbox.dev/max-requests': '2' });
    const agent = new Agent({ connections: 10 });
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => get(env.proxy, 'GET', agent)));
      const ok = results.filter((r) => r.status === 200).length;
      const open = results.filter((r) => r.status === 503 && r.error === 'circuit-open').length;
      assert.equal(ok, 2);
      assert.equal(open, 4);
      assert.equal(await metric(env.proxy, /signalbox_circuit_breaker_rejections_total\{cluster="default\/app:80",limit="requests"\} (\d+)/), 4);
      assert.equal((await get(env.proxy, 'GET', agent)).status, 200, 'open only while the limit is reached');
    } finally {
      await agent.close();
      await env.close();
      await slow.close();
    }
  });

  it('queues up to max-pending-requests behind max-connections, and refuses the rest', async () => {
    const slow = await startUpstream('slow2', (req, res) => {
      req.resume();
      setTimeout(() => res.end('done'), 200);
    });
    const env = await serviceBehindProxy([{ port: slow.port }], { 'signalbox.dev/max-connections': '1', 'signalbox.dev/max-pending-requests': '1' });
    const agent = new Agent({ connections: 10 });
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => get(env.proxy, 'GET', agent)));
      assert.equal(results.filter((r) => r.status === 200).length, 2, 'one in flight and one waiting for the connection');
      assert.equal(results.filter((r) => r.error === 'circuit-open').length, 3);
      assert.equal(await metric(env.proxy, /signalbox_circuit_breaker_rejections_total\{cluster="default\/app:80",limit="pending"\} (\d+)/), 3);
      assert.equal(slow.seen.length, 2, 'the upstream never saw more than the limits allow');
    } finally {
      await agent.close();
      await env.close();
      await slow.close();
    }
  });
});

describe('a request whose endpoint went away in a deploy', () => {
  it('is handed to the newer table (held until the backend is back, or sent to where it is now) instead of failing', async () => {
    let swapped: () => void = () => {};
    const tableChanged = new Promise<void>((resolve) => (swapped = resolve));
    // The old pod takes the request, then dies without answering — after the table moved on.
    const old = await startUpstream('old', (req) => void tableChanged.then(() => req.socket.destroy()));
    const fresh = await startUpstream('new');
    const dir = await tempManifestDir();
    const manifests = (port: number): object[] => [ingressClass(), ...serviceWithEndpoints('app', [{ port }]), ingress('app', 'a.test', [{ path: '/', service: 'app' }])];
    await writeManifests(dir, 'all.yaml', manifests(old.port));
    const proxy = await startProxy(dir);
    try {
      const pending = request(`${proxy.http}/orders`, { headers: { host: 'a.test' } });
      while (old.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
      const next = proxy.nextTable();
      await writeManifests(dir, 'all.yaml', manifests(fresh.port));
      await next;
      swapped();
      const res = await pending;
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'new GET /orders');
      assert.equal(await metric(proxy, /signalbox_retries_total\{cluster="default\/app:80",reason="rerouted"\} (\d+)/), 1);
    } finally {
      await proxy.stop();
      await old.close();
      await fresh.close();
      await removeDir(dir);
    }
  });
});
