import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { steadyLoad } from '../helpers/load.ts';
import { metric, metricsText } from '../helpers/metrics.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';

const FILLERS = 16;

describe('a worker whose heap is nearly full is replaced and drained, not killed', () => {
  let env: ScriptedEnv;
  before(async () => {
    env = await startScripted({
      upstreams: { app: null },
      objects: () => [
        ingress('app', 'app.test', [...Array.from({ length: FILLERS }, (_, i) => `/fill${i}`), '/victim'].map((path) => ({ path, service: 'app' }))),
        // Each RouteScript may keep 8 MiB of ctx.state, which alone is within its budget; sixteen of
        // them are 128 MiB by the estimate (two-byte strings: about what they take), in a worker
        // whose heap is limited to 96 MiB.
        ...Array.from({ length: FILLERS }, (_, i) => routeScript(`fill${i}`, {
          targetRefs: [{ kind: 'Ingress', name: 'app', path: `/fill${i}` }],
          limits: { timeoutMs: 1000, memoryMiB: 16 },
          code: `export function onRequest(req, ctx) {
            const value = (req.query.n + '€').padEnd(1000, '€');
            for (let i = 0; i < 100; i++) ctx.state.set(req.query.n + ':' + i, value);
            return null;
          }`,
        })),
      ],
      proxy: { workers: 2, dataplane: { workerHeapMiB: 96 }, graceMs: 2_000 },
    });
  });
  after(() => env.close());

  it('clients of the victim route see no failure while the filled worker is replaced; no worker crashes', async () => {
    const victims = steadyLoad(env.proxy, 'app.test', '/victim', 8);
    // One connection: the fills all go to one worker (until it drains and the client reconnects).
    const filler = new Agent({ connections: 1 });
    let recycled = 0;
    let restarted = 0;
    let fills = 0;
    try {
      // Until the filled worker is replaced (or, without that, dies).
      for (; fills < 3_000 && recycled === 0 && restarted === 0; fills++) {
        // The filling client's own connection is the one the draining worker closes: it may see that.
        await send(env.proxy, 'app.test', `/fill${fills % FILLERS}?n=${fills}`, {}, { dispatcher: filler }).catch(() => {});
        if (fills % 10 === 9) {
          const text = await metricsText(env.proxy);
          recycled = Number(/signalbox_worker_recycles_total (\d+)/.exec(text)?.[1] ?? 0);
          restarted = Number(/signalbox_worker_restarts_total (\d+)/.exec(text)?.[1] ?? 0);
        }
      }
      // Keep the victims going for two seconds more: the old worker drains for one, then stops.
      const until = Date.now() + 2_000;
      while (Date.now() < until) await send(env.proxy, 'app.test', '/victim').catch(() => {});
    } finally {
      await victims.stop();
      await filler.close();
    }
    const failed = victims.results.filter((r) => r.status !== 200);
    process.stderr.write(`# ${fills} fills, ${recycled} recycled, ${restarted} restarted; ${victims.results.length} victim requests, ${failed.length} failed: ${JSON.stringify([...new Set(failed.map((r) => r.body))])}\n`);
    assert.equal(await metric(env.proxy, /signalbox_worker_restarts_total (\d+)/), 0, 'no worker died');
    assert.equal(recycled, 1, 'the filled worker was replaced');
    assert.equal(await metric(env.proxy, /signalbox_workers (\d+)/), 2);
    // What remains is the kernel's: connections queued on the old worker's listening socket when it
    // closes are reset, unless net.ipv4.tcp_migrate_req is 1 (README, --worker-heap-limit): measured
    // 1-6 of ~5,000 with 0, none with 1.
    assert.ok(failed.length <= victims.results.length / 200, `${failed.length} of ${victims.results.length} victim requests failed`);
  });
});
