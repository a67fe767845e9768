/**
 * The Gateway API between a real kube-apiserver and the compile: without its CRDs the controller
 * serves Ingresses as ever and says once that the Gateway API is off; CRDs installed while it runs
 * are watched within one recheck, without a restart; and the status writer, given statuses as the
 * compile makes them, puts exactly the Gateway API's status on a GatewayClass, a Gateway and an
 * HTTPRoute — keeping another controller's parents entry, the lastTransitionTime of an unchanged
 * condition, stamping every condition with the object's generation, and never writing over a
 * status that changed since its cached copy (resourceVersion).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { compile } from '../src/compile/compile.ts';
import { snapshotFromObjects } from '../src/compile/snapshot-from-objects.ts';
import { GatewayBundleVersion } from '../src/controller/gateway-bundle-version.ts';
import { StatusWriter } from '../src/controller/status-writer.ts';
import { conditionTime } from '../src/controller/written-conditions.ts';
import { KubeApi } from '../src/k8s/kube-api.ts';
import { KubeSource } from '../src/k8s/kube-source.ts';
import { WATCHED } from '../src/k8s/resources.ts';
import { createLogger } from '../src/log.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../src/model/snapshot.ts';
import type { CompileResult, Condition, ObjectStatus } from '../src/model/table.ts';
import { deadPort, startUpstream, type TestUpstream } from '../test/helpers/upstreams.ts';
import { startCluster, type TestCluster } from './harness/cluster.ts';
import { startController, type RunningController } from './harness/controller.ts';
import { apply, createServiceWithEndpoints, get, ingress, ingressClass, patch, waitFor, type KubeObject } from './harness/objects.ts';

const REPO = join(import.meta.dirname, '..');
const GATEWAY_CRDS = join(REPO, 'crds/gateway-api/standard-v1.6.3.yaml');
const SAFE_UPGRADES = join(REPO, 'crds/gateway-api/safe-upgrades-v1.6.3.yaml');
const GROUP = 'gateway.networking.k8s.io';
/**
 * The controllerName of the writer test: not the running controller's, so that the two never
 * write the same entries (the running one drops its own entries from routes its compile does not list).
 */
const WRITER = 'e2e.signalbox.dev/writer-test';
const FOREIGN = 'example.com/other-controller';
/** The writer test's published address: not the running controller's, whose Ingress status it must leave alone. */
const WRITER_ADDRESS = '198.51.100.9';

async function fetchVia(controller: RunningController, host: string): Promise<{ status: number; body: string }> {
  const res = await request(`${controller.http}/`, { headers: { host }, headersTimeout: 5_000, bodyTimeout: 5_000 });
  return { status: res.statusCode, body: await res.body.text() };
}

/** `signalbox_kube_cached_objects` by kind, from the controller's /metrics. */
async function cachedObjects(controller: RunningController): Promise<Map<string, number>> {
  const res = await request(`${controller.admin}/metrics`);
  const text = await res.body.text();
  return new Map([...text.matchAll(/^signalbox_kube_cached_objects\{kind="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

const accepted: Condition = { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted by signalbox.' };

/** A condition as read back, without its time (checked on its own). */
function timeless(conditions: unknown): unknown[] {
  return (conditions as Record<string, unknown>[]).map(({ lastTransitionTime, ...rest }) => {
    assert.match(String(lastTransitionTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    return rest;
  });
}

describe('the Gateway API against a real API server', () => {
  let cluster: TestCluster;
  let controller: RunningController;
  let blue: TestUpstream;

  before(async () => {
    // crds/ holds the RouteScript CRD only at its top; the Gateway API's are installed by a test.
    cluster = await startCluster();
    blue = await startUpstream('blue');
    await apply(cluster, [ingressClass()]);
    await createServiceWithEndpoints(cluster, 'blue', blue.port);
    controller = await startController(cluster.kubeconfigPath, ['--publish-address', '203.0.113.7', '--election-namespace', 'default', '--gateway-api-recheck', '1s']);
    await waitFor(() => controller.ready(), { timeoutMs: 30_000, what: 'the controller to be ready' });
  }, { timeout: 240_000 });

  after(async () => {
    await controller?.stop();
    await cluster?.stop();
    await blue?.close();
  });

  test('without the Gateway API CRDs an Ingress is served, and the controller says once that the Gateway API is off', async () => {
    await apply(cluster, [ingress('app', 'app.test', [{ path: '/', service: 'blue' }])]);
    await waitFor(async () => {
      const res = await fetchVia(controller, 'app.test').catch(() => null);
      return res?.status === 200 && res.body.startsWith('blue');
    }, { timeoutMs: 15_000, what: 'app.test to be served by blue' });
    // Several rechecks have passed by now (one a second): the line is still there once only.
    await waitFor(async () => (await get(cluster, 'ingress', 'app', 'default'))?.status !== undefined, { what: 'the Ingress status' });
    assert.equal(count(controller.stderr(), 'the Gateway API is off'), 1, controller.stderr());
    const cached = await cachedObjects(controller);
    assert.equal(cached.get('Ingress'), 1);
    assert.ok(!cached.has('Gateway') && !cached.has('Namespace'), 'neither Gateways nor Namespaces are watched');
  });

  test('CRDs installed at runtime are watched without a restart (and Namespaces with them); Ingresses are served throughout', async () => {
    const pid = controller.child.pid;
    // The CRDs are too large for client-side apply's last-applied annotation.
    for (const file of [GATEWAY_CRDS, SAFE_UPGRADES]) {
      const applied = await cluster.kubectl(['apply', '--server-side', '-f', file]);
      assert.equal(applied.status, 0, applied.stderr);
    }
    const established = await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', GATEWAY_CRDS]);
    assert.equal(established.status, 0, established.stderr);
    await waitFor(async () => {
      const served = await cluster.kubectl(['api-resources', '--api-group', GROUP, '-o', 'name']);
      return served.status === 0 && served.stdout.includes(`gateways.${GROUP}`) && served.stdout.includes(`httproutes.${GROUP}`);
    }, { what: 'discovery of the Gateway API' });
    await apply(cluster, [
      { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: 'signalbox' }, spec: { controllerName: 'signalbox.dev/gateway-controller' } },
      { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'edge', namespace: 'default' }, spec: { gatewayClassName: 'signalbox', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
    ]);
    const cached = await waitFor(async () => {
      const counts = await cachedObjects(controller);
      return counts.get('Gateway') === 1 && counts.get('GatewayClass') === 1 ? counts : null;
    }, { timeoutMs: 20_000, what: 'the controller to cache the Gateway and its GatewayClass' });
    assert.ok((cached.get('Namespace') ?? 0) >= 1, 'Namespaces are watched with the Gateway API');
    assert.equal(cached.get('HTTPRoute'), 0);
    assert.equal(controller.child.pid, pid);
    assert.equal(count(controller.stderr(), 'the Gateway API is served: watching it'), 1);
    assert.equal((await fetchVia(controller, 'app.test')).body.slice(0, 4), 'blue');
  });

  test('the status writer: exact statuses on a GatewayClass, a Gateway and an HTTPRoute, another controller\'s parents entry kept', async () => {
    await apply(cluster, [
      { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: 'writer-test' }, spec: { controllerName: WRITER } },
      { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'web', namespace: 'default' }, spec: { gatewayClassName: 'writer-test', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
      {
        apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name: 'shop', namespace: 'default' },
        spec: { parentRefs: [{ name: 'web' }, { name: 'theirs' }], hostnames: ['shop.test'], rules: [{ backendRefs: [{ name: 'blue', port: 80 }] }] },
      },
    ]);
    const foreign = {
      parentRef: { group: GROUP, kind: 'Gateway', namespace: 'default', name: 'theirs' },
      controllerName: FOREIGN,
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Taken by the other controller.', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }],
    };
    await patch(cluster, `httproutes.${GROUP}`, 'shop', { status: { parents: [foreign] } }, { namespace: 'default', subresource: 'status' });

    const api = KubeApi.load(cluster.kubeconfigPath);
    const log = createLogger({ level: 'silent' });
    const source = new KubeSource(api, null, log, undefined, WATCHED, [], [], {});
    try {
      await source.load();
      const bundle = new GatewayBundleVersion(api, log);
      await bundle.refresh();
      assert.equal(bundle.version, 'v1.6.3');
      const writer = new StatusWriter(api, { get: (k, ns, n) => source.get(k, ns, n), list: (k) => source.list(k), scriptStatuses: () => new Map() }, { publishAddresses: [WRITER_ADDRESS] }, log, { controllerName: WRITER, supportedVersion: () => bundle.condition() });
      writer.setLeading(true);
      await waitFor(() => (source.get('HTTPRoute', 'default', 'shop') as { status?: { parents?: unknown[] } } | undefined)?.status?.parents?.length === 1, { what: 'the cache to hold the route with the foreign entry' });

      const empty = compile(snapshotFromObjects([]).snapshot, DEFAULT_COMPILE_OPTIONS);
      const routeParent = (conditions: readonly Condition[]) => ({ parentRef: { group: GROUP, kind: 'Gateway', namespace: 'default', name: 'web' }, conditions });
      const statuses = (route: readonly Condition[] | null): ObjectStatus[] => [
        { kind: 'GatewayClass', namespace: '', name: 'writer-test', generation: 1, conditions: [accepted] },
        {
          kind: 'Gateway', namespace: 'default', name: 'web', generation: 1,
          conditions: [accepted, { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'Programmed in the data plane.' }],
          listeners: [{ name: 'http', supportedKinds: [{ group: GROUP, kind: 'HTTPRoute' }, { group: GROUP, kind: 'GRPCRoute' }], attachedRoutes: 1, conditions: [accepted] }],
        },
        ...(route === null ? [] : [{ kind: 'HTTPRoute', namespace: 'default', name: 'shop', generation: 1, conditions: [], parents: [routeParent(route)] }]),
      ];
      const result = (s: ObjectStatus[]): CompileResult => ({
        ...empty,
        statuses: s,
        diagnostics: [{ kind: 'HTTPRoute', namespace: 'default', name: 'shop', code: 'BackendNotFound', severity: 'warning', message: 'e2e: a diagnostic on an HTTPRoute' }],
      });
      const resolved: Condition = { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All references resolved.' };
      writer.update(result(statuses([accepted, resolved])), null);
      await writer.sync();

      const gatewayClass = await get(cluster, `gatewayclasses.${GROUP}`, 'writer-test');
      assert.deepEqual(timeless((gatewayClass!.status as { conditions: unknown }).conditions), [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted by signalbox.', observedGeneration: 1 },
        { type: 'SupportedVersion', status: 'True', reason: 'SupportedVersion', message: 'The Gateway API CRDs are v1.6.3; signalbox supports v1.6.x.', observedGeneration: 1 },
      ]);
      const gateway = (await get(cluster, `gateways.${GROUP}`, 'web', 'default'))!.status as { conditions: unknown; listeners: { conditions: unknown }[]; addresses: unknown };
      assert.deepEqual(timeless(gateway.conditions), [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted by signalbox.', observedGeneration: 1 },
        { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'Programmed in the data plane.', observedGeneration: 1 },
      ]);
      assert.deepEqual(gateway.addresses, [{ type: 'IPAddress', value: WRITER_ADDRESS }]);
      assert.deepEqual(gateway.listeners.map(({ conditions, ...rest }) => ({ ...rest, conditions: timeless(conditions) })), [{
        name: 'http',
        supportedKinds: [{ group: GROUP, kind: 'HTTPRoute' }, { group: GROUP, kind: 'GRPCRoute' }],
        attachedRoutes: 1,
        conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted by signalbox.', observedGeneration: 1 }],
      }]);
      const route = (await get(cluster, `httproutes.${GROUP}`, 'shop', 'default'))!;
      const parents = (route.status as { parents: { controllerName: string; conditions: { lastTransitionTime: string }[] }[] }).parents;
      assert.deepEqual(parents[0], foreign, 'the other controller\'s entry is untouched');
      assert.deepEqual({ ...parents[1], conditions: timeless(parents[1]!.conditions) }, {
        parentRef: { group: GROUP, kind: 'Gateway', namespace: 'default', name: 'web' },
        controllerName: WRITER,
        conditions: [
          { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted by signalbox.', observedGeneration: 1 },
          { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All references resolved.', observedGeneration: 1 },
        ],
      });
      const firstTime = parents[1]!.conditions[0]!.lastTransitionTime;
      const events = JSON.parse((await cluster.kubectl(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.kind=HTTPRoute,involvedObject.name=shop', '-o', 'json'])).stdout) as { items: { reason: string; type: string; message: string }[] };
      assert.deepEqual(events.items.map((e) => [e.type, e.reason, e.message]), [['Warning', 'BackendNotFound', 'e2e: a diagnostic on an HTTPRoute']]);

      // Nothing changed: nothing is written.
      const writes = writer.writes;
      await writer.sync();
      assert.equal(writer.writes, writes);

      // A new generation of the route, ResolvedRefs now False, and meanwhile the other controller
      // rewrote its entry: Accepted keeps its time and gets generation 2, ResolvedRefs moves, and the
      // other controller's new entry is kept as it now is.
      await waitFor(() => conditionTime() !== firstTime, { what: 'the next second' });
      await patch(cluster, `httproutes.${GROUP}`, 'shop', { spec: { hostnames: ['shop.test', 'www.shop.test'] } }, { namespace: 'default' });
      const rewritten = { ...foreign, conditions: [{ ...foreign.conditions[0]!, message: 'Still taken.', observedGeneration: 2 }] };
      const current = (await get(cluster, `httproutes.${GROUP}`, 'shop', 'default'))!;
      const theirs = (current.status as { parents: unknown[] }).parents.map((p) => ((p as { controllerName: string }).controllerName === FOREIGN ? rewritten : p));
      await patch(cluster, `httproutes.${GROUP}`, 'shop', { status: { parents: theirs } }, { namespace: 'default', subresource: 'status' });
      await waitFor(() => {
        const cachedRoute = source.get('HTTPRoute', 'default', 'shop') as KubeObject & { status?: { parents?: { conditions: { message: string }[] }[] } } | undefined;
        return (cachedRoute?.metadata as { generation?: number } | undefined)?.generation === 2 && cachedRoute?.status?.parents?.[0]?.conditions[0]?.message === 'Still taken.';
      }, { what: 'the cache to see generation 2 and the rewritten foreign entry' });
      writer.update(result(statuses([accepted, { ...resolved, status: 'False', reason: 'BackendNotFound', message: 'Service default/missing not found.' }])), null);
      await writer.sync();
      const after2 = (await get(cluster, `httproutes.${GROUP}`, 'shop', 'default'))!.status as { parents: { controllerName: string; conditions: { type: string; status: string; observedGeneration: number; lastTransitionTime: string }[] }[] };
      assert.deepEqual(after2.parents[0], rewritten);
      const ours = after2.parents[1]!;
      assert.equal(ours.controllerName, WRITER);
      assert.deepEqual(ours.conditions.map((c) => [c.type, c.status, c.observedGeneration, c.lastTransitionTime === firstTime]), [
        ['Accepted', 'True', 2, true],
        ['ResolvedRefs', 'False', 2, false],
      ]);

      // The compile lists the route no more (its parent is no longer ours): only our entry goes.
      await waitFor(() => ((source.get('HTTPRoute', 'default', 'shop') as { status?: { parents?: unknown[] } } | undefined)?.status?.parents?.[1] as { conditions?: { status: string }[] } | undefined)?.conditions?.[1]?.status === 'False', { what: 'the cache to see our write' });
      writer.update(result(statuses(null)), null);
      await writer.sync();
      assert.deepEqual(((await get(cluster, `httproutes.${GROUP}`, 'shop', 'default'))!.status as { parents: unknown[] }).parents, [rewritten]);

      // Optimistic concurrency: a write made from a stale copy (the other controller wrote since) is
      // refused by the API server, and the next sync merges again from the fresh copy.
      const stale = source.get('HTTPRoute', 'default', 'shop')!;
      let frozen = true;
      const staleView = (kind: string, o: Record<string, unknown>): Record<string, unknown> => (frozen && kind === 'HTTPRoute' && (o as KubeObject).metadata?.name === 'shop' ? stale : o);
      const lagging = new StatusWriter(api, {
        get: (k, ns, n) => { const o = source.get(k, ns, n); return o === undefined ? o : staleView(k, o); },
        list: (k) => source.list(k).map((o) => staleView(k, o)),
        scriptStatuses: () => new Map(),
      }, { publishAddresses: [WRITER_ADDRESS] }, log, { controllerName: WRITER, supportedVersion: () => bundle.condition() });
      lagging.setLeading(true);
      const third = { ...rewritten, conditions: [{ ...rewritten.conditions[0]!, message: 'Taken for the third time.' }] };
      await patch(cluster, `httproutes.${GROUP}`, 'shop', { status: { parents: [third] } }, { namespace: 'default', subresource: 'status' });
      const quiet = { ...result(statuses([accepted])), diagnostics: [] };
      lagging.update(quiet, null);
      await lagging.sync();
      assert.deepEqual(((await get(cluster, `httproutes.${GROUP}`, 'shop', 'default'))!.status as { parents: unknown[] }).parents, [third], 'the stale write was refused');
      frozen = false;
      await waitFor(() => ((source.get('HTTPRoute', 'default', 'shop') as { status?: { parents?: { conditions: { message: string }[] }[] } } | undefined)?.status?.parents?.[0]?.conditions[0]?.message === 'Taken for the third time.'), { what: 'the cache to see the third foreign write' });
      await lagging.sync();
      const merged = ((await get(cluster, `httproutes.${GROUP}`, 'shop', 'default'))!.status as { parents: { controllerName: string }[] }).parents;
      assert.deepEqual(merged[0], third);
      assert.deepEqual(merged.map((p) => p.controllerName), [FOREIGN, WRITER]);

      // The running controller left what is not its own alone all along.
      const app = await get(cluster, 'ingress', 'app', 'default');
      assert.deepEqual((app!.status as { loadBalancer: unknown }).loadBalancer, { ingress: [{ ip: '203.0.113.7' }] });
    } finally {
      await source.close();
      await api.close();
    }
  });

  test('the controller compiles a Gateway and an HTTPRoute: their status as the specification words it, and traffic on the port the listener declares', async () => {
    const port = await deadPort();
    await apply(cluster, [
      { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'live', namespace: 'default' }, spec: { gatewayClassName: 'signalbox', listeners: [{ name: 'web', port, protocol: 'HTTP', hostname: 'live.test' }] } },
      { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name: 'live', namespace: 'default' }, spec: { parentRefs: [{ name: 'live' }], rules: [{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Via', value: 'gateway' }] } }], backendRefs: [{ name: 'blue', port: 80 }] }] } },
    ]);
    const reached = blue.seen.length;
    const res = await waitFor(async () => {
      const r = await request(`http://127.0.0.1:${port}/hello`, { headers: { host: 'live.test' }, headersTimeout: 5_000 }).catch(() => null);
      if (r === null) return null;
      const body = await r.body.text();
      return r.statusCode === 200 ? body : null;
    }, { timeoutMs: 20_000, what: `live.test to be served on port ${port}` });
    assert.match(res, /^blue GET \/hello/);
    assert.equal(blue.seen.slice(reached).find((s) => s.url === '/hello')?.headers['x-via'], 'gateway');
    // Another host on the listener's port is not the listener's: 404, and nothing reaches blue.
    const other = await request(`http://127.0.0.1:${port}/hello`, { headers: { host: 'other.test' } });
    assert.equal(other.statusCode, 404);
    await other.body.dump();

    const conditionsOf = (o: KubeObject | null): Record<string, string> => Object.fromEntries(((o?.status as { conditions?: { type: string; status: string; reason: string }[] } | undefined)?.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));
    const gatewayClass = await waitFor(async () => {
      const o = await get(cluster, `gatewayclasses.${GROUP}`, 'signalbox');
      return conditionsOf(o)['SupportedVersion'] === undefined ? null : o;
    }, { what: 'the GatewayClass status' });
    assert.deepEqual(conditionsOf(gatewayClass), { Accepted: 'True Accepted', SupportedVersion: 'True SupportedVersion' });
    const gateway = await waitFor(async () => {
      const o = await get(cluster, `gateways.${GROUP}`, 'live', 'default');
      const listeners = (o?.status as { listeners?: { attachedRoutes: number }[] } | undefined)?.listeners;
      return listeners?.[0]?.attachedRoutes === 1 ? o : null;
    }, { what: 'the Gateway status with its attached route' });
    const gs = gateway.status as { addresses: unknown; listeners: { name: string; supportedKinds: unknown; conditions: { type: string; status: string; observedGeneration: number }[] }[] };
    assert.deepEqual(conditionsOf(gateway), { Accepted: 'True Accepted', Programmed: 'True Programmed' });
    assert.deepEqual(gs.addresses, [{ type: 'IPAddress', value: '203.0.113.7' }]);
    assert.deepEqual(gs.listeners[0]!.supportedKinds, [{ group: GROUP, kind: 'HTTPRoute' }, { group: GROUP, kind: 'GRPCRoute' }]);
    assert.deepEqual(gs.listeners[0]!.conditions.map((c) => `${c.type} ${c.status}`), ['Accepted True', 'Programmed True', 'ResolvedRefs True', 'Conflicted False']);
    const route = await waitFor(async () => {
      const o = await get(cluster, `httproutes.${GROUP}`, 'live', 'default');
      return (o?.status as { parents?: unknown[] } | undefined)?.parents?.length === 1 ? o : null;
    }, { what: 'the HTTPRoute status' });
    const parent = (route.status as { parents: { parentRef: unknown; controllerName: string; conditions: { type: string; status: string; reason: string; observedGeneration: number }[] }[] }).parents[0]!;
    assert.equal(parent.controllerName, 'signalbox.dev/gateway-controller');
    assert.deepEqual(parent.parentRef, { group: GROUP, kind: 'Gateway', namespace: 'default', name: 'live' });
    assert.deepEqual(parent.conditions.map((c) => `${c.type} ${c.status} ${c.reason} ${c.observedGeneration}`), ['Accepted True Accepted 1', 'ResolvedRefs True ResolvedRefs 1']);

    // A RouteScript on the HTTPRoute: it runs there, and names the Gateway as its ancestor.
    await apply(cluster, [{ apiVersion: 'signalbox.dev/v1alpha1', kind: 'RouteScript', metadata: { name: 'tag', namespace: 'default' }, spec: { targetRefs: [{ kind: 'HTTPRoute', name: 'live' }], code: "export function onRequest() { return { setHeaders: { 'x-script': 'tag' } }; }" } }]);
    await waitFor(async () => {
      const r = await request(`http://127.0.0.1:${port}/scripted`, { headers: { host: 'live.test' } });
      await r.body.dump();
      return blue.seen.some((x) => x.url === '/scripted' && x.headers['x-script'] === 'tag');
    }, { what: 'the RouteScript to run on the HTTPRoute' });
    const script = await waitFor(async () => {
      const o = await get(cluster, 'routescripts.signalbox.dev', 'tag', 'default');
      return ((o?.status as { ancestors?: unknown[] } | undefined)?.ancestors?.length ?? 0) > 0 ? o : null;
    }, { what: 'the RouteScript\'s ancestors' });
    const ancestor = (script.status as { ancestors: { ancestorRef: unknown; controllerName: string; conditions: { type: string; status: string }[] }[] }).ancestors[0]!;
    assert.deepEqual(ancestor.ancestorRef, { group: GROUP, kind: 'Gateway', namespace: 'default', name: 'live' });
    assert.equal(ancestor.controllerName, 'signalbox.dev/gateway-controller');
    assert.deepEqual(ancestor.conditions.map((c) => `${c.type} ${c.status}`), ['Accepted True']);

    // A backendRef to a Service that does not exist: ResolvedRefs False BackendNotFound, and 500.
    await apply(cluster, [{ apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name: 'live', namespace: 'default' }, spec: { parentRefs: [{ name: 'live' }], rules: [{ backendRefs: [{ name: 'nowhere', port: 80 }] }] } }]);
    await waitFor(async () => {
      const o = await get(cluster, `httproutes.${GROUP}`, 'live', 'default');
      const c = (o?.status as { parents?: { conditions: { type: string; status: string; reason: string; observedGeneration: number }[] }[] } | undefined)?.parents?.[0]?.conditions.find((x) => x.type === 'ResolvedRefs');
      return c?.status === 'False' && c.reason === 'BackendNotFound' && c.observedGeneration === 2;
    }, { what: 'ResolvedRefs False BackendNotFound at generation 2' });
    const broken = await waitFor(async () => {
      const r = await request(`http://127.0.0.1:${port}/hello`, { headers: { host: 'live.test' } });
      await r.body.dump();
      return r.statusCode === 500 ? r : null;
    }, { what: 'a 500 for the missing Service' });
    assert.equal(broken.statusCode, 500);
  });
});
