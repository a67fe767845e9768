/** update(): one prober per endpoint and check, shared by clusters, kept, replaced or stopped with the table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, endpoint, healthCheck, metricLabels, sleep, startChecker, startProbeServer, table } from './builders.ts';

test('two clusters with the same endpoint and check share one prober and its verdict', async (t) => {
  const server = await startProbeServer(t);
  const { checker, changes } = startChecker(t);
  const check = healthCheck({ intervalMs: 100, timeoutMs: 50, unhealthyThreshold: 2 });
  checker.update(table(cluster('shop/web:80', [server.port], check), cluster('shop/web-canary:80', [server.port], { ...check })));

  // One prober: one probe per interval (± 10 %). Two would put five probes within about two intervals.
  await server.requests(5);
  const [first, fifth] = [server.seen[0]?.at ?? 0, server.seen[4]?.at ?? 0];
  assert.ok(fifth - first >= 4 * 100 * 0.9 - 10, `five probes took ${Math.round(fifth - first)} ms: more than one prober`);
  assert.equal(server.inFlight.max, 1);

  server.status = 503;
  const down = await changes.next();
  assert.deepEqual([...down].sort(), [`shop/web-canary:80|127.0.0.1|${server.port}`, `shop/web:80|127.0.0.1|${server.port}`]);
  assert.equal(changes.all.length, 1, 'one verdict, one change');
  assert.deepEqual([...checker.unhealthy()].sort(), [...down].sort());
});

test('clusters with different checks of one endpoint get probers and verdicts of their own', async (t) => {
  const server = await startProbeServer(t);
  server.handler = (req, res) => {
    res.writeHead(req.url === '/deep' ? 503 : 200);
    res.end();
  };
  const { checker, changes } = startChecker(t);
  checker.update(
    table(
      cluster('shop/web:80', [server.port], healthCheck({ path: '/healthz', unhealthyThreshold: 1 })),
      cluster('shop/web-deep:80', [server.port], healthCheck({ path: '/deep', unhealthyThreshold: 1 })),
    ),
  );
  assert.deepEqual([...(await changes.next())], [`shop/web-deep:80|127.0.0.1|${server.port}`]);
  await server.until('three probes of /healthz', () => server.seen.filter((s) => s.url === '/healthz').length >= 3);
  assert.equal(changes.all.length, 1);
});

test('update() with an unchanged table changes nothing: probers, schedules and verdicts are kept', async (t) => {
  const server = await startProbeServer(t);
  server.status = 503;
  const { checker, changes } = startChecker(t);
  const build = (): ReturnType<typeof table> => table(cluster('shop/web:80', [server.port], healthCheck({ intervalMs: 100, unhealthyThreshold: 1 })));
  checker.update(build());
  await changes.next();

  const same = build();
  checker.update(same);
  checker.update(same);
  checker.update(build()); // equal, not identical
  // Other clusters coming and going leave this prober alone too.
  checker.update(table(...Object.values(build().clusters), cluster('shop/other:80', [1], null)));
  const start = server.seen.length;
  await server.requests(start + 4);
  const arrivals = server.seen.slice(start - 1).map((s) => s.at);
  for (let i = 1; i < arrivals.length; i++) {
    assert.ok((arrivals[i] ?? 0) - (arrivals[i - 1] ?? 0) >= 100 * 0.9 - 8, 'still a single prober on its own schedule');
  }
  assert.equal(changes.all.length, 1, 'no change: the verdict survived the updates');
  assert.equal(checker.unhealthy().size, 1);
});

test('a changed check replaces the prober, which starts healthy', async (t) => {
  const server = await startProbeServer(t);
  server.status = 503;
  const { checker, changes } = startChecker(t);
  checker.update(table(cluster('shop/web:80', [server.port], healthCheck({ unhealthyThreshold: 1 }))));
  assert.equal((await changes.next()).size, 1);
  checker.update(table(cluster('shop/web:80', [server.port], healthCheck({ unhealthyThreshold: 3 }))));
  assert.equal((await changes.next()).size, 0, 'the new prober starts healthy');
  assert.equal((await changes.next()).size, 1, 'and judges by its own threshold');
});

test('update() without an endpoint stops its probes and drops it from unhealthy()', async (t) => {
  const leaving = await startProbeServer(t);
  const staying = await startProbeServer(t);
  leaving.status = 503;
  const { checker, changes, registry } = startChecker(t);
  const check = healthCheck({ unhealthyThreshold: 1 });
  checker.update(table(cluster('shop/web:80', [leaving.port, staying.port], check)));
  assert.deepEqual([...(await changes.next())], [`shop/web:80|127.0.0.1|${leaving.port}`]);

  checker.update(table(cluster('shop/web:80', [staying.port], check)));
  assert.deepEqual([...(await changes.next(0))], [], 'onChange is called within update()');
  assert.equal(checker.unhealthy().size, 0);
  const seen = leaving.seen.length;
  // Four more intervals, measured by the endpoint that stays.
  await staying.requests(staying.seen.length + 4);
  assert.equal(leaving.seen.length, seen, 'no probe reached the removed endpoint');
  assert.deepEqual(await metricLabels(registry, 'signalbox_endpoint_healthy'), [{ cluster: 'shop/web:80', endpoint: `127.0.0.1:${staying.port}` }]);
});

test('a cluster that leaves drops its keys but not the verdict it shared', async (t) => {
  const server = await startProbeServer(t);
  server.status = 503;
  const { checker, changes } = startChecker(t);
  const check = healthCheck({ unhealthyThreshold: 1 });
  checker.update(table(cluster('shop/web:80', [server.port], check), cluster('shop/web-canary:80', [server.port], check)));
  assert.equal((await changes.next()).size, 2);
  checker.update(table(cluster('shop/web:80', [server.port], check)));
  assert.deepEqual([...(await changes.next(0))], [`shop/web:80|127.0.0.1|${server.port}`]);
});

test('an IPv6 endpoint is keyed without brackets and labelled with them', async (t) => {
  const server = await startProbeServer(t, '::1').catch(() => null);
  if (server === null) return t.skip('no IPv6 loopback here');
  server.status = 503;
  const { checker, changes, registry } = startChecker(t);
  checker.update(table(cluster('shop/web:80', [endpoint('::1', server.port)], healthCheck({ unhealthyThreshold: 1 }))));
  assert.deepEqual([...(await changes.next())], [`shop/web:80|::1|${server.port}`]);
  assert.deepEqual(await metricLabels(registry, 'signalbox_endpoint_healthy'), [{ cluster: 'shop/web:80', endpoint: `[::1]:${server.port}` }]);
});

test('stop() ends every prober, aborting probes in flight', async (t) => {
  const server = await startProbeServer(t);
  server.handler = () => {};
  const { checker } = startChecker(t);
  checker.update(table(cluster('shop/web:80', [server.port], healthCheck({ timeoutMs: 10_000 }))));
  await server.requests(1);
  checker.stop();
  await server.closed(1, 1_000);
  checker.update(table(cluster('shop/web:80', [server.port], healthCheck())));
  await sleep(200); // asserting an absence: four intervals
  assert.equal(server.seen.length, 1);
  assert.equal(checker.unhealthy().size, 0);
});
