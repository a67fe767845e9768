import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startUpstream } from '../helpers/upstreams.ts';

const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'signalbox.js');

/** A signalbox process started as a user would, with the ports it printed. */
interface Instance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly http: string;
  readonly admin: string;
  readonly agent: Agent;
  ready: boolean;
  exited: boolean;
}

async function startInstance(name: string, dir: string): Promise<Instance> {
  // --no-node-snapshot as bin/signalbox.js would add it, so that it runs in this process, not a re-executed child.
  const child = spawn(process.execPath, ['--no-node-snapshot', bin, 'serve', '--manifests', dir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', 'off',
    '--admin-bind', '127.0.0.1', '--admin-port', '0', '--workers', '1', '--access-log', 'off', '--log-level', 'warn', '--drain', '1s', '--grace', '5s'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const ports = await new Promise<{ http: string; admin: string }>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /serving (http:\/\/127\.0\.0\.1:\d+)\s+admin (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) resolve({ http: m[1]!, admin: m[2]! });
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before serving: ${stderr}`)));
  });
  const instance: Instance = { name, child, ...ports, agent: new Agent({ connections: 8 }), ready: false, exited: false };
  child.once('exit', () => (instance.exited = true));
  return instance;
}

async function isReady(instance: Instance): Promise<boolean> {
  if (instance.exited) return false;
  try {
    const res = await request(`${instance.admin}/readyz`, { headersTimeout: 500, bodyTimeout: 500 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

describe('a rolling restart of signalbox', () => {
  it('loses no request: readiness fails first, the old instance keeps serving while it drains, then exits', async () => {
    const up = await startUpstream('app', (req, res) => {
      req.resume();
      setTimeout(() => res.end('ok'), 5);
    });
    const dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: up.port }]), ingress('app', 'app.test', [{ path: '/', service: 'app' }])]);
    const old = await startInstance('old', dir);
    const fresh = await startInstance('new', dir);
    const instances = [old, fresh];
    try {
      // What a Service's endpoints do for a load balancer: only ready instances get new requests.
      let polling = true;
      const poller = (async () => {
        while (polling) {
          await Promise.all(instances.map(async (i) => (i.ready = await isReady(i))));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      while (!instances.every((i) => i.ready)) await new Promise((r) => setTimeout(r, 20));

      const outcomes: { instance: string; ok: boolean; detail: string }[] = [];
      let loading = true;
      let turn = 0;
      const deadline = Date.now() + 20_000;
      const loops = Array.from({ length: 8 }, async () => {
        while (loading && Date.now() < deadline) {
          const candidates = instances.filter((i) => i.ready);
          const target = candidates[turn++ % Math.max(1, candidates.length)];
          if (target === undefined) {
            await new Promise((r) => setTimeout(r, 10));
            continue;
          }
          try {
            const res = await request(`${target.http}/`, { headers: { host: 'app.test' }, dispatcher: target.agent });
            const body = await res.body.text();
            outcomes.push({ instance: target.name, ok: res.statusCode === 200 && body === 'ok', detail: `${res.statusCode} ${body}` });
          } catch (err) {
            outcomes.push({ instance: target.name, ok: false, detail: (err as Error).message });
          }
        }
      });
      await new Promise((r) => setTimeout(r, 700));
      const servedByOldBefore = outcomes.filter((o) => o.instance === 'old').length;
      const termAt = Date.now();
      old.child.kill('SIGTERM');
      const [code] = (await once(old.child, 'exit')) as [number | null];
      const exitedAfter = Date.now() - termAt;
      await new Promise((r) => setTimeout(r, 500));
      loading = false;
      await Promise.all(loops);
      polling = false;
      await poller;

      const failed = outcomes.filter((o) => !o.ok);
      assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 5))}`);
      assert.equal(code, 0);
      assert.ok(exitedAfter >= 1_000, `the old instance drained for its drain period before exiting (${exitedAfter} ms)`);
      assert.ok(servedByOldBefore > 20 && outcomes.filter((o) => o.instance === 'new').length > 20, 'both served traffic');
      assert.ok(outcomes.length > 200, `enough load: ${outcomes.length}`);
    } finally {
      for (const i of instances) {
        if (!i.exited) {
          const exited = once(i.child, 'exit');
          i.child.kill('SIGTERM');
          const timer = setTimeout(() => i.child.kill('SIGKILL'), 8_000);
          await exited;
          clearTimeout(timer);
        }
        await i.agent.close();
      }
      await up.close();
      await removeDir(dir);
    }
  });
});
