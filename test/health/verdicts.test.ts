/** What makes an endpoint unhealthy and healthy again, as the data plane and the operator see it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closedPort, cluster, healthCheck, startChecker, startProbeServer, table } from './builders.ts';

test('an endpoint that starts failing goes unhealthy after unhealthyThreshold failures, and back after healthyThreshold passes', async (t) => {
  const server = await startProbeServer(t);
  let atChange = { fails: 0, passes: 0 };
  const { checker, changes, lines } = startChecker(t, { snapshot: () => (atChange = { fails: server.answered(503), passes: server.answered(200) }) });
  checker.update(table(cluster('shop/web:80', [server.port], healthCheck({ healthyThreshold: 2, unhealthyThreshold: 3 }))));
  const key = `shop/web:80|127.0.0.1|${server.port}`;

  await server.requests(2);
  server.status = 503;
  assert.deepEqual([...(await changes.next())], [key]);
  assert.equal(atChange.fails, 3, 'unhealthy at the third failure, not before');
  assert.deepEqual([...checker.unhealthy()], [key]);

  const passesBefore = server.answered(200);
  server.status = 200;
  assert.deepEqual([...(await changes.next())], []);
  assert.equal(atChange.passes - passesBefore, 2, 'healthy again at the second pass, not before');
  assert.equal(checker.unhealthy().size, 0);
  assert.equal(changes.all.length, 2, 'onChange is called only when the set changes');

  const warns = lines.filter((l) => l.level === 40);
  const infos = lines.filter((l) => l.level === 30);
  assert.equal(warns.length, 1, 'one warning for the transition, none for the failures around it');
  assert.equal(infos.length, 1);
  assert.deepEqual(
    [warns[0], infos[0]].map((l) => ({ cluster: l?.cluster, endpoint: l?.endpoint, reason: l?.reason })),
    [
      { cluster: 'shop/web:80', endpoint: `127.0.0.1:${server.port}`, reason: 'status 503' },
      { cluster: 'shop/web:80', endpoint: `127.0.0.1:${server.port}`, reason: 'status 200' },
    ],
  );
});

test('statuses inside the expected ranges pass, whatever they are', async (t) => {
  const server = await startProbeServer(t);
  server.status = 404;
  const { checker, changes } = startChecker(t);
  checker.update(table(cluster('shop/web:80', [server.port], healthCheck({ unhealthyThreshold: 1, timeoutMs: 2_000, expectedStatuses: [[200, 299], [404, 404]] }))));
  // A probe starts only once the previous one has been judged: five arrivals, four 404s judged. The
  // timeout is far from the 50 ms interval: a probe slowed by a loaded machine must not fail here.
  await server.requests(5);
  assert.equal(changes.all.length, 0, '404 is expected here');
  assert.equal(checker.unhealthy().size, 0);

  server.status = 302; // a pass by default, not with these ranges
  assert.deepEqual([...(await changes.next())], [`shop/web:80|127.0.0.1|${server.port}`]);
});

test('a probe that hangs past timeoutMs is a failure, and its connection is closed', async (t) => {
  const server = await startProbeServer(t);
  server.handler = () => {}; // accepts, never answers
  const { checker, changes, lines } = startChecker(t);
  checker.update(table(cluster('shop/web:80', [server.port], healthCheck({ intervalMs: 60, timeoutMs: 30, unhealthyThreshold: 2 }))));
  assert.deepEqual([...(await changes.next())], [`shop/web:80|127.0.0.1|${server.port}`]);
  assert.equal(lines.find((l) => l.level === 40)?.reason, 'timeout');
  await server.closed(2);
  assert.equal(server.inFlight.max, 1, 'a hung probe is never joined by the next one');
});

test('a refused connection is a failure', async (t) => {
  const port = await closedPort();
  const { checker, changes, lines } = startChecker(t);
  checker.update(table(cluster('shop/web:80', [port], healthCheck({ unhealthyThreshold: 2 }))));
  assert.deepEqual([...(await changes.next())], [`shop/web:80|127.0.0.1|${port}`]);
  assert.equal(lines.find((l) => l.level === 40)?.reason, 'ECONNREFUSED');
});

test('only the failing endpoint of a cluster goes unhealthy', async (t) => {
  const good = await startProbeServer(t);
  const bad = await startProbeServer(t);
  bad.status = 500;
  const { checker, changes } = startChecker(t);
  checker.update(table(cluster('shop/web:80', [good.port, bad.port], healthCheck({ unhealthyThreshold: 2 }))));
  assert.deepEqual([...(await changes.next())], [`shop/web:80|127.0.0.1|${bad.port}`]);
});

test('endpoints that get no traffic are not probed; terminating ones that still serve are', async (t) => {
  const gone = await startProbeServer(t);
  const draining = await startProbeServer(t);
  const { checker } = startChecker(t);
  checker.update(
    table(
      cluster(
        'shop/web:80',
        [
          { address: '127.0.0.1', port: gone.port, weight: 1, ready: false, serving: false, terminating: true, provenance: 'x' },
          { address: '127.0.0.1', port: draining.port, weight: 1, ready: false, serving: true, terminating: true, provenance: 'y' },
        ],
        healthCheck(),
      ),
    ),
  );
  await draining.requests(3);
  assert.equal(gone.seen.length, 0);
});

test('clusters without a health check are not probed', async (t) => {
  const server = await startProbeServer(t);
  const checked = await startProbeServer(t);
  const { checker } = startChecker(t);
  checker.update(table(cluster('shop/web:80', [server.port], null), cluster('shop/api:80', [checked.port], healthCheck())));
  await checked.requests(3);
  assert.equal(server.seen.length, 0);
});
