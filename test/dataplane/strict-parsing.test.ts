import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../helpers/raw-http.ts';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';

describe('strict HTTP parsing and request limits', () => {
  let env: SingleRoute;
  let port: number;

  before(async () => {
    env = await startSingleRoute('up', undefined, { limits: { maxHeaderBytes: 4096, maxHeaderCount: 20 }, timeouts: { requestHeadersMs: 500 } });
    port = env.port;
  });
  after(() => env.close());

  const rejected: [name: string, request: string, status: number][] = [
    ['Content-Length together with Transfer-Encoding', 'POST /smuggle HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /evil HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['two Content-Length headers', 'POST /smuggle HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', 400],
    ['two different Content-Length headers', 'POST /smuggle HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 10\r\n\r\nabc', 400],
    ['a Transfer-Encoding other than chunked last', 'POST /smuggle HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n', 400],
    ['a space before the colon', 'GET /smuggle HTTP/1.1\r\nHost: a\r\nContent-Length : 0\r\n\r\n', 400],
    ['a bare LF line ending', 'GET /smuggle HTTP/1.1\nHost: a\n\n', 400],
    ['no Host header', 'GET /smuggle HTTP/1.1\r\n\r\n', 400],
    ['a head larger than the limit', `GET /big HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(5000)}\r\n\r\n`, 431],
    ['more header fields than the limit', `GET /many HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 25 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')}\r\n`, 431],
  ];
  for (const [name, text, status] of rejected) {
    it(`rejects ${name} with ${status} and forwards nothing`, async () => {
      const before = env.up.seen.length;
      const res = await rawRequest(port, text);
      assert.equal(res.status, status, res.raw.slice(0, 200));
      assert.equal(res.headers['server'], 'signalbox');
      assert.equal(env.up.seen.length, before, 'nothing reached the upstream');
    });
  }

  it('answers 408 when the request head does not arrive in time', async () => {
    const res = await rawRequest(port, 'GET /slow HTTP/1.1\r\nHost: a\r\n', 5_000);
    assert.equal(res.status, 408);
  });

  it('still serves a well-formed request on the same listener', async () => {
    const res = await rawRequest(port, 'POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
    assert.equal(res.status, 200);
    assert.match(res.body, /up POST \/ok/);
  });
});
