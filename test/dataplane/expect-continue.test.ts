/**
 * `Expect: 100-continue`: the interim 100 only once the body is wanted (the request goes upstream),
 * never ahead of a refusal; a refusal before the body closes the connection. Checked on raw
 * HTTP/1.1 sockets and over HTTP/2, against the upstream's own log.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import type { UpstreamHandler } from '../helpers/upstreams.ts';

const LIMIT = 1_000;

/** What the upstream received: path, its `expect` header, body bytes. */
interface Seen {
  readonly url: string;
  readonly expect: string | undefined;
  readonly bytes: number;
}

function loggingUpstream(log: Seen[]): UpstreamHandler {
  return (req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      log.push({ url: req.url ?? '', expect: req.headers.expect, bytes });
      res.end(`received ${bytes}`);
    });
  };
}

/** A raw client connection that collects what the proxy sends. */
class RawClient {
  readonly socket: Socket;
  #data = '';
  #closed = false;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (c: string) => (this.#data += c));
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.#closed = true));
  }

  get received(): string {
    return this.#data;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Waits until what arrived so far matches `pattern` (or the connection closed). */
  async until(pattern: RegExp): Promise<string> {
    while (!pattern.test(this.#data) && !this.#closed) await Promise.race([once(this.socket, 'data'), once(this.socket, 'close')]);
    return this.#data;
  }
}

describe('Expect: 100-continue', () => {
  const log: Seen[] = [];
  let env: SingleRoute;

  before(async () => {
    env = await startSingleRoute('expecting', loggingUpstream(log), {
      editTable: editRoutes({ '/': () => ({ filters: [{ type: 'BodyLimit', maxBytes: LIMIT }] }) }),
    });
  });
  after(() => env.close());

  it('sends 100 once the request goes upstream, then forwards the body, and keeps the connection', async () => {
    const client = new RawClient(env.port);
    try {
      client.socket.write('POST /accepted HTTP/1.1\r\nhost: shop.test\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n');
      const interim = await client.until(/\r\n\r\n/);
      assert.match(interim, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
      client.socket.write('hello');
      const answer = await client.until(/received 5$/);
      assert.match(answer, /\r\n\r\nHTTP\/1\.1 200 /);
      assert.doesNotMatch(answer, /connection: close/i);
      assert.deepEqual(log.find((s) => s.url === '/accepted'), { url: '/accepted', expect: undefined, bytes: 5 }, 'the upstream got the body and no Expect');
      // The same connection serves the next request.
      client.socket.write('GET /next HTTP/1.1\r\nhost: shop.test\r\n\r\n');
      await client.until(/received 0$/);
      assert.equal(client.closed, false);
    } finally {
      client.socket.destroy();
    }
  });

  it('answers 413 to a declared length over the limit with no 100 before it, and closes the connection', async () => {
    const client = new RawClient(env.port);
    client.socket.write(`POST /too-big HTTP/1.1\r\nhost: shop.test\r\ncontent-length: ${LIMIT + 1}\r\nexpect: 100-continue\r\n\r\n`);
    const answer = await client.until(/\r\n\r\n[\s\S]*$/);
    assert.match(answer, /^HTTP\/1\.1 413 /, `the first thing the client hears is the refusal: ${JSON.stringify(answer.slice(0, 40))}`);
    assert.doesNotMatch(answer, /100 Continue/);
    assert.match(answer, /connection: close/i);
    await once(client.socket, 'close');
    assert.equal(log.some((s) => s.url === '/too-big'), false, "the upstream's log never shows the request");
  });

  it('over HTTP/2: 100 before an accepted body, none before a refusal', async () => {
    const session = h2connect(env.proxy.https, { rejectUnauthorized: false });
    session.on('error', () => {});
    try {
      const ok = session.request({ ':method': 'POST', ':path': '/h2-accepted', host: 'shop.test', 'content-length': '3', expect: '100-continue' });
      await once(ok, 'continue');
      ok.end('abc');
      const [okHeaders] = (await once(ok, 'response')) as [IncomingHttpHeaders];
      let body = '';
      for await (const c of ok) body += c;
      assert.equal(okHeaders[':status'], 200);
      assert.equal(body, 'received 3');

      const refused = session.request({ ':method': 'POST', ':path': '/h2-too-big', host: 'shop.test', 'content-length': String(LIMIT * 5), expect: '100-continue' });
      refused.on('error', () => {});
      let continued = false;
      refused.on('continue', () => (continued = true));
      const [refusedHeaders] = (await once(refused, 'response')) as [IncomingHttpHeaders];
      assert.equal(refusedHeaders[':status'], 413);
      assert.equal(continued, false, 'no 100 came before the refusal');
      assert.equal(log.some((s) => s.url === '/h2-too-big'), false);
    } finally {
      session.close();
    }
  });
});
