import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startSignalboxProcess } from '../helpers/signalbox-process.ts';
import { startUpstream } from '../helpers/upstreams.ts';

const BIN = fileURLToPath(new URL('../../bin/signalbox.js', import.meta.url));

/** Runs a second `signalbox serve` until it exits, or until it says it serves (then stops it). */
function runSecond(args: readonly string[]): Promise<{ code: number | null; served: boolean; stderr: string }> {
  const child = spawn(process.execPath, ['--no-node-snapshot', BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let served = false;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!served && /signalbox: serving /.test(stderr)) {
      served = true;
      child.kill('SIGKILL');
    }
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, served, stderr })));
}

const port = (url: string): string => new URL(url).port;

describe('a second signalbox on ports another one serves', () => {
  it('exits non-zero with one line naming the port, and the first keeps all the traffic', async () => {
    const up = await startUpstream('app');
    const dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: up.port }]), ingress('app', 'app.test', [{ path: '/', service: 'app' }])]);
    // No debug listener: its fixed default port would collide with other tests' processes.
    const common = ['serve', '--manifests', dir, '--bind', '127.0.0.1', '--admin-bind', '127.0.0.1', '--admin-port', '0', '--debug-port', 'off', '--workers', '2', '--access-log', 'off', '--log-level', 'warn'];
    const first = await startSignalboxProcess([...common, '--http-port', '0', '--https-port', '0']);
    try {
      const http = port(first.http);
      const https = port(first.https!);
      const onHttp = await runSecond([...common, '--http-port', http, '--https-port', 'off']);
      assert.equal(onHttp.served, false, `the second process started serving on ${http}:\n${onHttp.stderr}`);
      assert.equal(onHttp.code, 1);
      assert.equal(onHttp.stderr.trim(), `signalbox: cannot listen for http on 127.0.0.1:${http}: listen EADDRINUSE: address already in use 127.0.0.1:${http}`);

      const onHttps = await runSecond([...common, '--http-port', '0', '--https-port', https]);
      assert.equal(onHttps.served, false, `the second process started serving on ${https}:\n${onHttps.stderr}`);
      assert.equal(onHttps.code, 1);
      assert.match(onHttps.stderr.trim(), new RegExp(`^signalbox: cannot listen for https on 127\\.0\\.0\\.1:${https}: listen EADDRINUSE[^\\n]*$`));

      // The first one serves on, undisturbed.
      for (let i = 0; i < 20; i++) {
        const res = await request(`${first.http}/n${i}`, { headers: { host: 'app.test' }, reset: true });
        assert.equal(res.statusCode, 200);
        await res.body.dump();
      }
      assert.equal(up.seen.filter((r) => r.url.startsWith('/n')).length, 20);
    } finally {
      await first.stop();
      await up.close();
      await removeDir(dir);
    }
  });
});
