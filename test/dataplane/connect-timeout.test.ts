import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy } from '../helpers/proxy.ts';

const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0;

/**
 * A loopback port whose listener never accepts and whose accept queue is full, so the kernel drops
 * further SYNs and a connect hangs — the only way to make a connect time out without leaving
 * 127.0.0.1. Node cannot listen without accepting, so a tiny Python process holds the socket.
 */
async function unacceptingPort(): Promise<{ port: number; stop: () => void }> {
  const holder = spawn('python3', ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(holder.stdout, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  const fillers: Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  return { port, stop: () => { for (const s of fillers) s.destroy(); holder.kill(); } };
}

describe('upstream connect timeout', () => {
  it('answers 504 upstream-connect-timeout when the endpoint does not complete the handshake', { skip: hasPython ? false : 'python3 is not installed' }, async () => {
    const hole = await unacceptingPort();
    const dir = await tempManifestDir();
    try {
      await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('hole', [{ port: hole.port }]), ingress('hole', null, [{ path: '/', service: 'hole' }])]);
      const proxy = await startProxy(dir, { timeouts: { connectMs: 300 } });
      try {
        const res = await request(`${proxy.http}/`, { headers: { host: 'a.test' } });
        assert.equal(res.statusCode, 504);
        assert.equal(res.headers['x-signalbox-error'], 'upstream-connect-timeout');
        await res.body.text();
      } finally {
        await proxy.stop();
      }
    } finally {
      hole.stop();
      await removeDir(dir);
    }
  });
});
