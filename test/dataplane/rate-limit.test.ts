/**
 * The RateLimit filter on real sockets, as clients meet it: a burst over the rate gets the proxy's
 * own 503s, which never reach the upstream; another address and an allow-listed one are not held
 * back; a second request in flight is refused while the first is held upstream, and let in once it
 * ends or its client leaves (HTTP/1.1 and HTTP/2 streams alike, a WebSocket until its tunnel
 * closes); the limits are not divided among the workers; and ingress-nginx's annotations and
 * ConfigMap reach the data plane as they say.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { Client, request } from 'undici';
import type { RateLimitFilter } from '../../src/model/table.ts';
import { holdingUpstream, type HoldingUpstream } from '../helpers/holding-upstream.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric, waitForMetric } from '../helpers/metrics.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { addWebSocketEcho } from '../helpers/websocket-echo.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const HOST = 'api.example.com';
/** One request a minute with a burst of 4: five at once, and no refill while the test runs. */
const RATE: RateLimitFilter = {
  type: 'RateLimit',
  zone: 'Ingress/default/api',
  rates: [{ requests: 1, periodSeconds: 60, burst: 4 }],
  connections: null,
  allowlist: ['198.51.100.0/24', '2001:db8::/32'],
  rateStatus: 503,
  connectionStatus: 503,
};
/** One request in flight per address, refused with 429. */
const CONNECTIONS: RateLimitFilter = { type: 'RateLimit', zone: 'Ingress/default/held', rates: [], connections: 1, allowlist: [], rateStatus: 503, connectionStatus: 429 };

interface Answer {
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: string;
}

/**
 * Waits for the `n`-th request to reach the holding upstream and answers it; fails at once when the
 * proxy answered `pending` itself instead (refused), rather than waiting for ever.
 */
async function arrivesUpstream(held: HoldingUpstream, n: number, pending: Promise<unknown>): Promise<void> {
  const refused = pending.then((answer) => { throw new Error(`answered by the proxy, never sent upstream: ${JSON.stringify(answer)}`); });
  (await Promise.race([held.arrival(n), refused])).answer();
}

describe('RateLimit', () => {
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;
  let held: HoldingUpstream;
  let holder: TestUpstream;

  /** GET `path` as the client `address` (the proxy trusts the loopback peer's X-Forwarded-For). */
  async function get(path: string, address: string, signal?: AbortSignal): Promise<Answer> {
    const res = await request(`${proxy.http}${path}`, { headers: { host: HOST, 'x-forwarded-for': address }, ...(signal === undefined ? {} : { signal }) });
    const reason = res.headers['x-signalbox-error'];
    return { status: res.statusCode, reason: typeof reason === 'string' ? reason : undefined, body: await res.body.text() };
  }

  /** The requests the app saw on `path` from `address`. */
  function seenFrom(path: string, address: string): number {
    return app.seen.filter((s) => s.url.startsWith(path) && String(s.headers['x-forwarded-for']).includes(address)).length;
  }

  before(async () => {
    app = await startUpstream('app');
    addWebSocketEcho(app.server);
    held = holdingUpstream();
    holder = await startUpstream('holder', held.handler);
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      ...serviceWithEndpoints('holder', [{ port: holder.port }]),
      ingress('api', HOST, [
        { path: '/limited', service: 'app' },
        { path: '/also-limited', service: 'app' },
        { path: '/held', service: 'holder' },
      ]),
      // Any host: a browser's WebSocket names the proxy's own address as its Host.
      ingress('ws', null, [{ path: '/ws', service: 'app' }]),
    ]);
    proxy = await startProxy(dir, {
      dataplane: { trustedProxies: ['127.0.0.1'] },
      editTable: editRoutes({
        '/limited': () => ({ filters: [RATE] }),
        // The same zone: one budget for both paths, as every path of an Ingress in ingress-nginx.
        '/also-limited': () => ({ filters: [RATE] }),
        '/held': () => ({ filters: [CONNECTIONS] }),
        '/ws': () => ({ filters: [{ ...CONNECTIONS, zone: 'Ingress/default/ws' }] }),
      }),
    });
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
    await holder?.close();
    await removeDir(dir);
  });

  it('answers a burst over the limit with 503 rate-limited, and the refused requests never reach the upstream', async () => {
    const client = '203.0.113.7';
    const answers: Answer[] = [];
    for (let i = 0; i < 8; i++) answers.push(await get(`/limited/${i}`, client));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 503, 503, 503]);
    for (const refused of answers.slice(5)) {
      assert.equal(refused.reason, 'rate-limited');
      assert.match(refused.body, /^503 too many requests/);
    }
    assert.equal(seenFrom('/limited', client), 5, 'the upstream saw only the accepted ones');
    // The other path of the zone draws on the same, spent, budget.
    assert.equal((await get('/also-limited', client)).status, 503);
    assert.equal(seenFrom('/also-limited', client), 0);
    assert.equal(await metric(proxy, /signalbox_proxy_errors_total\{reason="rate-limited"\} (\d+)/), 4);
  });

  it('counts each client address on its own', async () => {
    for (let i = 0; i < 6; i++) await get('/limited', '203.0.113.20');
    const other = await get('/limited', '203.0.113.21');
    assert.equal(other.status, 200, 'another address has its own burst');
  });

  it('never limits an allow-listed address', async () => {
    for (const client of ['198.51.100.9', '2001:db8::7']) {
      const statuses = new Set<number>();
      for (let i = 0; i < 12; i++) statuses.add((await get('/limited', client)).status);
      assert.deepEqual([...statuses], [200], client);
      assert.equal(seenFrom('/limited', client), 12);
    }
  });

  it('refuses a second request in flight while the first is held upstream, and lets one in once the first ends', async () => {
    const client = '203.0.113.30';
    const first = get('/held/1', client);
    const firstHeld = await held.arrival(1);
    const second = await get('/held/2', client);
    assert.equal(second.status, 429, 'the filter\'s connectionStatus');
    assert.equal(second.reason, 'connection-limited');
    // Another address is not held back by this one's request in flight.
    const neighbour = get('/held/3', '203.0.113.31');
    await arrivesUpstream(held, 2, neighbour);
    assert.equal((await neighbour).status, 200);
    assert.deepEqual(held.log.map((r) => r.url), ['/held/1', '/held/3'], 'the refused request never reached the upstream');

    firstHeld.answer();
    assert.equal((await first).status, 200);
    const third = get('/held/4', client);
    await arrivesUpstream(held, 3, third);
    assert.equal((await third).status, 200, 'the first request ended: its count is released');
  });

  it('releases the count when the client goes away before the answer', async () => {
    const client = '203.0.113.40';
    const leaving = new AbortController();
    const first = get('/held/5', client, leaving.signal).catch((err: unknown) => err);
    const firstHeld = await held.arrival(4);
    assert.equal((await get('/held/6', client)).status, 429);
    leaving.abort();
    await first;
    // The proxy saw the client leave when it aborted the upstream request.
    await firstHeld.aborted;
    const again = get('/held/7', client);
    await arrivesUpstream(held, 5, again);
    assert.equal((await again).status, 200);
  });

  it('counts a WebSocket as in flight until its tunnel closes', async () => {
    const url = `${proxy.http.replace('http:', 'ws:')}/ws/chat`;
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error('websocket error'));
    });
    const port = Number(new URL(proxy.http).port);
    const upgrade = `GET /ws/again HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const refused = await rawRequest(port, upgrade);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['x-signalbox-error'], 'connection-limited');
    await new Promise<void>((resolve) => {
      ws.onclose = () => resolve();
      ws.close();
    });
    // The tunnel is accounted (101) once the proxy saw it end, as its count was released.
    await waitForMetric(proxy, /signalbox_http_requests_total\{route="Ingress\/default\/ws\/rule\/0\/path\/0",[^}]*code="101"\} 1/);
    const again = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      again.onopen = () => resolve();
      again.onerror = () => reject(new Error('the second WebSocket was refused'));
    });
    again.close();
  });
});

describe('RateLimit with several workers', () => {
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;

  before(async () => {
    app = await startUpstream('app');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: app.port }]), ingress('api', HOST, [{ path: '/limited', service: 'app' }])]);
    proxy = await startProxy(dir, { workers: 2, editTable: editRoutes({ '/limited': () => ({ filters: [{ ...RATE, allowlist: [] }] }) }) });
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
    await removeDir(dir);
  });

  it('gives a client on one connection the whole limit, not the limit divided by the workers', async () => {
    // One connection stays on one worker. Divided by 2 workers, the burst would be 2: 3 accepted.
    const client = new Client(proxy.http);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await client.request({ path: '/limited', method: 'GET', headers: { host: HOST } });
        await res.body.text();
        statuses.push(res.statusCode);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 503, 503]);
    } finally {
      await client.close();
    }
  });
});

const NGINX = 'nginx.ingress.kubernetes.io/';

function nginxIngress(name: string, host: string, service: string, annotations: Record<string, string>): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z', annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
  };
}

describe('RateLimit from ingress-nginx annotations', () => {
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;
  let held: HoldingUpstream;
  let holder: TestUpstream;

  before(async () => {
    app = await startUpstream('app');
    held = holdingUpstream();
    holder = await startUpstream('holder', held.handler);
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'limit-req-status-code': '429' } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      ...serviceWithEndpoints('holder', [{ port: holder.port }]),
      // One a minute, burst 1 × 2: three at once, and no refill while the test runs.
      nginxIngress('api', 'api.example', 'app', { 'limit-rpm': '1', 'limit-burst-multiplier': '2' }),
      nginxIngress('uploads', 'uploads.example', 'holder', { 'limit-connections': '1' }),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
    await holder?.close();
    await removeDir(dir);
  });

  it('refuses past limit-rpm times limit-burst-multiplier with the ConfigMap\'s limit-req-status-code', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(`${proxy.http}/n/${i}`, { headers: { host: 'api.example' } });
      await res.body.text();
      statuses.push(res.statusCode);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.deepEqual(app.seen.map((s) => s.url), ['/n/0', '/n/1', '/n/2']);
  });

  it('counts HTTP/2 streams in flight against limit-connections, and releases each as it closes', async () => {
    const session = h2connect(proxy.https, { rejectUnauthorized: false });
    try {
      const open = (path: string): { head: Promise<IncomingHttpHeaders>; closed: Promise<unknown> } => {
        const stream = session.request({ ':authority': 'uploads.example', ':path': path }, { endStream: true });
        stream.resume();
        return { head: (once(stream, 'response') as Promise<[IncomingHttpHeaders]>).then(([h]) => h), closed: once(stream, 'close') };
      };
      const first = open('/h2/1');
      const firstHeld = await held.arrival(1);
      const second = open('/h2/2');
      const refused = await second.head;
      assert.equal(refused[':status'], 503, 'limit-conn-status-code\'s default');
      assert.equal(refused['x-signalbox-error'], 'connection-limited');
      firstHeld.answer();
      assert.equal((await first.head)[':status'], 200);
      await first.closed;
      const third = open('/h2/3');
      await arrivesUpstream(held, 2, third.head);
      assert.equal((await third.head)[':status'], 200);
      assert.deepEqual(held.log.map((r) => r.url), ['/h2/1', '/h2/3']);
    } finally {
      session.close();
    }
  });
});
