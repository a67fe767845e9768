/** The health-check metrics, as a Prometheus scrape (aggregated like the admin server does) shows them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregatorRegistry } from 'prom-client';
import { cluster, healthCheck, metricLabels, metricValue, startChecker, startProbeServer, table } from './builders.ts';

const HEALTHY = 'signalbox_endpoint_healthy';
const CHECKS = 'signalbox_health_checks_total';
const DURATION = 'signalbox_health_check_duration_seconds';

test('the healthy gauge, check counters and duration histogram follow the probes, per cluster', async (t) => {
  const server = await startProbeServer(t);
  let atChange = { passes: 0, fails: 0 };
  const { checker, changes, registry } = startChecker(t, { snapshot: () => (atChange = { passes: server.answered(200), fails: server.answered(503) }) });
  // A probe the server answered but that timed out on a loaded machine would count as a fail, not the
  // pass the server logged: the timeout leaves room for that.
  const check = healthCheck({ intervalMs: 100, timeoutMs: 1_000, unhealthyThreshold: 2 });
  checker.update(table(cluster('shop/web:80', [server.port], check), cluster('shop/web-canary:80', [server.port], check)));
  const endpoint = `127.0.0.1:${server.port}`;

  for (const name of ['shop/web:80', 'shop/web-canary:80']) {
    assert.equal(await metricValue(registry, HEALTHY, { cluster: name, endpoint }), 1, 'a new endpoint is healthy');
    assert.equal(await metricValue(registry, CHECKS, { cluster: name, result: 'fail' }), 0, 'series exist from the start');
  }
  await server.requests(3);
  server.status = 503;
  await changes.next();
  for (const name of ['shop/web:80', 'shop/web-canary:80']) {
    assert.equal(await metricValue(registry, HEALTHY, { cluster: name, endpoint }), 0);
    // The shared probe counts for each cluster it decides for.
    assert.equal(await metricValue(registry, CHECKS, { cluster: name, result: 'pass' }), atChange.passes);
    assert.equal(await metricValue(registry, CHECKS, { cluster: name, result: 'fail' }), atChange.fails);
    assert.equal(await metricValue(registry, DURATION, { cluster: name }, `${DURATION}_count`), atChange.passes + atChange.fails);
  }
  assert.equal(atChange.fails, 2);

  checker.update(table(cluster('shop/web:80', [server.port], check)));
  assert.deepEqual(await metricLabels(registry, HEALTHY), [{ cluster: 'shop/web:80', endpoint }], 'the departed cluster has no gauge series');
  assert.deepEqual(
    (await metricLabels(registry, CHECKS)).map((l) => l.cluster),
    ['shop/web:80', 'shop/web:80'],
    'nor counters',
  );

  checker.stop();
  assert.deepEqual(await metricLabels(registry, HEALTHY), [], 'stopped: no endpoint is checked any more');
});

test('aggregated with copies from elsewhere, the gauge keeps the lowest value', async (t) => {
  const server = await startProbeServer(t);
  server.status = 503;
  const failing = startChecker(t);
  const passing = startChecker(t);
  const check = healthCheck({ unhealthyThreshold: 1 });
  failing.checker.update(table(cluster('shop/web:80', [server.port], check)));
  await failing.changes.next();
  passing.checker.update(table(cluster('shop/web:80', [server.port], healthCheck({ ...check, path: '/other' }))));

  const merged = AggregatorRegistry.aggregate([await failing.registry.getMetricsAsJSON(), await passing.registry.getMetricsAsJSON()]);
  const text = await merged.metrics();
  assert.match(text, new RegExp(`^${HEALTHY}\\{cluster="shop/web:80",endpoint="127.0.0.1:${server.port}"\\} 0$`, 'm'));
});
