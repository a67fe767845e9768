/**
 * ingress-nginx's `default-backend` and `custom-http-errors` on real sockets: an app that answers
 * errors, and an error-page server that logs the X-* fields it got and answers with the status of
 * X-Code (as ingress-nginx's custom-error-pages image does). What the client gets, and what each
 * upstream saw, is asserted from their own logs.
 */
import assert from 'node:assert/strict';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { nginxIngress, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { waitForMetric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';



interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The local port of the client connection it came over (the same port: the same connection). */
  readonly via: number;
}

describe('error pages from the default backend (ingress-nginx custom-http-errors)', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let app: TestUpstream;
  let pages: TestUpstream;
  let hugePages: TestUpstream;
  // One connection at a time, kept alive: a reused port proves the connection survived the answer.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  const send = (method: string, host: string, path: string, headers: Record<string, string> = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method, path, agent, headers: { host, ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        // Read now: the agent takes the socket back once the response ends.
        const via = res.socket.localPort!;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), via }));
      });
      req.on('error', reject);
      req.end();
    });

  before(async () => {
    // The app: a 404 with a large body (not to be streamed to the client), 503, 418, else 200.
    app = await startUpstream('app', (req, res) => {
      req.resume();
      if (req.url!.startsWith('/missing')) return res.writeHead(404, { 'content-type': 'text/html', 'x-app': 'yes' }).end('app 404 '.repeat(64 * 1024));
      if (req.url === '/busy') return res.writeHead(503).end('app busy');
      if (req.url === '/teapot') return res.writeHead(418, { 'x-app': 'yes' }).end('app teapot');
      res.writeHead(200).end('app ok');
    });
    // The error pages: the status of X-Code with a page naming it; without X-Code (a request that
    // fell back for want of endpoints), 200 naming the path.
    pages = await startUpstream('pages', (req, res) => {
      req.resume();
      const code = req.headers['x-code'];
      if (typeof code === 'string') {
        // Content-Length explicit: Node leaves it out of an answer to HEAD (Go's servers, like the
        // custom-error-pages image, send it).
        const page = `<h1>page ${code}</h1>`;
        return res.writeHead(Number(code), { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page), 'x-page': code }).end(page);
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`fallback ${req.url}`);
    });
    // An error backend whose page is too large to hold (2 MiB).
    hugePages = await startUpstream('huge-pages', (req, res) => {
      req.resume();
      res.writeHead(Number(req.headers['x-code'] ?? 200), { 'content-type': 'text/html' }).end('x'.repeat(2 * 1024 * 1024));
    });
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      ...serviceWithEndpoints('pages', [{ port: pages.port }]),
      ...serviceWithEndpoints('empty', []),
      ...serviceWithEndpoints('refusing', [{ port: await deadPort() }]),
      ...serviceWithEndpoints('pages-down', [{ port: await deadPort() }]),
      ...serviceWithEndpoints('huge-pages', [{ port: hugePages.port }]),
      nginxIngress('app', 'app.example', 'app', { 'default-backend': 'pages', 'custom-http-errors': '404,503,502' }, '2024-01-01T00:00:00Z'),
      nginxIngress('empty', 'empty.example', 'empty', { 'default-backend': 'pages' }, '2024-01-02T00:00:00Z'),
      nginxIngress('refused', 'refused.example', 'refusing', { 'default-backend': 'pages', 'custom-http-errors': '502' }, '2024-01-03T00:00:00Z'),
      nginxIngress('down', 'down.example', 'app', { 'default-backend': 'pages-down', 'custom-http-errors': '404' }, '2024-01-04T00:00:00Z'),
      // disable-proxy-intercept-errors: the app's own 404 passes, signalbox's 502 is replaced.
      nginxIngress('own-only', 'own.example', 'app', { 'default-backend': 'pages', 'custom-http-errors': '404,502', 'disable-proxy-intercept-errors': 'true' }, '2024-01-06T00:00:00Z'),
      nginxIngress('own-only-refused', 'own-refused.example', 'refusing', { 'default-backend': 'pages', 'custom-http-errors': '404,502', 'disable-proxy-intercept-errors': 'true' }, '2024-01-07T00:00:00Z'),
      nginxIngress('huge', 'huge.example', 'app', { 'default-backend': 'huge-pages', 'custom-http-errors': '404' }, '2024-01-08T00:00:00Z'),
      // No default-backend of its own: the global one (--default-backend-service).
      nginxIngress('global', 'global.example', 'app', { 'custom-http-errors': '418' }, '2024-01-05T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx', defaultBackendService: 'default/pages' } });
    port = Number(new URL(proxy.http).port);
  });

  after(async () => {
    agent.destroy();
    await proxy?.stop();
    await Promise.all([app?.close(), pages?.close(), hugePages?.close()]);
    await removeDir(dir);
  });

  it('replaces a listed upstream error by the error backend\'s page, with ingress-nginx\'s X-* fields', async () => {
    const before = pages.seen.length;
    const res = await send('GET', 'app.example', '/missing/thing?q=1', { accept: 'text/html', 'x-ingress-name': 'spoofed', 'x-code': '200' });
    assert.equal(res.status, 404);
    assert.equal(res.body, '<h1>page 404</h1>');
    assert.equal(res.headers['x-page'], '404');
    assert.equal(res.headers['x-app'], undefined, 'nothing of the app\'s answer reaches the client');
    assert.equal(pages.seen.length, before + 1);
    const seen = pages.seen.at(-1)!;
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/?q=1');
    const h = seen.headers;
    assert.equal(h['x-code'], '404');
    assert.equal(h['x-format'], 'text/html');
    assert.equal(h['x-original-uri'], '/missing/thing?q=1');
    assert.equal(h['x-namespace'], 'default');
    assert.equal(h['x-ingress-name'], 'app');
    assert.equal(h['x-service-name'], 'app');
    assert.equal(h['x-service-port'], '80');
    assert.equal(seen.rawHeaders.filter((n) => /^x-(ingress-name|code)$/i.test(n)).length, 2, 'the client\'s own copies are not passed');
    assert.equal(h.host, 'app.example');
    const appSaw = app.seen.at(-1)!;
    assert.match(String(h['x-request-id']), /^[0-9a-f]{32}$/);
    assert.equal(h['x-request-id'], appSaw.headers['x-request-id'], 'the page request carries the id the app got');
  });

  it('keeps the client connection usable after an intercepted answer', async () => {
    const first = await send('GET', 'app.example', '/missing');
    const second = await send('GET', 'app.example', '/fine');
    assert.equal(first.status, 404);
    assert.equal(second.status, 200);
    assert.equal(second.body, 'app ok');
    assert.equal(second.via, first.via, 'the same client connection');
  });

  it('passes statuses that are not listed through untouched', async () => {
    const before = pages.seen.length;
    const res = await send('GET', 'app.example', '/teapot');
    assert.equal(res.status, 418);
    assert.equal(res.body, 'app teapot');
    assert.equal(res.headers['x-app'], 'yes');
    const ok = await send('GET', 'app.example', '/fine');
    assert.equal(ok.body, 'app ok');
    assert.equal(pages.seen.length, before, 'the error backend was not asked');
  });

  it('asks the error backend with HEAD for a HEAD request, and sends no body', async () => {
    const res = await send('HEAD', 'app.example', '/missing');
    assert.equal(res.status, 404);
    assert.equal(res.body, '');
    assert.equal(res.headers['content-length'], String(Buffer.byteLength('<h1>page 404</h1>')), 'the length GET would get');
    assert.equal(pages.seen.at(-1)!.method, 'HEAD');
    const next = await send('GET', 'app.example', '/fine');
    assert.equal(next.body, 'app ok');
    assert.equal(next.via, res.via);
  });

  it('sends the requests of a Service without endpoints to the default backend', async () => {
    const res = await send('GET', 'empty.example', '/shop/cart?x=1');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'fallback /shop/cart?x=1');
    const seen = pages.seen.at(-1)!;
    assert.equal(seen.url, '/shop/cart?x=1');
    assert.equal(seen.headers['x-code'], undefined);
  });

  it('intercepts signalbox\'s own error answers too (502 for a refused upstream)', async () => {
    const res = await send('GET', 'refused.example', '/');
    assert.equal(res.status, 502);
    assert.equal(res.body, '<h1>page 502</h1>');
    assert.equal(pages.seen.at(-1)!.headers['x-code'], '502');
    assert.equal(pages.seen.at(-1)!.headers['x-ingress-name'], 'refused');
  });

  it('answers signalbox\'s own error when the error backend fails, and never loops', async () => {
    const before = pages.seen.length;
    const res = await send('GET', 'down.example', '/missing');
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-signalbox-error'], 'upstream-refused');
    assert.equal(pages.seen.length, before);
    const next = await send('GET', 'down.example', '/fine');
    assert.equal(next.body, 'app ok');
    await waitForMetric(proxy, /signalbox_error_pages_total\{outcome="failed"\} [1-9]/);
    await waitForMetric(proxy, /signalbox_error_pages_total\{outcome="page"\} [1-9]/);
  });

  it('refuses an error page too large to hold: signalbox\'s 502 instead', async () => {
    const res = await send('GET', 'huge.example', '/missing');
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-signalbox-error'], 'upstream-protocol-error');
    assert.equal(hugePages.seen.length, 1);
    const next = await send('GET', 'huge.example', '/fine');
    assert.equal(next.body, 'app ok');
  });

  it('with disable-proxy-intercept-errors, replaces signalbox\'s own errors only', async () => {
    const before = pages.seen.length;
    const upstreams = await send('GET', 'own.example', '/missing');
    assert.equal(upstreams.status, 404);
    assert.equal(upstreams.headers['x-app'], 'yes', 'the app\'s own 404 passes');
    assert.equal(pages.seen.length, before);
    const own = await send('GET', 'own-refused.example', '/');
    assert.equal(own.status, 502);
    assert.equal(own.body, '<h1>page 502</h1>');
    assert.equal(pages.seen.at(-1)!.headers['x-ingress-name'], 'own-only-refused');
  });

  it('fetches the pages of an Ingress without default-backend from --default-backend-service', async () => {
    const res = await send('GET', 'global.example', '/teapot');
    assert.equal(res.status, 418);
    assert.equal(res.body, '<h1>page 418</h1>');
    assert.equal(pages.seen.at(-1)!.headers['x-ingress-name'], 'global');
  });
});
