/**
 * ResponseRate (ingress-nginx's `limit-rate`, `limit-rate-after`) on real sockets: a 256 KiB body
 * at 64 KiB/s takes about four seconds to reach the client, and after `limit-rate-after` the first
 * bytes arrive at once. Time is the subject here, measured with wide bounds.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ResponseRateFilter } from '../../src/model/table.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const KIB = 1024;
const BODY = Buffer.alloc(256 * KIB, 'r');

/** A download through the proxy: when its first `mark` bytes had arrived, when all had, and what came. */
function download(proxy: TestProxy, path: string, mark: number): Promise<{ markMs: number; totalMs: number; body: Buffer }> {
  const { port } = new URL(proxy.http);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'files.example' } }, (res) => {
      const chunks: Buffer[] = [];
      let got = 0;
      let markMs = -1;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (markMs < 0 && got >= mark) markMs = performance.now() - started;
      });
      res.on('end', () => resolve({ markMs, totalMs: performance.now() - started, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ResponseRate (limit-rate)', () => {
  let dir: string;
  let proxy: TestProxy;
  let files: TestUpstream;

  before(async () => {
    // Sends the body in 16 KiB writes, as a file server would.
    files = await startUpstream('files', (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BODY.length) });
      for (let i = 0; i < BODY.length; i += 16 * KIB) res.write(BODY.subarray(i, i + 16 * KIB));
      res.end();
    });
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('files', [{ port: files.port }]), ingress('files', null, ['/paced', '/after', '/free'].map((path) => ({ path, service: 'files' })))]);
    const rate = (afterBytes: number): ResponseRateFilter => ({ type: 'ResponseRate', bytesPerSecond: 64 * KIB, afterBytes });
    proxy = await startProxy(dir, {
      editTable: editRoutes({
        '/paced': () => ({ filters: [rate(0)] }),
        '/after': () => ({ filters: [rate(192 * KIB)] }),
      }),
    });
  });
  after(async () => {
    await proxy.stop();
    await files.close();
    await removeDir(dir);
  });

  it('paces a 256 KiB body at 64 KiB/s to about four seconds; after limit-rate-after the first bytes are fast', async () => {
    const [paced, afterFast, free] = await Promise.all([
      download(proxy, '/paced/big.bin', 128 * KIB),
      download(proxy, '/after/big.bin', 192 * KIB),
      download(proxy, '/free/big.bin', BODY.length),
    ]);
    for (const d of [paced, afterFast, free]) assert.ok(d.body.equals(BODY), 'the body arrives whole');
    assert.ok(free.totalMs < 1_500, `unpaced: ${free.totalMs} ms`);
    // 256 KiB at 64 KiB/s: 4 s; the half-way mark at about 2 s.
    assert.ok(paced.totalMs > 3_300 && paced.totalMs < 8_000, `paced: ${paced.totalMs} ms`);
    assert.ok(paced.markMs > 1_300, `paced, first half: ${paced.markMs} ms`);
    // 192 KiB unpaced, then the last 64 KiB due one second after the first byte.
    assert.ok(afterFast.markMs < 800, `limit-rate-after's bytes: ${afterFast.markMs} ms`);
    assert.ok(afterFast.totalMs > 700 && afterFast.totalMs < 4_000, `after limit-rate-after: ${afterFast.totalMs} ms`);
  });
});
