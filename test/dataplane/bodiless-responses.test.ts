import assert from 'node:assert/strict';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';

/**
 * An upstream that breaks the rules on purpose: it answers 204 and 304 with a Content-Length and a
 * body, a HEAD with a body, and sends a 1xx with a Content-Length and a body before its answer —
 * written byte for byte on a raw socket, which it then closes. It logs the request lines it got.
 */
const ANSWERS: Record<string, string> = {
  '/204': 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Upstream: raw\r\n\r\nhello',
  '/304': 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: "v1"\r\n\r\nhello',
  '/head': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
  '/early': 'HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
};

function startRawUpstream(log: string[]): Promise<Server> {
  const server = createServer((socket) => {
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const line = head.slice(0, head.indexOf('\r\n'));
      log.push(line);
      const path = line.split(' ')[1] ?? '/';
      socket.end(ANSWERS[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('responses that cannot have a body', () => {
  const log: string[] = [];
  let upstream: Server;
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let h2: ClientHttp2Session;

  before(async () => {
    upstream = await startRawUpstream(log);
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('raw', [{ port: (upstream.address() as AddressInfo).port }]),
      ingress('raw', null, [{ path: '/', service: 'raw' }]),
    ]);
    proxy = await startProxy(dir);
    port = Number(new URL(proxy.http).port);
    h2 = h2connect(proxy.https, { rejectUnauthorized: false });
  });
  after(async () => {
    h2.close();
    await proxy.stop();
    await new Promise((resolve) => upstream.close(resolve));
    await removeDir(dir);
  });

  for (const [path, status] of [['/204', 204], ['/304', 304]] as const) {
    it(`${status} reaches an HTTP/1.1 client without Content-Length or body`, async () => {
      const res = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`);
      assert.equal(log.at(-1), `GET ${path} HTTP/1.1`, 'the upstream was asked');
      assert.equal(res.status, status);
      assert.equal(res.headers['content-length'], undefined);
      assert.equal(res.headers['transfer-encoding'], undefined);
      assert.equal(res.body, '', 'no body bytes after the head');
    });

    it(`${status} reaches an HTTP/2 client without Content-Length or body`, async () => {
      const res = await h2request(h2, 'GET', path);
      assert.equal(log.at(-1), `GET ${path} HTTP/1.1`);
      assert.equal(res.status, status);
      assert.equal(res.headers['content-length'], undefined);
      assert.equal(res.body, '');
    });
  }

  it('a response to HEAD keeps its Content-Length and loses the body, over HTTP/1.1', async () => {
    const res = await rawRequest(port, 'HEAD /head HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    assert.equal(log.at(-1), 'HEAD /head HTTP/1.1');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '5');
    assert.equal(res.body, '');
  });

  it('a response to HEAD keeps its Content-Length and loses the body, over HTTP/2', async () => {
    const res = await h2request(h2, 'HEAD', '/head');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '5');
    assert.equal(res.body, '');
  });

  it('a 1xx with a Content-Length and a body passes none of it to the client', async () => {
    for (const res of [
      await rawRequest(port, 'GET /early HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n'),
      await h2request(h2, 'GET', '/early'),
    ]) {
      assert.equal(log.at(-1), 'GET /early HTTP/1.1');
      assert.doesNotMatch('raw' in res ? res.raw : res.body, /hello|103|Early/);
      assert.ok(res.status !== 103);
    }
  });
});

/** One HTTP/2 request: its status, headers and body (a stream error rejects). */
function h2request(session: ClientHttp2Session, method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': path, ':authority': 'a.test' });
    let status = 0;
    let headers: Record<string, unknown> = {};
    let body = '';
    stream.on('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    stream.on('data', (c: Buffer) => (body += c));
    stream.on('end', () => resolve({ status, headers, body }));
    stream.on('error', reject);
    stream.end();
  });
}
