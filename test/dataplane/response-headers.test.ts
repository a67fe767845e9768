/**
 * What of an upstream's response head reaches the client: hop-by-hop fields (RFC 9110 §7.6.1) and
 * the fields its `Connection` names belong to the upstream connection and never do, over HTTP/1.1
 * or HTTP/2; `Server` names signalbox. The upstream here sends all of them on every response.
 */
import assert from 'node:assert/strict';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../helpers/raw-http.ts';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';

/** The upstream's hop-by-hop fields, with values the proxy would never write itself. */
const HOP_BY_HOP_SENT = {
  connection: 'keep-alive, X-Internal, X-Also-Internal',
  'keep-alive': 'timeout=99, max=7',
  'x-internal': 'named in Connection',
  'x-also-internal': 'named in Connection too',
  'proxy-authenticate': 'Basic realm="upstream"',
  upgrade: 'h2c',
  'transfer-encoding': 'chunked',
};
const NEVER = ['transfer-encoding', 'proxy-authenticate', 'upgrade', 'x-internal', 'x-also-internal'];

function assertEndToEndOnly(headers: Record<string, unknown>, over: string, except: readonly string[] = []): void {
  for (const name of NEVER) if (!except.includes(name)) assert.equal(headers[name], undefined, `${over}: ${name} reached the client`);
  assert.equal(headers['x-kept'], 'end-to-end', `${over}: an end-to-end header was lost`);
  assert.equal(headers['server'], 'signalbox', `${over}: Server`);
}

describe('hop-by-hop headers of upstream responses', () => {
  let env: SingleRoute;
  before(async () => {
    env = await startSingleRoute('hops', (req, res) => {
      req.resume();
      res.writeHead(200, { ...HOP_BY_HOP_SENT, 'content-type': 'text/plain', 'x-kept': 'end-to-end', server: 'backend/1.2.3' });
      res.end('ok');
    });
  });
  after(() => env.close());

  it('never reach an HTTP/1.1 client', async () => {
    const res = await rawRequest(env.port, 'GET /h1 HTTP/1.1\r\nHost: hops.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    // The proxy chunks a body of unknown length itself (the HTTP/1.0 case shows it is not the
    // upstream's); Node writes its own Connection and Keep-Alive, never the upstream's.
    assertEndToEndOnly(res.headers, 'HTTP/1.1', ['transfer-encoding']);
    assert.doesNotMatch(res.headers['connection'] ?? '', /internal/i);
    assert.notEqual(res.headers['keep-alive'], HOP_BY_HOP_SENT['keep-alive']);
    assert.match(res.body, /ok/);
    assert.equal(env.up.seen.at(-1)?.url, '/h1');
  });

  it('never reach an HTTP/1.0 client, which the proxy cannot send chunked', async () => {
    // Without chunking of its own, a Transfer-Encoding here could only be the upstream's.
    const res = await rawRequest(env.port, 'GET /h10 HTTP/1.0\r\nHost: hops.test\r\n\r\n');
    assert.equal(res.status, 200);
    assertEndToEndOnly(res.headers, 'HTTP/1.0');
    assert.equal(res.headers['keep-alive'], undefined);
    assert.equal(res.headers['connection'] ?? 'close', 'close');
    assert.equal(res.body, 'ok');
  });

  it('never reach an HTTP/2 client', async () => {
    const session = h2connect(env.proxy.https, { rejectUnauthorized: false });
    try {
      const { headers, body } = await new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/h2', ':authority': 'hops.test' });
        let head: IncomingHttpHeaders = {};
        let body = '';
        stream.on('response', (h) => (head = h));
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (body += c));
        stream.on('end', () => resolve({ headers: head, body }));
        stream.on('error', reject);
      });
      assert.equal(headers[':status'], 200);
      assertEndToEndOnly(headers, 'HTTP/2');
      for (const name of ['connection', 'keep-alive']) assert.equal(headers[name], undefined, `HTTP/2: ${name} reached the client`);
      assert.equal(body, 'ok');
    } finally {
      session.close();
    }
  });
});
