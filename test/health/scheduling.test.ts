/** When probes are sent: jittered, never overlapping, never keeping the process alive. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Prober } from '../../src/health/prober.ts';
import { closedPort, cluster, healthCheck, startChecker, startProbeServer, table, within } from './builders.ts';

test('the first probes of 20 endpoints are spread over the interval', async (t) => {
  const servers = await Promise.all(Array.from({ length: 20 }, () => startProbeServer(t)));
  // Evenly spread draws: the test is about the checker using them, not about Math.random's luck.
  let draw = 0;
  const { checker } = startChecker(t, { random: () => ((draw++ * 7) % 20) / 20 });
  const started = performance.now();
  checker.update(table(cluster('shop/web:80', servers.map((s) => s.port), healthCheck({ intervalMs: 400, timeoutMs: 100 }))));
  await Promise.all(servers.map((s) => s.requests(1)));
  const offsets = servers.map((s) => (s.seen[0]?.at ?? 0) - started).sort((a, b) => a - b);
  const spread = (offsets.at(-1) ?? 0) - (offsets[0] ?? 0);
  assert.ok(spread > 100, `first probes within ${Math.round(spread)} ms of each other: ${offsets.map(Math.round).join(', ')}`);
  // Spread offsets leave no 50 ms slot holding most of them (a stalled event loop can bunch a few).
  const crowded = Math.max(...offsets.map((o) => offsets.filter((p) => p >= o && p < o + 50).length));
  assert.ok(crowded <= 15, `${crowded} of 20 first probes within 50 ms`);
  assert.ok((offsets.at(-1) ?? 0) < 400 + 200, 'every endpoint is probed within its first interval');
});

test('each period is the interval ± 10 %, start to start', async (t) => {
  // Start times as the prober itself measures them (end of a probe less its duration): where a
  // server sees arrivals, a slow connection set-up for one probe and a quick one for the next make
  // a gap look shorter than the prober ever waited.
  for (const [random, low] of [
    [0, 0.9],
    [0.999, 1.09],
  ] as const) {
    const server = await startProbeServer(t);
    const starts: number[] = [];
    const clock = { random: () => random, now: () => performance.now() };
    const prober = new Prober('127.0.0.1', server.port, healthCheck({ intervalMs: 100 }), {
      result: (_prober, _outcome, durationMs) => void starts.push(clock.now() - durationMs),
      transition: () => {},
    }, clock);
    t.after(() => prober.stop());
    prober.start();
    await server.requests(4);
    await within(2_000, 'the fourth probe to finish', (async () => {
      while (starts.length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    })());
    prober.stop();
    const gaps = starts.slice(1, 4).map((at, i) => at - (starts[i] ?? 0));
    const shown = `random ${random}: gaps ${gaps.map(Math.round).join(', ')} ms`;
    // Timers can be late on a loaded machine, never early (less a millisecond of timer rounding).
    for (const gap of gaps) assert.ok(gap >= 100 * low - 1.5, shown);
    // At least one period shows the draw: shorter than any period the other draw could give.
    if (random === 0) assert.ok(Math.min(...gaps) < 100 * 1.09, shown);
  }
});

test('a probe slower than the interval is never joined by the next one', async (t) => {
  const server = await startProbeServer(t);
  server.handler = (_req, res) => {
    setTimeout(() => res.end('slow'), 120);
  };
  const { checker, changes } = startChecker(t);
  checker.update(table(cluster('shop/web:80', [server.port], healthCheck({ intervalMs: 50, timeoutMs: 1_000, unhealthyThreshold: 1 }))));
  await server.requests(4);
  assert.equal(server.inFlight.max, 1);
  for (let i = 1; i < 4; i++) {
    assert.ok((server.seen[i]?.at ?? 0) >= (server.seen[i - 1]?.closedAt ?? Infinity), `probe ${i} started before probe ${i - 1} ended`);
  }
  assert.equal(changes.all.length, 0, 'slow but within its timeout: a pass');
});

test('probers never keep the process alive', async () => {
  const port = await closedPort();
  const module = fileURLToPath(new URL('../../src/health/active-health.ts', import.meta.url));
  const builders = fileURLToPath(new URL('./builders.ts', import.meta.url));
  const script = `
    import { Registry } from 'prom-client';
    import { ActiveHealthChecker } from ${JSON.stringify(module)};
    import { cluster, healthCheck, table, captureLog } from ${JSON.stringify(builders)};
    const checker = new ActiveHealthChecker({ log: captureLog().log, registry: new Registry(), onChange: () => {} });
    checker.update(table(cluster('shop/web:80', [${port}], healthCheck({ intervalMs: 50 }))));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await within(5_000, 'the child process to exit by itself', new Promise((resolve) => child.once('exit', resolve))).finally(() => child.kill());
  assert.equal(code, 0, stderr);
});
