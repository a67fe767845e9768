/**
 * Two controllers against one API server: both serve traffic, exactly one leads and writes status,
 * and when the leader stops the other takes over (the lease is released, so at once).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startUpstream, type TestUpstream } from '../test/helpers/upstreams.ts';
import { startCluster, type TestCluster } from './harness/cluster.ts';
import { startController, type RunningController } from './harness/controller.ts';
import { apply, createServiceWithEndpoints, get, ingress, ingressClass, waitFor } from './harness/objects.ts';

async function leading(controller: RunningController): Promise<boolean> {
  const text = await (await request(`${controller.admin}/metrics`)).body.text();
  return /^signalbox_leader 1$/m.test(text);
}

async function addressOf(cluster: TestCluster, name: string): Promise<string | null> {
  const obj = await get(cluster, 'ingress', name, 'default');
  return (obj?.status as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress?.[0]?.ip ?? null;
}

describe('leader election between two controllers', () => {
  let cluster: TestCluster;
  let up: TestUpstream;
  const controllers: RunningController[] = [];

  before(async () => {
    cluster = await startCluster();
    up = await startUpstream('app');
    await apply(cluster, [ingressClass()]);
    await createServiceWithEndpoints(cluster, 'app', up.port);
    // Each publishes its own address, so the status says which one wrote it.
    for (const address of ['192.0.2.1', '192.0.2.2']) {
      controllers.push(await startController(cluster.kubeconfigPath, ['--publish-address', address, '--election-namespace', 'default']));
    }
    await waitFor(async () => (await Promise.all(controllers.map((c) => c.ready()))).every(Boolean), { timeoutMs: 30_000, what: 'both controllers to be ready' });
  }, { timeout: 240_000 });

  after(async () => {
    for (const c of controllers) await c.stop();
    await cluster?.stop();
    await up?.close();
  });

  test('exactly one leads and writes status; both serve; the other takes over when the leader stops', async () => {
    const first = await waitFor(async () => {
      const flags = await Promise.all(controllers.map(leading));
      return flags.filter(Boolean).length === 1 ? controllers[flags.indexOf(true)]! : null;
    }, { timeoutMs: 20_000, what: 'one leader' });
    const other = controllers.find((c) => c !== first)!;
    const lease = await get(cluster, 'leases.coordination.k8s.io', 'signalbox-leader', 'default');
    assert.ok(String((lease?.spec as { holderIdentity?: string }).holderIdentity).length > 0);

    await apply(cluster, [ingress('one', 'one.test', [{ path: '/', service: 'app' }])]);
    const firstAddress = await waitFor(() => addressOf(cluster, 'one'), { timeoutMs: 20_000, what: 'the leader to write status' });
    assert.equal(firstAddress, first === controllers[0] ? '192.0.2.1' : '192.0.2.2');
    for (const c of controllers) {
      const res = await request(`${c.http}/`, { headers: { host: 'one.test' } });
      assert.equal(res.statusCode, 200, 'every replica serves traffic, leader or not');
      await res.body.dump();
    }

    const stoppedAt = Date.now();
    assert.equal(await first.stop(), 0);
    await waitFor(() => leading(other), { timeoutMs: 10_000, what: 'the other controller to lead' });
    const handover = Date.now() - stoppedAt;
    // The new leader makes the status its own.
    const otherAddress = first === controllers[0] ? '192.0.2.2' : '192.0.2.1';
    await waitFor(async () => (await addressOf(cluster, 'one')) === otherAddress, { timeoutMs: 20_000, what: 'the new leader to write status' });
    await apply(cluster, [ingress('two', 'two.test', [{ path: '/', service: 'app' }])]);
    assert.equal(await waitFor(() => addressOf(cluster, 'two'), { timeoutMs: 20_000, what: 'status of a new Ingress' }), otherAddress);
    assert.ok(handover < 10_000, `handed over in ${handover} ms (released, not waited out)`);
  });
});
