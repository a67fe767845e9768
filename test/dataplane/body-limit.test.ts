import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect as h2connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { removeDir, tempManifestDir } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { parseRawResponse, type RawResponse } from '../helpers/raw-http.ts';
import type { TestProxy } from '../helpers/proxy.ts';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import type { UpstreamHandler } from '../helpers/upstreams.ts';

const LIMIT = 1_000;

/** What the upstream's own log says of one request it received. */
interface Received {
  readonly url: string;
  bytes: number;
  /** The request ended without its whole body: the proxy aborted it. */
  aborted: boolean;
  complete: boolean;
  /** Resolves when the request is over, one way or the other. */
  readonly over: Promise<void>;
}

/** The upstream's log, with an event per request and per body chunk. */
class UpstreamLog {
  readonly entries: Received[] = [];
  readonly events = new EventEmitter();

  /** The entry of `url` once the upstream has at least `bytes` of its body. */
  async entry(url: string, bytes = 0): Promise<Received> {
    for (;;) {
      const entry = this.entries.find((e) => e.url === url);
      if (entry !== undefined && entry.bytes >= bytes) return entry;
      await once(this.events, 'change');
    }
  }

  has(url: string): boolean {
    return this.entries.some((e) => e.url === url);
  }
}

/**
 * Logs every request — its body bytes, whether it was aborted — and answers `received N` once the
 * body is whole. `/early…` answers a streamed 200 at once and goes on reading the body.
 */
function recordingUpstream(log: UpstreamLog): UpstreamHandler {
  return (req, res) => {
    const { promise, resolve } = Promise.withResolvers<void>();
    const entry: Received = { url: req.url ?? '', bytes: 0, aborted: false, complete: false, over: promise };
    log.entries.push(entry);
    log.events.emit('change');
    if (req.url?.startsWith('/early') === true) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial;');
    }
    req.on('data', (chunk: Buffer) => {
      entry.bytes += chunk.length;
      log.events.emit('change');
    });
    req.on('end', () => {
      entry.complete = true;
      if (!res.writableEnded) res.end(`received ${entry.bytes}`);
      resolve();
    });
    const gone = (): void => {
      if (!entry.complete) entry.aborted = true;
      resolve();
    };
    req.on('close', gone);
    req.socket.once('close', gone);
  };
}

/** A raw HTTP/1.1 request whose body the test writes itself; the response is read until the proxy closes. */
function rawRequest(port: number, head: string): { socket: Socket; response: Promise<RawResponse> } {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const response = once(socket, 'close').then(() => parseRawResponse(Buffer.concat(chunks).toString('latin1')));
  socket.write(head);
  return { socket, response };
}

/** The status, headers and body of an HTTP/2 answer; the stream may be reset (NO_ERROR) before the client ended it. */
async function h2Answer(stream: ClientHttp2Stream): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  let body = '';
  stream.on('data', (c: Buffer) => (body += c));
  await once(stream, 'close');
  return { headers, body };
}

/** One chunk of a chunked body. */
const chunk = (n: number): string => `${n.toString(16)}\r\n${'x'.repeat(n)}\r\n`;

async function h2Session(env: { readonly proxy: TestProxy }): Promise<ClientHttp2Session> {
  const session = h2connect(env.proxy.https, { rejectUnauthorized: false });
  session.on('error', () => {});
  await once(session, 'connect');
  return session;
}

describe('BodyLimit', () => {
  const log = new UpstreamLog();
  let env: SingleRoute;
  let logDir: string;
  let stopped = false;

  before(async () => {
    logDir = await tempManifestDir();
    env = await startSingleRoute('limited', recordingUpstream(log), {
      editTable: editRoutes({ '/': () => ({ filters: [{ type: 'BodyLimit', maxBytes: LIMIT }] }) }),
      dataplane: { accessLog: join(logDir, 'access.log') },
    });
  });
  after(async () => {
    if (!stopped) await env.close();
    await removeDir(logDir);
  });

  it('lets a body of exactly the limit through, declared or chunked', async () => {
    const declared = await request(`${env.proxy.http}/exact`, { method: 'POST', body: 'x'.repeat(LIMIT) });
    assert.equal(declared.statusCode, 200);
    assert.equal(await declared.body.text(), `received ${LIMIT}`);
    const { socket, response } = rawRequest(env.port, 'POST /chunked-ok HTTP/1.1\r\nhost: shop.test\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n');
    socket.write(chunk(600) + chunk(400) + '0\r\n\r\n');
    const res = await response;
    assert.equal(res.status, 200, res.raw);
    assert.match(res.body, new RegExp(`received ${LIMIT}`));
  });

  it('answers 413 at once to a Content-Length over the limit, before anything goes upstream, and closes the connection', async () => {
    const { response } = rawRequest(env.port, `POST /declared-over HTTP/1.1\r\nhost: shop.test\r\ncontent-length: ${LIMIT + 1}\r\n\r\nfirst bytes`);
    const res = await response;
    assert.equal(res.status, 413, res.raw);
    assert.equal(res.headers['x-signalbox-error'], 'body-too-large');
    assert.equal(res.headers.connection, 'close', 'the body is not read to keep the connection');
    // The proxy answered without waiting for the body; the upstream never heard of the request.
    const after = await request(`${env.proxy.http}/after-declared`);
    assert.equal(after.statusCode, 200);
    await after.body.text();
    assert.equal(log.has('/declared-over'), false, "the upstream's log never shows the request");
  });

  it('counts a chunked body as it streams: past the limit the upstream request is aborted and the client gets 413', async () => {
    const { socket, response } = rawRequest(env.port, 'POST /chunked-over HTTP/1.1\r\nhost: shop.test\r\ntransfer-encoding: chunked\r\n\r\n');
    socket.write(chunk(600));
    const entry = await log.entry('/chunked-over', 600);
    socket.write(chunk(600));
    const res = await response;
    assert.equal(res.status, 413, res.raw);
    assert.equal(res.headers['x-signalbox-error'], 'body-too-large');
    assert.equal(res.headers.connection, 'close');
    await entry.over;
    assert.equal(entry.aborted, true, 'the upstream saw its request aborted');
    assert.equal(entry.complete, false, 'the upstream never took the cut body for a whole one');
    assert.equal(entry.bytes, 600, 'the chunk past the limit never went upstream');
  });

  it('closes the connection when the response had begun, and aborts the upstream request', async () => {
    const { socket, response } = rawRequest(env.port, 'POST /early HTTP/1.1\r\nhost: shop.test\r\ntransfer-encoding: chunked\r\n\r\n');
    const head = once(socket, 'data');
    socket.write(chunk(600));
    const entry = await log.entry('/early', 600);
    await head; // the response has begun before the body goes past the limit
    socket.write(chunk(600));
    const res = await response;
    assert.equal(res.status, 200, res.raw);
    assert.match(res.body, /partial;/);
    assert.doesNotMatch(res.body, /\r\n0\r\n\r\n$/, 'the response is visibly cut short (no last chunk)');
    await entry.over;
    assert.equal(entry.aborted, true, 'the upstream saw its request aborted');
  });

  it('over HTTP/2: 413 for a content-length over the limit, with nothing upstream, and the connection goes on', async () => {
    const session = await h2Session(env);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/h2-declared-over', host: 'shop.test', 'content-length': String(LIMIT * 10) });
      stream.on('error', () => {});
      stream.write('x'.repeat(100));
      const { headers } = await h2Answer(stream);
      assert.equal(headers[':status'], 413);
      assert.equal(headers['x-signalbox-error'], 'body-too-large');
      assert.equal(stream.rstCode, 0, 'RST_STREAM(NO_ERROR): stop sending, the answer is complete');
      const next = session.request({ ':method': 'POST', ':path': '/h2-after', host: 'shop.test' });
      next.end('ab');
      const [nextHeaders] = (await once(next, 'response')) as [IncomingHttpHeaders];
      for await (const _ of next);
      assert.equal(nextHeaders[':status'], 200);
      assert.equal(log.has('/h2-declared-over'), false, "the upstream's log never shows the request");
    } finally {
      session.close();
    }
  });

  it('over HTTP/2: DATA frames of a body without content-length are counted; past the limit 413 and the upstream request aborted', async () => {
    const session = await h2Session(env);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/h2-streamed-over', host: 'shop.test' });
      stream.on('error', () => {});
      stream.write('x'.repeat(600));
      const entry = await log.entry('/h2-streamed-over', 600);
      stream.write('x'.repeat(600));
      const { headers } = await h2Answer(stream);
      assert.equal(headers[':status'], 413);
      assert.equal(headers['x-signalbox-error'], 'body-too-large');
      await entry.over;
      assert.equal(entry.aborted, true, 'the upstream saw its request aborted');
      assert.equal(entry.complete, false);
      assert.equal(entry.bytes, 600, 'the chunk past the limit never went upstream');
      assert.equal(stream.rstCode, 0, 'RST_STREAM(NO_ERROR): stop sending, the answer is complete');
    } finally {
      session.close();
    }
  });

  it('counts the answers as proxy errors and logs them with their reason', async () => {
    assert.ok((await metric(env.proxy, /signalbox_proxy_errors_total\{reason="body-too-large"\} (\d+)/)) >= 4);
    await env.close(); // stopping flushes the access log
    stopped = true;
    const lines = (await readFile(join(logDir, 'access.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; status: number; error?: string });
    const of = (path: string) => lines.find((l) => l.path === path);
    for (const path of ['/declared-over', '/chunked-over', '/h2-declared-over', '/h2-streamed-over']) {
      assert.deepEqual([of(path)?.status, of(path)?.error], [413, 'body-too-large'], path);
    }
    assert.equal(of('/early')?.error, 'body-too-large');
  });
});
