import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { steadyLoad } from '../helpers/load.ts';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { metricsText } from '../helpers/metrics.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';

/** Version `n` of the shard script: sends everything to `shard`, tagged with its version. */
function shardScript(n: number, shard: 'shard-a' | 'shard-b'): object {
  return routeScript('shards', {
    targetRefs: [{ kind: 'Service', name: 'shop' }],
    backends: { 'shard-a': { service: { name: 'shop-a', port: { number: 80 } } }, 'shard-b': { service: { name: 'shop-b', port: { number: 80 } } } },
    data: { shard },
    // The swap is under test, not the budget: room for a machine busy with the load itself.
    limits: { timeoutMs: 50, memoryMiB: 16 },
    code: `const version = ${n};
export function onRequest(req, ctx) { return { backend: ctx.data.shard, setHeaders: { 'x-script-version': String(version) } }; }`,
  });
}

describe('replacing a RouteScript under load', () => {
  let env: ScriptedEnv;
  // Slow enough answers that requests are in flight at every swap.
  const slowly = (name: string) => (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    setTimeout(() => res.end(`${name} ${String(req.headers['x-script-version'])}`), 15);
  };
  before(async () => {
    env = await startScripted({
      upstreams: { shop: slowly('shop'), 'shop-a': slowly('shop-a'), 'shop-b': slowly('shop-b') },
      objects: () => [ingress('store', 'store.test', [{ path: '/', service: 'shop' }]), shardScript(1, 'shard-a')],
      proxy: { workers: 2 },
    });
  });
  after(() => env.close());

  it('fails no request while the script changes five times, each version live within a second', async () => {
    const load = steadyLoad(env.proxy, 'store.test', '/', 16);
    const results = load.results;
    await new Promise((r) => setTimeout(r, 300));
    const versions: [number, 'shard-a' | 'shard-b'][] = [[2, 'shard-b'], [3, 'shard-a'], [4, 'shard-b'], [5, 'shard-a'], [6, 'shard-b']];
    for (const [n, shard] of versions) {
      const changedAt = Date.now();
      await env.rewrite([ingress('store', 'store.test', [{ path: '/', service: 'shop' }]), shardScript(n, shard)]);
      assert.ok(Date.now() - changedAt < 1_000, `version ${n} live in every worker within a second (took ${Date.now() - changedAt} ms)`);
      const check = await send(env.proxy, 'store.test', '/');
      assert.equal(check.body, `${shard === 'shard-a' ? 'shop-a' : 'shop-b'} ${n}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await load.stop();
    const failed = results.filter((r) => r.status !== 200);
    assert.equal(failed.length, 0, `failed requests: ${JSON.stringify(failed.slice(0, 3))}`);
    assert.ok(results.length > 200, `enough load: ${results.length} requests`);
    const byVersion = new Set(results.map((r) => r.body));
    for (const n of [1, 2, 3, 4, 5, 6]) assert.ok([...byVersion].some((b) => b.endsWith(` ${n}`)), `version ${n} served some requests`);
    assert.ok(![...byVersion].some((b) => b.startsWith('shop ')), `no request fell back to the route's own backend: ${(await metricsText(env.proxy)).split('\n').filter((l) => l.startsWith('signalbox_script_errors')).join('; ')}`);
  });
});
