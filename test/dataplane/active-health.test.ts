import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream } from '../helpers/upstreams.ts';

/** Polls `/metrics` until `pattern` matches (bounded), returning the text. */
async function waitForMetric(proxy: TestProxy, pattern: RegExp, timeoutMs = 8_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await (await request(`${proxy.admin}/metrics`)).body.text();
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`metric ${pattern} did not appear in time:\n${text.split('\n').filter((l) => l.includes('health')).join('\n')}`);
}

/** Polls `check` every 50 ms until it holds (bounded: then the test fails saying `what`). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not in ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('active health checks through the proxy', () => {
  it('takes a failing endpoint out of rotation in every worker and brings it back when it passes', async () => {
    let sickHealth = 200;
    const probedAt: number[] = [];
    const named = (name: string, healthStatus: () => number) => startUpstream(name, (req, res) => {
      req.resume();
      if (req.url === '/healthz') {
        if (name === 'sick') probedAt.push(Date.now());
        res.writeHead(healthStatus());
        res.end();
        return;
      }
      res.writeHead(200, { 'x-upstream': name });
      res.end(name);
    });
    const sick = await named('sick', () => sickHealth);
    const well = await named('well', () => 200);
    const dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('app', [{ port: sick.port }, { port: well.port }], 'default', {
        'signalbox.dev/health-check-path': '/healthz',
        'signalbox.dev/health-check-interval': '1s',
        'signalbox.dev/health-check-unhealthy-threshold': '1',
        'signalbox.dev/health-check-healthy-threshold': '1',
      }),
      ingress('app', null, [{ path: '/', service: 'app' }]),
    ]);
    const proxy = await startProxy(dir, { workers: 2 });
    const upstreamsOf = async (n: number): Promise<string[]> => {
      const seen: string[] = [];
      for (let i = 0; i < n; i++) {
        const res = await request(`${proxy.http}/`, { headers: { host: 'a.test' }, reset: true });
        await res.body.text();
        seen.push(res.headers['x-upstream'] as string);
      }
      return seen;
    };
    const sickGauge = new RegExp(`signalbox_endpoint_healthy\\{cluster="default/app:80",endpoint="127\\.0\\.0\\.1:${sick.port}"\\} `);
    try {
      await waitForMetric(proxy, new RegExp(`${sickGauge.source}1`));
      assert.ok((await upstreamsOf(10)).includes('sick'));

      sickHealth = 503;
      await waitForMetric(proxy, new RegExp(`${sickGauge.source}0`));
      // The verdict travels to the workers by message: wait until a round of fresh connections
      // (both workers answer) sees only the well endpoint, then check a longer run.
      await until(async () => !(await upstreamsOf(6)).includes('sick'), 'the workers stop sending to the failing endpoint');
      const during = await upstreamsOf(20);
      assert.deepEqual([...new Set(during)], ['well'], 'the failing endpoint gets no traffic');
      const probes = sick.seen.filter((s) => s.url === '/healthz');
      assert.equal(probes.length > 0 && probes.every((p) => p.headers['user-agent'] === 'signalbox-health-check'), true);

      sickHealth = 200;
      await waitForMetric(proxy, new RegExp(`${sickGauge.source}1`));
      await until(async () => (await upstreamsOf(10)).includes('sick'), 'the passing endpoint back in rotation');
      // One prober per endpoint for the process, not one per worker: probes start a full interval
      // (1 s, less 10% jitter) apart. Two probers would interleave, and some gap would be shorter.
      for (let i = 0; i < 60 && probedAt.length < 4; i++) await new Promise((r) => setTimeout(r, 100));
      const gaps = probedAt.slice(1).map((t, i) => t - probedAt[i]!);
      assert.ok(gaps.length >= 3 && Math.min(...gaps) >= 850, `gaps between probes with 2 workers: ${gaps.join(', ')} ms`);
    } finally {
      await proxy.stop();
      await sick.close();
      await well.close();
      await removeDir(dir);
    }
  });
});
