/**
 * The time from an API write to the route being live: a real kube-apiserver and etcd (the e2e
 * harness), `signalbox controller` as a child process, two upstreams; the Ingress is switched
 * between them `--changes` times through the API, and after each write the proxy is polled (every
 * 2 ms) until the other upstream answers. Prints p50, p90, p99 and the maximum. Needs the binaries
 * of scripts/k8s-binaries.sh (built on first use).
 *
 *     node --no-node-snapshot bench/controller-latency.ts [--changes 100]
 */
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { startCluster } from '../e2e/harness/cluster.ts';
import { startController } from '../e2e/harness/controller.ts';
import { apply, createServiceWithEndpoints, ingress, ingressClass, waitFor } from '../e2e/harness/objects.ts';
import { startUpstream } from '../test/helpers/upstreams.ts';
import { intOption } from './lib/options.ts';

const { values } = parseArgs({ options: { changes: { type: 'string', default: '100' } } });
const changes = intOption('changes', values.changes!, 2);

const cluster = await startCluster();
const ups = { blue: await startUpstream('blue'), green: await startUpstream('green') };
const controller = await startController(cluster.kubeconfigPath, ['--log-level', 'warn']);
try {
  await apply(cluster, [ingressClass()]);
  for (const [name, up] of Object.entries(ups)) await createServiceWithEndpoints(cluster, name, up.port);
  await apply(cluster, [ingress('bench', 'bench.test', [{ path: '/', service: 'blue' }])]);
  await waitFor(() => controller.ready(), { timeoutMs: 30_000, what: 'the controller' });
  const answer = async (): Promise<string> => {
    const res = await request(`${controller.http}/`, { headers: { host: 'bench.test' } });
    return (await res.body.text()).split(' ')[0]!;
  };
  await waitFor(async () => (await answer()) === 'blue', { timeoutMs: 30_000, what: 'the first route' });
  const path = '/apis/networking.k8s.io/v1/namespaces/default/ingresses/bench';
  const latencies: number[] = [];
  let target: 'blue' | 'green' = 'green';
  for (let i = 0; i < changes; i++) {
    const started = performance.now();
    const res = await cluster.request('PATCH', path, {
      body: { spec: { rules: [{ host: 'bench.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: target, port: { number: 80 } } } }] } }] } },
      contentType: 'application/merge-patch+json',
    });
    if (res.status !== 200) throw new Error(`PATCH answered ${res.status}`);
    while ((await answer()) !== target) await new Promise((r) => setTimeout(r, 2));
    latencies.push(performance.now() - started);
    target = target === 'green' ? 'blue' : 'green';
    // Spaced out, so that each change is debounced on its own (a burst is another question).
    await new Promise((r) => setTimeout(r, 150));
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number): string => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(0);
  console.log(`API write → route live, ${changes} changes: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`);
} finally {
  await controller.stop();
  await cluster.stop();
  for (const up of Object.values(ups)) await up.close();
}
