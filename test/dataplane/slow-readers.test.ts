import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { waitForMetric } from '../helpers/metrics.ts';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';

/** What the upstream saw of one large response it sent. */
interface Sent {
  readonly url: string;
  bytes: number;
  /** Set when the response ended before its last byte: the proxy let go of the upstream connection. */
  aborted: boolean;
  /** Resolves once the response is over, one way or the other. */
  readonly over: Promise<void>;
}

const TOTAL = 64 * 1024 * 1024;

/**
 * A client that asks for a large response and never reads it must not hold an upstream connection
 * forever: with backpressure the proxy stops reading from the upstream, and the idle timeout of the
 * client side ends the exchange, which frees the upstream connection.
 */
describe('clients that never read their response', () => {
  const IDLE_MS = 500;
  const sent: Sent[] = [];
  let env: SingleRoute;

  before(async () => {
    env = await startSingleRoute('bigbody', (req, res) => {
      if (req.url?.startsWith('/tick') === true) return void res.end('tick');
      const { promise, resolve } = Promise.withResolvers<void>();
      const entry: Sent = { url: req.url ?? '', bytes: 0, aborted: false, over: promise };
      sent.push(entry);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (entry.bytes < TOTAL) {
          entry.bytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        entry.aborted = !res.writableFinished;
        resolve();
      });
      res.writeHead(200, { 'content-length': String(TOTAL) });
      pump();
    }, { timeouts: { idleMs: IDLE_MS } });
  });
  after(() => env.close());

  it('over HTTP/1.1: the idle timeout closes the stalled client connection and the upstream response is aborted', async () => {
    const req = httpRequest({ port: env.port, host: '127.0.0.1', path: '/h1', headers: { host: 'big.test' } });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.pause(); // and never read again
    const started = performance.now();
    // The response has begun, so the upstream has the request.
    const upstream = sent.find((s) => s.url === '/h1')!;
    await upstream.over;
    const held = performance.now() - started;
    assert.equal(upstream.aborted, true, 'the upstream saw its response cut off');
    assert.ok(upstream.bytes < TOTAL, 'backpressure held the upstream back');
    assert.ok(held < IDLE_MS * 8, `the upstream connection was let go within a bound (${Math.round(held)} ms)`);
    // The client, not reading, cannot see the close itself; the proxy's count of its connections does.
    await waitForMetric(env.proxy, /signalbox_active_connections\{listener="http"\} 0\b/);
    res.destroy();
  });

  it('over HTTP/2: a stalled stream on an otherwise silent connection ends the same way', async () => {
    const session: ClientHttp2Session = h2connect(env.proxy.https, { rejectUnauthorized: false });
    session.on('error', () => {});
    await once(session, 'connect');
    const stream = session.request({ ':path': '/h2', host: 'big.test' });
    stream.on('error', () => {});
    stream.end();
    await once(stream, 'response') as [IncomingHttpHeaders];
    stream.pause();
    const started = performance.now();
    // The response has begun, so the upstream has the request.
    const upstream = sent.find((s) => s.url === '/h2')!;
    await upstream.over;
    const held = performance.now() - started;
    assert.equal(upstream.aborted, true, 'the upstream saw its response cut off');
    assert.ok(held < IDLE_MS * 8, `the upstream connection was let go within a bound (${Math.round(held)} ms)`);
    session.destroy();
  });

  it('over HTTP/2: a stalled stream on a connection kept busy by other streams ends too', async () => {
    const session: ClientHttp2Session = h2connect(env.proxy.https, { rejectUnauthorized: false });
    session.on('error', () => {});
    await once(session, 'connect');
    const stream = session.request({ ':path': '/h2-busy', host: 'big.test' });
    stream.on('error', () => {});
    stream.end();
    await once(stream, 'response');
    stream.pause();
    // Other requests on the same connection, more often than the idle timeout.
    const busy = setInterval(() => {
      const tick = session.request({ ':path': '/tick', host: 'big.test' });
      tick.on('error', () => {});
      tick.end();
      tick.resume();
    }, IDLE_MS / 5);
    try {
      const started = performance.now();
      const upstream = sent.find((s) => s.url === '/h2-busy')!;
      const outcome = await Promise.race([upstream.over.then(() => 'over'), new Promise((r) => setTimeout(r, IDLE_MS * 8, 'still held'))]);
      const held = performance.now() - started;
      assert.equal(outcome, 'over', `the upstream connection was let go within a bound (${Math.round(held)} ms)`);
      assert.equal(upstream.aborted, true, 'the upstream saw its response cut off');
      // Only the stalled stream was cut: the connection serves another.
      const next = session.request({ ':path': '/tick-next', host: 'big.test' });
      next.end();
      const [headers] = (await once(next, 'response')) as [IncomingHttpHeaders];
      let body = '';
      for await (const c of next) body += c;
      assert.equal(headers[':status'], 200);
      assert.equal(body, 'tick');
    } finally {
      clearInterval(busy);
      session.destroy();
    }
  });
});
