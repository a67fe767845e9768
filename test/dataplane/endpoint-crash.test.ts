/**
 * An endpoint that dies with requests in flight costs no idempotent request: under steady load, one
 * of two upstream processes is killed (SIGKILL, no goodbye), and every GET it held, and every one
 * balanced to it before it is known dead, is retried on the other — within the retry budget, which
 * the traffic before the crash has earned.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { steadyLoad } from '../helpers/load.ts';
import { startProxy } from '../helpers/proxy.ts';
import { startUpstreamProcess } from '../helpers/upstream-process.ts';
import { metric } from '../helpers/metrics.ts';

/** Each upstream answers this long after a request arrives, so that it always holds some. */
const ANSWER_DELAY_MS = 25;
const CLIENTS = 16;

describe('an endpoint killed under load', () => {
  it('costs no GET: the ones it held are retried on the other endpoint, which logs them', { timeout: 60_000 }, async () => {
    const victim = await startUpstreamProcess('victim', ANSWER_DELAY_MS);
    const survivor = await startUpstreamProcess('survivor', ANSWER_DELAY_MS);
    const dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: victim.port }, { port: survivor.port }]), ingress('app', null, [{ path: '/', service: 'app' }])]);
    const proxy = await startProxy(dir);
    const load = steadyLoad(proxy, 'a.test', (n) => `/r/${n}`, CLIENTS);
    try {
      // Traffic well under way on both endpoints, then the crash the moment the victim takes a
      // request: it dies holding that one and every other it had not answered yet.
      await victim.receivedAtLeast(100);
      await survivor.receivedAtLeast(100);
      await victim.receivedAtLeast(victim.received.length + 1);
      await victim.kill();
      const afterKill = survivor.received.length;
      await survivor.receivedAtLeast(afterKill + 200);
      await load.stop();

      const results = load.results;
      const failed = results.filter((r) => r.status !== 200);
      assert.deepEqual(failed.map((r) => `${r.status} ${r.headers['x-signalbox-error'] ?? r.body}`), [], 'no request failed');
      // Which upstream answered each request, by URL (each request has its own).
      const answeredBy = new Map(results.map((r) => [r.body.split(' ')[2]!, r.body.split(' ')[0]!]));
      const survivorLog = new Set(survivor.received);
      const retried = victim.received.filter((url) => answeredBy.get(url) === 'survivor');
      assert.ok(retried.length >= 2, `the victim died holding requests (${retried.length} of them answered by the survivor)`);
      for (const url of retried) assert.ok(survivorLog.has(url), `${url}, lost with the victim, is in the survivor's own log`);
      assert.equal(await metric(proxy, /signalbox_retry_budget_exhausted_total\{cluster="default\/app:80"\} (\d+)/), 0);
      assert.ok((await metric(proxy, /signalbox_retries_total\{cluster="default\/app:80",reason="reset"\} (\d+)/)) >= 1, 'requests reset in flight were retried');
    } finally {
      await load.stop();
      await proxy.stop();
      await Promise.all([victim.close(), survivor.close()]);
      await removeDir(dir);
    }
  });
});
