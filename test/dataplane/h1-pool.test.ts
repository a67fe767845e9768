/**
 * The HTTP/1.1 upstream client on its own, against real servers on port 0: framing, keep-alive
 * reuse, a kept-alive connection the upstream closed as the request went out, the connection
 * limit, timeouts and TLS verification.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { H1Pool, type H1PoolOptions } from '../../src/dataplane/upstream/h1-pool.ts';
import { reasonForUpstreamError } from '../../src/dataplane/lifecycle/error-responses.ts';
import { makeTestPki } from '../helpers/test-ca.ts';

/** What a handler saw of one request. */
interface Outcome {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly trailers: Record<string, string | string[] | undefined>;
  readonly sent: boolean;
}

/** Dispatches and collects the answer; rejects with the client's error. */
function send(pool: H1Pool, options: Partial<Dispatcher.DispatchOptions> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers = {};
    let sent = false;
    const chunks: Buffer[] = [];
    pool.dispatch({ path: '/', method: 'GET', headers: ['host', 'a.test'], body: null, headersTimeout: 5_000, bodyTimeout: 5_000, ...options } as Dispatcher.DispatchOptions, {
      onRequestStart() {},
      onRequestSent() {
        sent = true;
      },
      onResponseStart(_c, s, h) {
        status = s;
        headers = h;
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd(_c, trailers) {
        resolve({ status, headers, body: Buffer.concat(chunks).toString(), trailers, sent });
      },
      onResponseError(_c, err) {
        reject(err);
      },
    } as Dispatcher.DispatchHandler);
  });
}

async function listen(server: Server | NetServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A bare TCP upstream that writes `answer(n)` for the n-th request head it sees on a connection. */
async function rawServer(answer: (n: number, socket: Socket, head: string) => string | null): Promise<{ port: number; server: NetServer; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    let n = 0;
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const out = answer(++n, socket, head);
        if (out !== null) socket.write(out);
      }
    });
  });
  return { port: await listen(server), server, connections: () => connections };
}

const pools: H1Pool[] = [];
const servers: (Server | NetServer)[] = [];
function pool(port: number, extra: Partial<H1PoolOptions> = {}): H1Pool {
  const p = new H1Pool({ address: '127.0.0.1', port, tls: null, connectMs: 2_000, connections: 0, ...extra });
  pools.push(p);
  return p;
}
after(async () => {
  await Promise.all(pools.map((p) => p.destroy()));
  for (const s of servers) s.close();
});

describe('the HTTP/1.1 upstream client', () => {
  it('reads Content-Length, chunked (with trailers) and close-delimited bodies, and keeps one connection for sequential requests', async () => {
    const up = await rawServer((n, socket) => {
      if (n === 1) return 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
      if (n === 2) return 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n';
      socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end');
      return null;
    });
    servers.push(up.server);
    const p = pool(up.port);
    assert.equal((await send(p)).body, 'hello');
    const chunked = await send(p);
    assert.equal(chunked.body, 'abcde');
    assert.deepEqual(chunked.trailers, { 'x-sum': '5' });
    assert.equal((await send(p)).body, 'until the end');
    assert.equal(up.connections(), 1, 'the three requests shared one kept-alive connection');
  });

  it('refuses a response with both Content-Length and Transfer-Encoding, or two lengths, as a protocol error', async () => {
    const up = await rawServer((n) => n === 1
      ? 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
      : 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd');
    servers.push(up.server);
    const p = pool(up.port);
    for (let i = 0; i < 2; i++) {
      const err = await send(p).then(() => null, (e: Error) => e);
      assert.ok(err !== null, 'the response was refused');
      assert.match((err as { code?: string }).code ?? '', /^HPE_/);
      assert.equal(reasonForUpstreamError(err), 'upstream-protocol-error');
    }
  });

  it('sends a GET again on a new connection when a kept-alive one closes as the request goes out, but not a POST', async () => {
    // Each connection answers its first request and closes at the second, without a word: what
    // an upstream whose idle timer fired just as the request arrived does.
    const up = await rawServer((n, socket) => {
      if (n === 1) return 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
      socket.destroy();
      return null;
    });
    servers.push(up.server);
    const p = pool(up.port);
    await send(p);
    assert.equal((await send(p)).body, 'ok', 'the GET was answered on a second connection');
    assert.equal(up.connections(), 2);
    const err = await send(p, { method: 'POST', headers: ['host', 'a.test', 'content-length', '0'] }).then(() => null, (e: Error) => e);
    assert.equal((err as { code?: string } | null)?.code, 'UND_ERR_SOCKET', 'a POST is not repeated: the upstream may have acted on it');
    assert.equal(reasonForUpstreamError(err), 'upstream-reset');
  });

  it('queues requests past the connection limit and serves them all in order', async () => {
    let open = 0;
    let most = 0;
    const server = createHttpServer((req, res) => {
      res.end(req.url);
    });
    server.on('connection', (s) => {
      most = Math.max(most, ++open);
      s.on('close', () => open--);
    });
    servers.push(server);
    const p = pool(await listen(server), { connections: 2 });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => send(p, { path: `/${i}` })));
    assert.deepEqual(answers.map((a) => a.body), Array.from({ length: 10 }, (_, i) => `/${i}`));
    assert.equal(most, 2, 'never more than the limit of connections');
  });

  it('streams a chunked request body, and fails a body that is not the length it declared', async () => {
    const server = createHttpServer(async (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('error', () => {});
      try {
        for await (const chunk of req) body += chunk;
      } catch {
        return; // the short body: the client gave up on it
      }
      res.end(`${req.headers['transfer-encoding'] ?? req.headers['content-length']}:${body}`);
    });
    servers.push(server);
    const p = pool(await listen(server));
    const { Readable } = await import('node:stream');
    const chunked = await send(p, { method: 'POST', body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) });
    assert.equal(chunked.body, 'chunked:abcd');
    assert.ok(chunked.sent);
    const short = await send(p, { method: 'POST', headers: ['host', 'a', 'content-length', '10'], body: Readable.from([Buffer.from('abc')]) }).then(() => null, (e: Error) => e);
    assert.equal((short as { code?: string } | null)?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
  });

  it('gives HEAD, 204 and 304 answers no body, and keeps the connection', async () => {
    const up = await rawServer((n) => n === 1
      ? 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'
      : n === 2 ? 'HTTP/1.1 204 No Content\r\n\r\n' : 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n');
    servers.push(up.server);
    const p = pool(up.port);
    const head = await send(p, { method: 'HEAD' });
    assert.equal(head.headers['content-length'], '100');
    assert.equal(head.body, '');
    assert.equal((await send(p)).status, 204);
    assert.equal((await send(p)).status, 304, 'the 100 before it was dropped');
    assert.equal(up.connections(), 1);
  });

  it('times out a response head that does not come, and a body that stalls', async () => {
    let seen = 0; // over both connections: the first loses its connection to the timeout
    const up = await rawServer(() => (++seen === 1 ? null : 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    servers.push(up.server);
    const p = pool(up.port);
    const slow = await send(p, { headersTimeout: 100 }).then(() => null, (e: Error) => e);
    assert.equal((slow as { code?: string } | null)?.code, 'UND_ERR_HEADERS_TIMEOUT');
    const stalled = await send(p, { bodyTimeout: 100 }).then(() => null, (e: Error) => e);
    assert.equal((stalled as { code?: string } | null)?.code, 'UND_ERR_BODY_TIMEOUT');
  });

  it('fails a refused connect with ECONNREFUSED, before anything was sent', async () => {
    const server = createServer();
    const port = await listen(server);
    server.close();
    await once(server, 'close');
    const err = await send(pool(port)).then(() => null, (e: Error) => e);
    assert.equal(reasonForUpstreamError(err), 'upstream-refused');
  });

  describe('over TLS', () => {
    const pki = makeTestPki('backend.test');
    const other = makeTestPki('backend.test');
    let port = 0;
    it('verifies the upstream with the cluster CA and name, and refuses a wrong CA or a wrong name', async () => {
      const server = createTlsServer({ cert: pki.certPem, key: pki.keyPem }, (_req, res) => res.end('secure'));
      servers.push(server);
      port = await listen(server);
      const good = pool(port, { tls: { serverName: 'backend.test', caPem: pki.caPem, verify: true, clientCertificate: null } });
      assert.equal((await send(good)).body, 'secure');
      const wrongCa = pool(port, { tls: { serverName: 'backend.test', caPem: other.caPem, verify: true, clientCertificate: null } });
      assert.equal(reasonForUpstreamError(await send(wrongCa).then(() => null, (e: Error) => e)), 'upstream-tls');
      const wrongName = pool(port, { tls: { serverName: 'other.test', caPem: pki.caPem, verify: true, clientCertificate: null } });
      assert.equal(reasonForUpstreamError(await send(wrongName).then(() => null, (e: Error) => e)), 'upstream-tls');
      const unverified = pool(port, { tls: { serverName: 'other.test', caPem: other.caPem, verify: false, clientCertificate: null } });
      assert.equal((await send(unverified)).body, 'secure', 'verification off: any certificate');
    });
  });
});
