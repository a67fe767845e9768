/**
 * examples/request-pausing end to end: the example's own manifests and demo servers, a real proxy
 * under steady load, and the edits the demo makes — a deploy that moves orders to a new port, the
 * operator's maintenance pause, a tenant's move — with no request failing. Also compiles the
 * manifests with the CLI, so the example cannot rot unnoticed.
 */
import { scriptsOf } from '../../src/model/route-parts.ts';
import type { RoutingTable } from '../../src/model/table.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { copyManifests, setMaintenance, setOrdersEndpoint, setTenantMove, startPausingBackends, type DemoAnswer, type DemoServer, type PausingBackends } from '../../examples/request-pausing/backends.ts';
import { steadyLoad, type SteadyLoad } from '../helpers/load.ts';
import { removeDir, tempManifestDir } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FREE_PORTS: Record<DemoServer, number> = { orders: 0, 'tenants-a': 0, 'tenants-b': 0, admin: 0 };
const HOST = 'orders.example.com';

/** What a client saw: the demo server that answered, else `status reason`. */
const seen = (load: SteadyLoad): string[] =>
  load.results.map((r) => (r.status === 200 ? (JSON.parse(r.body) as DemoAnswer).backend : `${r.status} ${String(r.headers['x-signalbox-error'] ?? r.body)}`));

/** The outcomes that are not an answer from a demo server. */
const failures = (answers: readonly string[]): string[] => answers.filter((w) => !/^(orders|tenants|admin)/.test(w));

/** Polls `check` every 25 ms until it holds (bounded: then the test fails saying `what`). */
async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not in ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** How many requests a pause gate holds now. */
const held = (proxy: TestProxy, kind: string, gate: string): Promise<number> =>
  metric(proxy, new RegExp(`signalbox_pause_held_requests\\{kind="${kind}",gate="${gate}"\\} (\\d+)`));

describe('examples/request-pausing', () => {
  let backends: PausingBackends;
  let dir: string;
  let proxy: TestProxy;
  before(async () => {
    backends = await startPausingBackends({ ports: FREE_PORTS });
    dir = await tempManifestDir();
    await copyManifests(dir, backends.ports);
    proxy = await startProxy(dir);
  });
  after(async () => {
    await proxy.stop();
    await backends.close();
    await removeDir(dir);
  });

  /** Applies a manifest edit and waits until the worker serves it. */
  const live = async (edit: () => Promise<void>): Promise<void> => {
    const next = proxy.nextTable();
    await edit();
    await next;
  };

  it('compiles with the CLI without error diagnostics, each script on its path', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'signalbox.js'), 'compile', '--in', join(root, 'examples', 'request-pausing', 'manifests'), '-o', 'json'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { table: RoutingTable; diagnostics: { severity: string }[] };
    assert.deepEqual(out.diagnostics.filter((d) => d.severity === 'error'), []);
    const scripts = Object.fromEntries(out.table.virtualHosts.flatMap((v) => v.routes.map((r) => [r.match.path.value, scriptsOf(r)[0] ?? null])));
    assert.deepEqual(scripts, { '/': null, '/tenants': 'shop/tenants', '/admin': 'shop/maintenance' });
  });

  it('holds orders while its EndpointSlice is empty and sends them to the new pod on its new port: none fails', async () => {
    const load = steadyLoad(proxy, HOST, '/orders/42', 8);
    await until(() => load.results.length >= 16, 'orders served before the deploy');
    await live(() => setOrdersEndpoint(dir, null));
    // Only once no request can go to it any more: the old pod finishes what it has and stops.
    await backends.stopOrders();
    await until(async () => (await held(proxy, 'no-endpoint', 'shop/orders:80')) === 8, 'every client held during the outage');
    const heldDuringOutage = await held(proxy, 'no-endpoint', 'shop/orders:80');
    const port = await backends.startOrders(0);
    await live(() => setOrdersEndpoint(dir, port));
    await until(async () => seen(load).filter((b) => b === 'orders-2').length > 16, 'the new pod serves');
    await load.stop();
    assert.deepEqual(failures(seen(load)), []);
    assert.equal(heldDuringOutage, 8, 'every client was held during the outage');
    assert.ok(seen(load).filter((b) => b === 'orders-2').length > 8, 'the new pod served the backlog and after');
    assert.equal(await held(proxy, 'no-endpoint', 'shop/orders:80'), 0);
  });

  it('holds every /admin request while the operator\'s pause is on, and releases them when it is off', async () => {
    const load = steadyLoad(proxy, HOST, '/admin/reports', 4);
    await until(() => load.results.length >= 8, '/admin served before the pause');
    await live(() => setMaintenance(dir, true));
    // Requests already past the pause when the table changed may still finish; then every client waits.
    await until(async () => (await held(proxy, 'operator', 'shop/maintenance')) === 4, 'every /admin client held');
    const answered = load.results.length;
    assert.equal(await held(proxy, 'operator', 'shop/maintenance'), 4);
    assert.equal(load.results.length, answered, 'nothing answered while paused');
    await live(() => setMaintenance(dir, false));
    await until(() => load.results.length > answered + 8, 'the held requests and later ones answered');
    await load.stop();
    assert.deepEqual(failures(seen(load)), []);
    assert.ok(load.results.length > answered + 4, 'the held requests and later ones were answered');
  });

  it('holds a moving tenant, serves the others, then sends the moved tenant to its new shard', async () => {
    const acme = steadyLoad(proxy, HOST, '/tenants/acme/cart', 4);
    const globex = steadyLoad(proxy, HOST, '/tenants/globex/cart', 2);
    await until(() => acme.results.length >= 8 && globex.results.length >= 4, 'both tenants served before the move');
    const beforeMove = acme.results.length;
    await live(() => setTenantMove(dir, 'acme', null));
    // Requests that ran the script before the change may still finish on the old shard; then every
    // client of the moving tenant waits.
    await until(async () => (await held(proxy, 'script', 'shop/tenants')) === 4, 'every client of the moving tenant held');
    const whileMoving = acme.results.length;
    const globexBefore = globex.results.length;
    await until(() => globex.results.length > globexBefore + 4, 'the other tenant served meanwhile');
    assert.equal(acme.results.length, whileMoving, 'the moving tenant waits');
    assert.equal(await held(proxy, 'script', 'shop/tenants'), 4);
    await live(() => setTenantMove(dir, 'acme', 'shard-b'));
    await until(() => acme.results.length >= whileMoving + 8, 'the moved tenant served on its new shard');
    await Promise.all([acme.stop(), globex.stop()]);
    assert.deepEqual([...failures(seen(acme)), ...failures(seen(globex))], []);
    assert.ok(beforeMove > 0 && acme.results.length >= whileMoving + 4);
    assert.deepEqual(new Set(seen(acme).slice(0, beforeMove)), new Set(['tenants-a']), 'the old shard before the move');
    assert.deepEqual(new Set(seen(acme).slice(whileMoving)), new Set(['tenants-b']), 'the held requests and later ones: the new shard only');
    assert.deepEqual(new Set(seen(globex)), new Set(['tenants-b']));
  });
});
