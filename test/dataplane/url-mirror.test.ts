import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { createServer as createH2cServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { UrlMirrorFilter } from '../../src/model/table.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/** What a server saw of one request, body included. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A server that records each request it read to its end, and can be told to stall instead. */
class Recorder {
  readonly seen: Seen[] = [];
  readonly server: Server;
  port = 0;
  /** Requests under this path are neither read nor answered. */
  stallPrefix = '/stall';
  readonly stalled: IncomingMessage[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      if (req.url!.includes(this.stallPrefix)) {
        req.pause();
        this.stalled.push(req);
        this.server.emit('stalled');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        this.server.emit('seen');
        res.end('mirror answer');
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Resolves with the `n`th request seen (0-based), once it is there. */
  async nth(n: number): Promise<Seen> {
    while (this.seen.length <= n) await once(this.server, 'seen');
    return this.seen[n]!;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One request to the proxy as `shop.example`; resolves with the status and body the client got. */
function send(proxy: TestProxy, path: string, options: { method?: string; body?: string | Buffer } = {}): Promise<{ status: number; body: string }> {
  const { port } = new URL(proxy.http);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, headers: { host: 'shop.example' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('UrlMirror (mirror-target)', () => {
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;
  const bodies: string[] = [];
  const mirror = new Recorder();
  // An HTTP/2 (cleartext) upstream: its body is piped, so the copy is tapped at once.
  const h2Bodies: string[] = [];
  const h2app: Http2Server = createH2cServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      h2Bodies.push(Buffer.concat(chunks).toString());
      res.end(`h2 ${Buffer.concat(chunks).length}`);
    });
  });

  before(async () => {
    await mirror.listen();
    app = await startUpstream('app', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        res.end(`app ${req.method} ${req.url} ${Buffer.concat(chunks).length}`);
      });
    });
    await new Promise<void>((resolve) => h2app.listen(0, '127.0.0.1', resolve));
    const down = await deadPort();
    dir = await tempManifestDir();
    const paths = ['/shop', '/fixed', '/headonly', '/down', '/stall'];
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      ...serviceWithEndpoints('h2app', [{ port: (h2app.address() as AddressInfo).port }], 'default', { 'signalbox.dev/backend-protocol': 'h2c' }),
      ingress('mirrored', null, [...paths.map((path) => ({ path, service: 'app' })), { path: '/h2', service: 'h2app' }]),
    ]);
    const at = `http://127.0.0.1:${mirror.port}`;
    const filter = (changes: Partial<UrlMirrorFilter>): UrlMirrorFilter => ({ type: 'UrlMirror', url: `${at}$request_uri`, host: 'test.env.com', requestBody: true, ...changes });
    proxy = await startProxy(dir, {
      editTable: editRoutes({
        '/shop': () => ({ filters: [filter({})] }),
        '/fixed': () => ({ filters: [filter({ url: `${at}/copy` })] }),
        '/headonly': () => ({ filters: [filter({ url: `${at}/head$uri`, requestBody: false })] }),
        '/down': () => ({ filters: [filter({ url: `http://127.0.0.1:${down}$request_uri` })] }),
        '/stall': () => ({ filters: [filter({})] }),
        '/h2': () => ({ filters: [filter({})] }),
      }),
    });
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await mirror.close();
    await new Promise((resolve) => h2app.close(resolve));
    await removeDir(dir);
  });

  it('copies a request to the URL with $request_uri expanded and Host from mirror-host; the client gets the upstream’s answer', async () => {
    const n = mirror.seen.length;
    const res = await send(proxy, '/shop/cart?id=7');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'app GET /shop/cart?id=7 0');
    const copy = await mirror.nth(n);
    assert.equal(copy.method, 'GET');
    assert.equal(copy.url, '/shop/cart?id=7');
    assert.equal(copy.headers.host, 'test.env.com');
    assert.equal(copy.headers['x-forwarded-host'], 'shop.example');
  });

  it('a URL without variables gets the request’s query appended, as nginx’s proxy_pass with a URI', async () => {
    const n = mirror.seen.length;
    await send(proxy, '/fixed/a?b=c');
    assert.equal((await mirror.nth(n)).url, '/copy?b=c');
  });

  it('carries the request body to the mirror as well as to the upstream', async () => {
    const n = mirror.seen.length;
    const body = 'x'.repeat(200_000) + 'end';
    const res = await send(proxy, '/shop/upload', { method: 'POST', body });
    assert.equal(res.body, `app POST /shop/upload ${body.length}`);
    const copy = await mirror.nth(n);
    assert.equal(copy.method, 'POST');
    assert.equal(copy.body, body);
    assert.equal(bodies.at(-1), body);
  });

  it('tees the body when the upstream speaks HTTP/2 too', async () => {
    const n = mirror.seen.length;
    const body = 'z'.repeat(100_000);
    const res = await send(proxy, '/h2/upload', { method: 'PUT', body });
    assert.equal(res.body, `h2 ${body.length}`);
    assert.equal(h2Bodies.at(-1), body);
    const copy = await mirror.nth(n);
    assert.equal(copy.method, 'PUT');
    assert.equal(copy.url, '/h2/upload');
    assert.equal(copy.body, body);
  });

  it('mirror-request-body off: the copy is the head only, Content-Length 0; $uri is the path without the query', async () => {
    const n = mirror.seen.length;
    const res = await send(proxy, '/headonly/form?x=1', { method: 'POST', body: 'secret' });
    assert.equal(res.body, 'app POST /headonly/form?x=1 6');
    const copy = await mirror.nth(n);
    assert.equal(copy.url, '/head/headonly/form');
    assert.equal(copy.body, '');
    assert.equal(copy.headers['content-length'], '0');
  });

  it('a mirror that cannot be reached changes nothing for the client', async () => {
    const res = await send(proxy, '/down/x', { method: 'POST', body: 'hello' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'app POST /down/x 5');
  });

  it('a mirror that reads nothing does not hold back the original’s body', async () => {
    const stalled = once(mirror.server, 'stalled');
    const body = Buffer.alloc(8 * 1024 * 1024, 'y');
    const res = await send(proxy, '/stall/big', { method: 'POST', body });
    assert.equal(res.status, 200);
    assert.equal(res.body, `app POST /stall/big ${body.length}`);
    await stalled;
    assert.equal(mirror.stalled.length, 1);
  });
});
