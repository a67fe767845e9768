import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startSingleRoute } from '../helpers/single-route.ts';
import { tempManifestDir, removeDir } from '../helpers/manifests.ts';

describe('worker threads', () => {
  it('serves one port from every worker, each logging its own requests', async () => {
    const logDir = await tempManifestDir();
    const logFile = join(logDir, 'access.log');
    const env = await startSingleRoute('shared', undefined, { workers: 2, dataplane: { accessLog: logFile } });
    try {
      // New connections are spread by the kernel (SO_REUSEPORT); 60 of them reach both workers.
      for (let i = 0; i < 60; i++) {
        const res = await request(`${env.proxy.http}/${i}`, { headers: { host: 'a.test' }, reset: true });
        assert.equal(res.statusCode, 200);
        await res.body.text();
      }
    } finally {
      await env.close(); // stopping flushes the access logs
    }
    try {
      const lines = (await readFile(logFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { worker: number; path: string; status: number });
      assert.equal(lines.length, 60);
      assert.deepEqual(new Set(lines.map((l) => l.worker)), new Set([0, 1]));
      assert.ok(lines.every((l) => l.status === 200));
    } finally {
      await removeDir(logDir);
    }
  });
});
