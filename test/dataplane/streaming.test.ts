import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';

/**
 * Bodies stream both ways: the proxy forwards what it has as it arrives, never waiting for a whole
 * body. Each test makes the far side wait for the first part before the near side sends the rest,
 * which would deadlock if the proxy buffered.
 */
describe('streaming bodies', () => {
  let env: SingleRoute;
  let port: number;
  let releaseResponse: () => void = () => {};
  let bigChunksLeft = -1;
  const firstRequestChunk: { resolve: () => void; promise: Promise<void> } = Promise.withResolvers<void>() as never;

  before(async () => {
    env = await startSingleRoute('stream', (req, res) => {
      if (req.url === '/upload') {
        let bytes = 0;
        req.on('data', (chunk: Buffer) => {
          if (bytes === 0) firstRequestChunk.resolve();
          bytes += chunk.length;
        });
        req.on('end', () => res.end(`received ${bytes}`));
      } else if (req.url === '/download') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write('first part;');
        releaseResponse = () => res.end('second part');
      } else if (req.url === '/big') {
        const chunk = Buffer.alloc(64 * 1024, 'x');
        bigChunksLeft = 256; // 16 MiB
        const pump = (): void => {
          while (bigChunksLeft > 0) {
            bigChunksLeft--;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.writeHead(200, { 'content-length': String(256 * chunk.length) });
        pump();
      }
    });
    port = env.port;
  });
  after(() => env.close());

  it('streams a chunked request body upstream before the client has finished sending it', async () => {
    const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/upload', headers: { host: 'a.test', 'transfer-encoding': 'chunked' } });
    const response = once(req, 'response');
    req.write(Buffer.alloc(1000, 'a'));
    await firstRequestChunk.promise; // the upstream already has the first part
    req.end(Buffer.alloc(500, 'b'));
    const [res] = (await response) as [import('node:http').IncomingMessage];
    let body = '';
    for await (const c of res) body += c;
    assert.equal(res.statusCode, 200);
    assert.equal(body, 'received 1500');
  });

  it('streams a response to the client before the upstream has finished it', async () => {
    const req = httpRequest({ port, host: '127.0.0.1', path: '/download', headers: { host: 'a.test' } });
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    const [first] = (await once(res, 'data')) as [Buffer];
    assert.equal(first.toString(), 'first part;');
    let rest = '';
    res.on('data', (c: Buffer) => (rest += c));
    releaseResponse();
    await once(res, 'end');
    assert.equal(rest, 'second part');
  });

  it('relays a 16 MiB response to a slow reader with backpressure, intact', async () => {
    const req = httpRequest({ port, host: '127.0.0.1', path: '/big', headers: { host: 'a.test' } });
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    assert.equal(res.headers['content-length'], String(16 * 1024 * 1024));
    // Stop reading: the proxy must stop reading from the upstream too rather than buffer 16 MiB.
    res.pause();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(bigChunksLeft > 64, `the upstream is held back (chunks still unsent: ${bigChunksLeft} of 256)`);
    let total = 0;
    for await (const chunk of res) total += (chunk as Buffer).length;
    assert.equal(total, 16 * 1024 * 1024);
    assert.equal(bigChunksLeft, 0);
  });
});
