import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { metric } from '../helpers/metrics.ts';
import { parseRawResponse, type RawResponse } from '../helpers/raw-http.ts';
import { removeDir, tempManifestDir } from '../helpers/manifests.ts';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';
import type { UpstreamHandler } from '../helpers/upstreams.ts';

/** What the upstream recorded about one request it received. */
interface Received {
  readonly url: string;
  /** The proxy's port on the upstream connection: a new one means a new connection. */
  readonly peerPort: number;
  bytes: number;
  /** Set when the request ended without its whole body: the proxy aborted it. */
  aborted: boolean;
  complete: boolean;
  /** Resolves when the request is over, one way or the other. */
  readonly over: Promise<void>;
}

/** What an upstream received, in order, with an event per new request. */
class RequestLog {
  readonly entries: Received[] = [];
  readonly events = new EventEmitter();
  add(entry: Received): void {
    this.entries.push(entry);
    this.events.emit('request');
  }
}

/**
 * An upstream that logs every request it receives — bytes of body, whether it was aborted before
 * the body was complete — and answers `received N` once a body is whole. `/early` answers at once
 * with a streamed 200 and keeps reading the body.
 */
function recordingUpstream(log: RequestLog): UpstreamHandler {
  return (req, res) => {
    const { promise, resolve } = Promise.withResolvers<void>();
    const entry: Received = { url: req.url ?? '', peerPort: req.socket.remotePort ?? 0, bytes: 0, aborted: false, complete: false, over: promise };
    log.add(entry);
    if (req.url === '/early') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial;');
    } else if (req.url?.startsWith('/refuses') === true) {
      // Answers at once without waiting for the body, as an auth check or a size limit would.
      res.writeHead(401, { 'content-type': 'text/plain', 'content-length': '4' });
      res.end('nope');
    }
    req.on('data', (chunk: Buffer) => (entry.bytes += chunk.length));
    req.on('end', () => {
      entry.complete = true;
      if (!res.writableEnded) res.end(`received ${entry.bytes}`);
      resolve();
    });
    // Once its response is sent, Node no longer tells a request that its connection closed: watch both.
    const gone = (): void => {
      if (!entry.complete) entry.aborted = true;
      resolve();
    };
    req.on('close', gone);
    req.socket.once('close', gone);
  };
}

/** Sends a request head (and any `first` body bytes) on a raw socket; the caller trickles the rest. */
function rawPost(port: number, path: string, length: number, first: string): { socket: Socket; response: Promise<RawResponse> } {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const response = once(socket, 'close').then(() => parseRawResponse(Buffer.concat(chunks).toString('latin1')));
  socket.write(`POST ${path} HTTP/1.1\r\nhost: slow.test\r\ncontent-length: ${length}\r\n\r\n${first}`);
  return { socket, response };
}

/** Writes one byte every `everyMs` until the socket closes; returns a function that stops it. */
function trickle(socket: Socket, everyMs: number): () => void {
  const timer = setInterval(() => {
    if (socket.writable) socket.write('x');
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
  return () => clearInterval(timer);
}

/** The log entry for `url`, once the upstream has it. */
async function entryFor(log: RequestLog, url: string): Promise<Received> {
  for (;;) {
    const entry = log.entries.find((e) => e.url === url);
    if (entry !== undefined) return entry;
    await once(log.events, 'request');
  }
}

async function h2Session(env: SingleRoute): Promise<ClientHttp2Session> {
  const session = h2connect(env.proxy.https, { rejectUnauthorized: false });
  session.on('error', () => {});
  await once(session, 'connect');
  return session;
}

describe('request bodies that trickle in', () => {
  const IDLE_MS = 500;
  const TOTAL_MS = 1_500;
  const log = new RequestLog();
  let env: SingleRoute;
  let logDir: string;
  let stopped = false;

  before(async () => {
    logDir = await tempManifestDir();
    env = await startSingleRoute('slowbody', recordingUpstream(log), {
      timeouts: { requestBodyIdleMs: IDLE_MS, requestBodyMs: TOTAL_MS },
      dataplane: { accessLog: join(logDir, 'access.log') },
    });
  });
  after(async () => {
    if (!stopped) await env.close();
    await removeDir(logDir);
  });

  it('answers 408 when the body stops arriving, aborts the upstream request, and a next request gets a fresh upstream connection', async () => {
    const started = performance.now();
    const { response } = rawPost(env.port, '/stalls', 100, 'hello');
    const res = await response;
    const elapsed = performance.now() - started;
    assert.equal(res.status, 408, res.raw);
    assert.equal(res.headers['x-signalbox-error'], 'request-timeout');
    assert.equal(res.headers.connection, 'close');
    assert.ok(elapsed >= IDLE_MS - 50 && elapsed < TOTAL_MS, `answered after the idle timeout (${Math.round(elapsed)} ms)`);

    const stalled = await entryFor(log, '/stalls');
    await stalled.over;
    assert.equal(stalled.bytes, 5, 'the upstream got what the client sent');
    assert.equal(stalled.aborted, true, 'the upstream saw its request aborted');

    const next = await request(`${env.proxy.http}/after`, { method: 'POST', headers: { host: 'slow.test' }, body: 'abc' });
    assert.equal(next.statusCode, 200);
    assert.equal(await next.body.text(), 'received 3');
    const fresh = await entryFor(log, '/after');
    assert.equal(fresh.bytes, 3, 'the next request arrived whole, not after the half-written one');
    assert.notEqual(fresh.peerPort, stalled.peerPort, 'the half-written upstream connection was not reused');
    assert.ok((await metric(env.proxy, /signalbox_proxy_errors_total\{reason="request-timeout"\} (\d+)/)) >= 1);
  });

  it('answers 408 when a body that keeps trickling takes longer than the total limit', async () => {
    const started = performance.now();
    const { socket, response } = rawPost(env.port, '/trickles', 1_000, 'a');
    trickle(socket, 100);
    const res = await response;
    const elapsed = performance.now() - started;
    assert.equal(res.status, 408, res.raw);
    assert.equal(res.headers['x-signalbox-error'], 'request-timeout');
    assert.ok(elapsed >= TOTAL_MS - 50, `not before the total limit (${Math.round(elapsed)} ms)`);
    const trickled = await entryFor(log, '/trickles');
    await trickled.over;
    assert.equal(trickled.aborted, true, 'the upstream saw its request aborted');
    assert.ok(trickled.bytes > 5, `the body did arrive, slowly (${trickled.bytes} bytes), so the idle limit never ran out`);
  });

  it('closes the connection when the response has already started, and aborts the upstream request', async () => {
    const { response } = rawPost(env.port, '/early', 100, 'hello');
    const res = await response;
    assert.equal(res.status, 200, res.raw);
    assert.match(res.body, /partial;/, 'the part of the response that was sent arrived');
    assert.doesNotMatch(res.body, /\r\n0\r\n\r\n$/, 'the response is visibly cut short (no last chunk)');
    const early = await entryFor(log, '/early');
    await early.over;
    assert.equal(early.aborted, true, 'the upstream saw its request aborted');
  });

  it('does not keep reading a body nobody wants once the upstream has answered: the connection closes after the response', async () => {
    const started = performance.now();
    const { socket, response } = rawPost(env.port, '/refuses', 100_000, 'hello');
    trickle(socket, 100);
    const res = await response;
    const held = performance.now() - started;
    assert.equal(res.status, 401, res.raw);
    assert.equal(res.body, 'nope');
    assert.ok(held < IDLE_MS, `the trickling client was let go with its response (${Math.round(held)} ms), not kept while it trickles`);
    const refused = await entryFor(log, '/refuses');
    await refused.over;
    assert.equal(refused.aborted, true, 'the upstream connection, its request body unfinished, was closed');
  });

  it('over HTTP/2: ends the stream of a body nobody wants once the upstream has answered, and the connection goes on', async () => {
    const session = await h2Session(env);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/refuses-h2', host: 'slow.test', 'content-length': '100000' });
      stream.on('error', () => {});
      stream.write('hello');
      const timer = setInterval(() => stream.writable && stream.write('x'), 100);
      const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
      let body = '';
      stream.on('data', (c: Buffer) => (body += c));
      const started = performance.now();
      await once(stream, 'close');
      clearInterval(timer);
      assert.equal(headers[':status'], 401);
      assert.equal(body, 'nope');
      assert.equal(stream.rstCode, 0, 'RST_STREAM(NO_ERROR): stop sending, the response is complete');
      assert.ok(performance.now() - started < IDLE_MS, 'not kept while it trickles');
      const next = session.request({ ':method': 'POST', ':path': '/h2-after-refusal', host: 'slow.test' });
      next.end('ab');
      const [nextHeaders] = (await once(next, 'response')) as [IncomingHttpHeaders];
      for await (const _ of next);
      assert.equal(nextHeaders[':status'], 200);
    } finally {
      session.close();
    }
  });

  it('over HTTP/2: answers 408 on the stream, aborts the upstream request, and the connection serves the next request', async () => {
    const session = await h2Session(env);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/h2-stalls', host: 'slow.test', 'content-length': '100' });
      stream.on('error', () => {});
      stream.write('hello');
      const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
      let body = '';
      stream.on('data', (c: Buffer) => (body += c));
      await once(stream, 'close');
      assert.equal(headers[':status'], 408);
      assert.equal(headers['x-signalbox-error'], 'request-timeout');
      assert.match(body, /^408 /, 'the whole 408 arrived before the stream was reset');
      const stalled = await entryFor(log, '/h2-stalls');
      await stalled.over;
      assert.equal(stalled.aborted, true, 'the upstream saw its request aborted');

      const next = session.request({ ':method': 'POST', ':path': '/h2-after', host: 'slow.test' });
      next.end('abcd');
      const [nextHeaders] = (await once(next, 'response')) as [IncomingHttpHeaders];
      let nextBody = '';
      for await (const c of next) nextBody += c;
      assert.equal(nextHeaders[':status'], 200);
      assert.equal(nextBody, 'received 4');
    } finally {
      session.close();
    }
  });

  it('leaves alone a body that arrives promptly', async () => {
    const res = await request(`${env.proxy.http}/quick`, { method: 'POST', headers: { host: 'slow.test' }, body: Buffer.alloc(256 * 1024, 'q') });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), `received ${256 * 1024}`);
  });

  it('logs each of them in the access log with its reason', async () => {
    await env.close(); // stopping flushes the access log
    stopped = true;
    const lines = (await readFile(join(logDir, 'access.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; status: number; error?: string });
    const of = (path: string): { status: number; error?: string } | undefined => lines.find((l) => l.path === path);
    for (const path of ['/stalls', '/trickles', '/h2-stalls']) {
      assert.equal(of(path)?.status, 408, path);
      assert.equal(of(path)?.error, 'request-timeout', path);
    }
    assert.equal(of('/early')?.error, 'request-timeout', 'cut after its 200 began');
    assert.equal(of('/quick')?.error, undefined);
  });
});

describe('--idle-timeout in the middle of a request body', () => {
  const log = new RequestLog();
  let env: SingleRoute;

  before(async () => {
    // Only the connection's idle timeout: the body limits are off.
    env = await startSingleRoute('idlebody', recordingUpstream(log), { timeouts: { idleMs: 400, requestBodyIdleMs: 0, requestBodyMs: 0 } });
  });
  after(() => env.close());

  it('answers 408 instead of closing the connection without a word, and aborts the upstream request', async () => {
    const { response } = rawPost(env.port, '/silent', 100, 'hello');
    const res = await response;
    assert.equal(res.status, 408, `a response, not a bare close: ${JSON.stringify(res.raw)}`);
    assert.equal(res.headers['x-signalbox-error'], 'request-timeout');
    const silent = await entryFor(log, '/silent');
    await silent.over;
    assert.equal(silent.aborted, true, 'the upstream saw its request aborted');
  });
});
