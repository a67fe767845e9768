/**
 * A client that leaves while its body still streams to an HTTP/2 upstream: the upstream's stream
 * is reset at once — never ended as if the body were whole, never left open. Left open, a hundred
 * or so aborted uploads would fill the upstream's MAX_CONCURRENT_STREAMS and stall its connection.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createH2cServer, type Http2Server } from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';

/** What the upstream saw of one stream. */
interface Seen {
  readonly path: string;
  bytes: number;
  /** The body's end arrived (END_STREAM): the upstream took the body as whole. */
  ended: boolean;
  /** The stream closed, and with which code (0: ended normally; 8: CANCEL, 2: INTERNAL_ERROR…). */
  closedWith: number | null;
}

describe('client aborts towards an HTTP/2 upstream', () => {
  let dir: string;
  let proxy: TestProxy;
  let upstream: Http2Server;
  const seen: Seen[] = [];

  before(async () => {
    upstream = createH2cServer((req, res) => {
      const entry: Seen = { path: req.url, bytes: 0, ended: false, closedWith: null };
      seen.push(entry);
      req.on('data', (c: Buffer) => (entry.bytes += c.length));
      req.on('end', () => {
        if (req.stream.rstCode !== undefined && req.stream.rstCode !== 0) return;
        entry.ended = true;
        if (!res.stream.destroyed) res.end(`got ${entry.bytes}`);
      });
      req.stream.once('close', () => (entry.closedWith = req.stream.rstCode ?? 0));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('h2c', [{ port: (upstream.address() as AddressInfo).port }], 'default', { 'signalbox.dev/backend-protocol': 'h2c' }),
      ingress('h2c', null, [{ path: '/', service: 'h2c' }]),
    ]);
    proxy = await startProxy(dir);
  });
  after(async () => {
    await proxy.stop();
    upstream.close();
    await removeDir(dir);
  });

  it('resets the upstream stream of each aborted upload at once, and the connection keeps serving', async () => {
    const port = Number(new URL(proxy.http).port);
    for (let i = 0; i < 20; i++) {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`POST /upload-${i} HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
      const entry = (): Seen | undefined => seen.find((s) => s.path === `/upload-${i}`);
      // The first chunk reached the upstream: the body is streaming when the client leaves.
      while (entry()?.bytes !== 5) await new Promise((resolve) => setImmediate(resolve));
      socket.destroy();
      // Reset within a second (at once, in fact), not when the session ends.
      const gone = performance.now();
      while (entry()!.closedWith === null && performance.now() - gone < 1_000) await new Promise((resolve) => setTimeout(resolve, 5));
      const upload = entry()!;
      assert.equal(upload.ended, false, `/upload-${i}: the cut-short body was taken as whole`);
      assert.notEqual(upload.closedWith, null, `/upload-${i}: the upstream stream is still open`);
      assert.notEqual(upload.closedWith, 0, `/upload-${i}: ended, not reset`);
    }
    const res = await rawRequest(port, 'POST /after HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
    assert.equal(res.status, 200);
    assert.match(res.body, /got 3/);
  });
});
