import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startSignalboxProcess, type SignalboxProcess } from '../helpers/signalbox-process.ts';
import { startUpstream } from '../helpers/upstreams.ts';

/** A signalbox serving behind the test's "load balancer", which sends to it only while it is ready. */
interface Instance {
  readonly name: string;
  readonly process: SignalboxProcess;
  readonly http: string;
  readonly agent: Agent;
  ready: boolean;
}

async function startInstance(name: string, dir: string): Promise<Instance> {
  const running = await startSignalboxProcess(['serve', '--manifests', dir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', 'off',
    '--admin-bind', '127.0.0.1', '--admin-port', '0', '--debug-port', '0', '--workers', '1', '--access-log', 'off', '--log-level', 'warn', '--drain', '1s', '--grace', '5s']);
  return { name, process: running, http: running.http, agent: new Agent({ connections: 8 }), ready: false };
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
          await Promise.all(instances.map(async (i) => (i.ready = await i.process.ready())));
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
      const code = await old.process.stop();
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
        await i.process.stop();
        await i.agent.close();
      }
      await up.close();
      await removeDir(dir);
    }
  });
});
