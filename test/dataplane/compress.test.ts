/**
 * The Compress filter (ingress-nginx's `use-gzip`, `enable-brotli`) on real sockets: what the client
 * decompresses is exactly what the upstream sent; responses a client cannot take, types outside
 * the list, short bodies, already encoded ones, HEAD and 304 go as the upstream sent them; a client
 * that accepts both gets brotli; a large streamed body is held back at the upstream while the
 * client reads none of it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { connect as h2connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { CompressCoding, CompressFilter } from '../../src/model/table.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const PAGE = Buffer.from('<!doctype html><title>shop</title>' + '<p>lorem ipsum dolor sit amet</p>'.repeat(200));
const MIB = 1024 * 1024;
const STREAM = randomBytes(24 * MIB);

/** The large stream's upstream side: how much it wrote, whether it waits for the proxy to drain. */
const streamed = { written: 0, blocked: false };

interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as it came over the wire. */
  raw: Buffer;
}

function get(proxy: TestProxy, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  const { port } = new URL(proxy.http);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, headers: { host: 'shop.example', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, raw: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const coding = (minLength: number): CompressCoding => ({ level: 1, minLength, types: ['text/html', 'text/plain'] });

describe('Compress (use-gzip, enable-brotli)', () => {
  let dir: string;
  let proxy: TestProxy;
  let web: TestUpstream;

  before(async () => {
    web = await startUpstream('web', (req, res) => {
      req.resume();
      const name = (req.url ?? '').split('/').pop();
      if (name === 'page.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': PAGE.length, etag: '"v1"', 'accept-ranges': 'bytes' });
        res.end(PAGE);
      } else if (name === 'chunked.html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.write(PAGE.subarray(0, 100));
        res.end(PAGE.subarray(100));
      } else if (name === 'exact.html') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': PAGE.length, 'cache-control': 'max-age=60, no-transform' });
        res.end(PAGE);
      } else if (name === 'image.png') {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': PAGE.length });
        res.end(PAGE);
      } else if (name === 'short.html') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': 100 });
        res.end(PAGE.subarray(0, 100));
      } else if (name === 'encoded.html') {
        const body = gzipSync(PAGE);
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': body.length });
        res.end(body);
      } else if (name === 'cached.html') {
        res.writeHead(304, { etag: '"v1"', 'content-type': 'text/html' });
        res.end();
      } else if (name === 'stream.txt') {
        // Written as fast as the proxy takes it, no length: what it has written shows backpressure.
        res.writeHead(200, { 'content-type': 'text/plain' });
        streamed.written = 0;
        const more = (): void => {
          streamed.blocked = false;
          while (streamed.written < STREAM.length) {
            const chunk = STREAM.subarray(streamed.written, streamed.written + 64 * 1024);
            streamed.written += chunk.length;
            if (!res.write(chunk)) {
              streamed.blocked = true;
              res.once('drain', more);
              return;
            }
          }
          res.end();
        };
        more();
      } else {
        res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 4 });
        res.end('none');
      }
    });
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('web', [{ port: web.port }]), ingress('shop', 'shop.example', ['/gz', '/both', '/plain'].map((path) => ({ path, service: 'web' })))]);
    const gzipOnly: CompressFilter = { type: 'Compress', gzip: coding(256), brotli: null, gzipDisable: 'MSIE [4-6]\\.' };
    const both: CompressFilter = { type: 'Compress', gzip: coding(256), brotli: coding(20), gzipDisable: null };
    proxy = await startProxy(dir, {
      editTable: editRoutes({
        '/gz': () => ({ filters: [gzipOnly] }),
        // With a response-side filter, the response phase runs before the head is decided on.
        '/both': () => ({ filters: [both, { type: 'ResponseHeaderModifier', set: [{ name: 'x-frame-options', value: 'DENY' }] }] }),
      }),
    });
  });
  after(async () => {
    await proxy.stop();
    await web.close();
    await removeDir(dir);
  });

  it('gzips for a client that accepts it: the exact bytes back, Vary, a weak ETag, no length or ranges', async () => {
    const got = await get(proxy, '/gz/page.html', { 'accept-encoding': 'gzip, deflate' });
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-encoding'], 'gzip');
    assert.equal(got.headers.vary, 'Accept-Encoding');
    assert.equal(got.headers['content-length'], undefined);
    assert.equal(got.headers['transfer-encoding'], 'chunked');
    assert.equal(got.headers['accept-ranges'], undefined);
    assert.equal(got.headers.etag, 'W/"v1"');
    assert.ok(got.raw.length < PAGE.length / 4, `compressed to ${got.raw.length} bytes`);
    assert.ok(gunzipSync(got.raw).equals(PAGE));
    // The upstream was asked as the client asked: it could have compressed itself.
    assert.equal(web.seen.at(-1)!.headers['accept-encoding'], 'gzip, deflate');
  });

  it('sends the body as it came to a client that does not accept gzip, still with Vary', async () => {
    for (const accept of [undefined, 'gzip;q=0, identity', 'br']) {
      const got = await get(proxy, '/gz/page.html', accept === undefined ? {} : { 'accept-encoding': accept });
      assert.equal(got.headers['content-encoding'], undefined, String(accept));
      assert.equal(got.headers['content-length'], String(PAGE.length));
      assert.equal(got.headers.vary, 'Accept-Encoding');
      assert.equal(got.headers.etag, '"v1"');
      assert.ok(got.raw.equals(PAGE));
    }
  });

  it('compresses a body without Content-Length, and none for a User-Agent gzip-disable matches', async () => {
    const chunked = await get(proxy, '/gz/chunked.html', { 'accept-encoding': 'gzip' });
    assert.equal(chunked.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(chunked.raw).equals(PAGE));
    const old = await get(proxy, '/gz/page.html', { 'accept-encoding': 'gzip', 'user-agent': 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0)' });
    assert.equal(old.headers['content-encoding'], undefined);
    assert.ok(old.raw.equals(PAGE));
  });

  it('leaves types outside the list, bodies under the minimum length, encoded and no-transform bodies alone', async () => {
    const image = await get(proxy, '/gz/image.png', { 'accept-encoding': 'gzip' });
    assert.equal(image.headers['content-encoding'], undefined);
    assert.equal(image.headers.vary, undefined);
    assert.ok(image.raw.equals(PAGE));
    const short = await get(proxy, '/gz/short.html', { 'accept-encoding': 'gzip' });
    assert.equal(short.headers['content-encoding'], undefined);
    assert.equal(short.headers['content-length'], '100');
    assert.ok(short.raw.equals(PAGE.subarray(0, 100)));
    const encoded = await get(proxy, '/gz/encoded.html', { 'accept-encoding': 'gzip' });
    assert.equal(encoded.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(encoded.raw).equals(PAGE), 'compressed once, by the upstream');
    const exact = await get(proxy, '/gz/exact.html', { 'accept-encoding': 'gzip' });
    assert.equal(exact.headers['content-encoding'], undefined, 'Cache-Control: no-transform');
    assert.ok(exact.raw.equals(PAGE));
    const missing = await get(proxy, '/gz/nothing', { 'accept-encoding': 'gzip' });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['content-encoding'], undefined, 'under the minimum length');
    assert.equal(missing.raw.toString(), 'none');
  });

  it('answers HEAD and 304 untouched', async () => {
    const head = await get(proxy, '/gz/page.html', { 'accept-encoding': 'gzip' }, 'HEAD');
    assert.equal(head.headers['content-encoding'], undefined);
    assert.equal(head.headers['content-length'], String(PAGE.length));
    assert.equal(head.headers.etag, '"v1"');
    const cached = await get(proxy, '/gz/cached.html', { 'accept-encoding': 'gzip', 'if-none-match': '"v1"' });
    assert.equal(cached.status, 304);
    assert.equal(cached.headers['content-encoding'], undefined);
    assert.equal(cached.headers.etag, '"v1"');
    assert.equal(cached.raw.length, 0);
  });

  it('prefers brotli when the client takes both, gzip when brotli is refused; none without the filter', async () => {
    const br = await get(proxy, '/both/page.html', { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['x-frame-options'], 'DENY');
    assert.ok(brotliDecompressSync(br.raw).equals(PAGE));
    const gz = await get(proxy, '/both/page.html', { 'accept-encoding': 'br;q=0, gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(gz.raw).equals(PAGE));
    // brotli's minimum (20) is below gzip's (256): a 100-byte page is brotli's only.
    const short = await get(proxy, '/both/short.html', { 'accept-encoding': '*' });
    assert.equal(short.headers['content-encoding'], 'br');
    assert.ok(brotliDecompressSync(short.raw).equals(PAGE.subarray(0, 100)));
    const plain = await get(proxy, '/plain/page.html', { 'accept-encoding': 'gzip, br' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, undefined);
    assert.ok(plain.raw.equals(PAGE));
  });

  it('compresses for an HTTP/2 client (h2c) too, without a length', async () => {
    const session = h2connect(proxy.http);
    try {
      const stream = session.request({ ':path': '/both/page.html', ':authority': 'shop.example', 'accept-encoding': 'gzip, br' });
      const [headers] = (await once(stream, 'response')) as [Record<string, string | undefined>];
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      await once(stream, 'end');
      assert.equal(headers[':status'], 200);
      assert.equal(headers['content-encoding'], 'br');
      assert.equal(headers['content-length'], undefined);
      assert.equal(headers.vary, 'Accept-Encoding');
      assert.ok(brotliDecompressSync(Buffer.concat(chunks)).equals(PAGE));
    } finally {
      session.close();
    }
  });

  it('streams a 24 MiB body through gzip, holding the upstream back while the client reads nothing, as without compression', async () => {
    const plain = await pausedDownload(proxy, '/plain/stream.txt');
    const gzipped = await pausedDownload(proxy, '/gz/stream.txt');
    assert.equal(plain.encoding, undefined);
    assert.equal(gzipped.encoding, 'gzip');
    for (const d of [plain, gzipped]) {
      assert.ok(d.blocked, 'the upstream waits for the proxy');
      assert.ok(d.written < STREAM.length, `the upstream wrote all ${d.written} bytes to a client that read none`);
    }
    // The sockets on the way hold the same either way; the encoder adds its own small buffers, no more.
    assert.ok(gzipped.written < plain.written + 2 * MIB, `${gzipped.written} bytes written through gzip, ${plain.written} without`);
    assert.ok(plain.body.equals(STREAM));
    assert.ok(gunzipSync(gzipped.body).equals(STREAM), 'the client decompresses the exact bytes');
  });
});

/**
 * Downloads `path`, reading nothing after the first chunk until the upstream has had time to fill
 * everything on the way (a quiet period is the subject: no event says nothing more will move);
 * then reads the rest.
 */
async function pausedDownload(proxy: TestProxy, path: string): Promise<{ encoding: string | undefined; written: number; blocked: boolean; body: Buffer }> {
  const { port } = new URL(proxy.http);
  const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'shop.example', 'accept-encoding': 'gzip' } });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  const first = new Promise<void>((resolve) => res.once('data', () => {
    res.pause();
    resolve();
  }));
  res.on('data', (c: Buffer) => chunks.push(c));
  await first;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const { written, blocked } = streamed;
  res.resume();
  await once(res, 'end');
  return { encoding: res.headers['content-encoding'], written, blocked, body: Buffer.concat(chunks) };
}
