/**
 * Keys of the ingress-nginx controller ConfigMap that change every Ingress, served by a real proxy
 * to real upstreams, each upstream's own log saying what reached it: hide-headers,
 * forwarded-for-header (with the proxy's peer trusted), proxy-add-original-uri-header, and the
 * global deny lists block-cidrs, block-user-agents, block-referers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

function nginxIngress(name: string, host: string, service: string, annotations: Record<string, string> = {}, path = '/'): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z', annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`nginx.ingress.kubernetes.io/${k}`, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path, pathType: path === '/' ? 'Prefix' : 'ImplementationSpecific', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
  };
}

describe('ingress-nginx ConfigMap keys for every Ingress', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let app: TestUpstream;

  const get = (host: string, path: string, extra = ''): Promise<RawResponse> => rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);

  before(async () => {
    // An app that, like many frameworks, says what it runs on.
    app = await startUpstream('app', (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-powered-by': 'Express', 'x-aspnet-version': '4.0', 'x-upstream': 'app' });
        res.end(`app ${req.url}`);
      });
    });
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      {
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' },
        data: {
          'hide-headers': 'X-Powered-By,X-AspNet-Version',
          'add-headers': 'ingress-nginx/response-headers',
          // Behind a CDN that names the client in its own header (the proxy trusts 127.0.0.1).
          'forwarded-for-header': 'CF-Connecting-IP',
          'proxy-add-original-uri-header': 'true',
          'block-cidrs': '198.51.100.0/24, 203.0.113.66',
          'block-user-agents': '~*bot, curl/8.0',
          'block-referers': '~^https?://spam\\.example/',
        },
      },
      // A header the proxy itself sets is not the upstream's: hide-headers does not take it away.
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'response-headers', namespace: 'ingress-nginx' }, data: { 'X-Powered-By': 'signalbox' } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      nginxIngress('shop', 'shop.example', 'app'),
      nginxIngress('office', 'office.example', 'app', { 'whitelist-source-range': '203.0.113.0/24' }),
      nginxIngress('moved', 'moved.example', 'app', { 'rewrite-target': '/v2/$1', 'use-regex': 'true' }, '/(.*)'),
      // Basic authentication with satisfy: any and no address list of its own: block-cidrs is not
      // an address check that would let unblocked clients skip the password.
      { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'htpasswd', namespace: 'default' }, data: { auth: Buffer.from('alice:{PLAIN}secret\n').toString('base64') } },
      nginxIngress('members', 'members.example', 'app', { 'auth-type': 'basic', 'auth-secret': 'htpasswd', satisfy: 'any' }),
    ]);
    proxy = await startProxy(dir, { dataplane: { trustedProxies: ['127.0.0.1/32'] }, compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await removeDir(dir);
  });

  it('hide-headers: the upstream\'s fields never reach the client, the proxy\'s own still do', async () => {
    const from = app.seen.length;
    const res = await get('shop.example', '/about');
    assert.equal(res.status, 200);
    assert.deepEqual(app.seen.slice(from).map((s) => s.url), ['/about']);
    assert.equal(res.headers['x-aspnet-version'], undefined);
    assert.equal(res.headers['x-powered-by'], 'signalbox', 'add-headers, not the upstream\'s Express');
    assert.equal(res.headers['x-upstream'], 'app', 'other upstream fields pass');
  });

  it('forwarded-for-header: the client address is read from that header, not X-Forwarded-For', async () => {
    const from = app.seen.length;
    const admitted = await get('office.example', '/desk', 'CF-Connecting-IP: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.1\r\n');
    assert.equal(admitted.status, 200);
    const refused = await get('office.example', '/desk', 'X-Forwarded-For: 203.0.113.9\r\n');
    assert.equal(refused.status, 403, 'X-Forwarded-For no longer names the client');
    const reached = app.seen.slice(from);
    assert.deepEqual(reached.map((s) => s.url), ['/desk']);
    assert.equal(reached[0]!.headers['x-real-ip'], '203.0.113.9');
    assert.equal(reached[0]!.headers['cf-connecting-ip'], '203.0.113.9', 'the header passes as sent');
    assert.equal(reached[0]!.headers['x-forwarded-for'], '198.51.100.1, 127.0.0.1', 'X-Forwarded-For is still appended to');
  });

  it('proxy-add-original-uri-header: X-Original-URI is the target the client sent, before any rewrite', async () => {
    const from = app.seen.length;
    await get('shop.example', '/cart?id=3', 'X-Original-URI: /spoofed\r\n');
    await get('moved.example', '/old/page?q=1');
    const reached = app.seen.slice(from);
    assert.deepEqual(reached.map((s) => [s.url, s.headers['x-original-uri']]), [['/cart?id=3', '/cart?id=3'], ['/v2/old/page?q=1', '/old/page?q=1']]);
  });

  it('block-cidrs, block-user-agents, block-referers: 403 before the upstream, on every Ingress', async () => {
    const from = app.seen.length;
    const statuses: number[] = [];
    for (const extra of [
      'CF-Connecting-IP: 198.51.100.5\r\n',
      'User-Agent: Mozilla/5.0 (compatible; Googlebot/2.1)\r\n',
      'User-Agent: CURL/8.0\r\n',
      'Referer: https://spam.example/offer\r\n',
      // Exact strings are whole values; a pattern is searched for, anchors included.
      'User-Agent: curl/8.0.1\r\n',
      'Referer: https://example.com/?from=https://spam.example/\r\n',
    ]) statuses.push((await get('shop.example', '/blocked', extra)).status);
    const office = await get('office.example', '/desk', 'CF-Connecting-IP: 203.0.113.66\r\n');
    const robot = await get('office.example', '/desk', 'CF-Connecting-IP: 203.0.113.9\r\nUser-Agent: my-robot\r\n');
    assert.deepEqual(statuses, [403, 403, 403, 403, 200, 200]);
    assert.equal(office.status, 403, 'an address the Ingress\'s own allow list admits is still blocked');
    assert.equal(office.headers['x-signalbox-error'], 'client-address');
    assert.equal(robot.status, 403);
    assert.equal(robot.headers['x-signalbox-error'], 'header-denied');
    const stranger = await get('members.example', '/club', 'CF-Connecting-IP: 203.0.113.9\r\n');
    assert.equal(stranger.status, 401, 'an address block-cidrs does not name still needs the password');
    const reached = app.seen.slice(from);
    assert.deepEqual(reached.map((s) => [s.headers['user-agent'], s.headers.referer]), [['curl/8.0.1', undefined], [undefined, 'https://example.com/?from=https://spam.example/']]);
  });
});

describe('load-balance in the ingress-nginx ConfigMap', () => {
  it('ewma: an Ingress without the annotation sends most requests to the endpoint that answers fast', async () => {
    const slow = await startUpstream('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.end('slow'), 100);
    });
    const fast = await startUpstream('fast', (req, res) => {
      req.resume();
      res.end('fast');
    });
    const dir = await tempManifestDir();
    try {
      await writeManifests(dir, 'a.yaml', [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'load-balance': 'ewma' } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
        ...serviceWithEndpoints('app', [{ port: slow.port }, { port: fast.port }]),
        nginxIngress('app', 'app.example', 'app'),
      ]);
      const proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
      try {
        const port = Number(new URL(proxy.http).port);
        // 8 clients in a closed loop: round robin would give the slow endpoint half of them.
        let left = 200;
        const client = async (): Promise<void> => {
          while (left-- > 0) assert.equal((await rawRequest(port, 'GET / HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n')).status, 200);
        };
        await Promise.all(Array.from({ length: 8 }, client));
        assert.equal(slow.seen.length + fast.seen.length, 200);
        assert.ok(fast.seen.length > slow.seen.length * 3, `fast ${fast.seen.length} vs slow ${slow.seen.length}`);
      } finally {
        await proxy.stop();
      }
    } finally {
      await slow.close();
      await fast.close();
      await removeDir(dir);
    }
  });
});

describe('retry-non-idempotent in the ingress-nginx ConfigMap', () => {
  it('a POST without a body that an endpoint failed is retried on another; one with a body is not', async () => {
    const failing = await startUpstream('failing', (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(503).end('failing'));
    });
    const healthy = await startUpstream('healthy');
    const dir = await tempManifestDir();
    try {
      await writeManifests(dir, 'a.yaml', [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'retry-non-idempotent': 'true' } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
        ...serviceWithEndpoints('app', [{ port: failing.port }, { port: healthy.port }], 'default', { 'signalbox.dev/retry-on': '503' }),
        nginxIngress('app', 'app.example', 'app'),
      ]);
      const proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
      try {
        const port = Number(new URL(proxy.http).port);
        const post = (path: string, body: string | null) => rawRequest(port, `POST ${path} HTTP/1.1\r\nHost: app.example\r\n${body === null ? '' : `Content-Length: ${body.length}\r\n`}Connection: close\r\n\r\n${body ?? ''}`);
        // Round robin over the two: half of the first tries reach the failing endpoint.
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push((await post(`/order/${i}`, null)).status);
        assert.deepEqual(statuses, [200, 200, 200, 200]);
        const failed = failing.seen.map((s) => s.url);
        assert.ok(failed.length >= 1, 'some POSTs went to the failing endpoint first');
        assert.deepEqual(healthy.seen.map((s) => s.url).sort(), ['/order/0', '/order/1', '/order/2', '/order/3']);
        // A body streams: it is never sent twice, so that answer is the client's.
        const withBody: number[] = [];
        for (let i = 0; i < 2; i++) withBody.push((await post(`/upload/${i}`, 'data')).status);
        assert.deepEqual(withBody.sort(), [200, 503]);
        assert.equal(failing.seen.filter((s) => s.url.startsWith('/upload/')).length + healthy.seen.filter((s) => s.url.startsWith('/upload/')).length, 2);
      } finally {
        await proxy.stop();
      }
    } finally {
      await failing.close();
      await healthy.close();
      await removeDir(dir);
    }
  });
});
