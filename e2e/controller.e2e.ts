/**
 * `signalbox controller` against a real kube-apiserver and etcd, with real upstream servers on
 * loopback: routes follow Ingresses, endpoints follow EndpointSlices, annotations change policies,
 * TLS comes from Secrets, IngressClasses filter, status is written back, and the proxy keeps
 * serving while the API server is away.
 */
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { generateSelfSignedCertificate } from '../src/dataplane/server/tls/self-signed.ts';
import { steadyLoad } from '../test/helpers/load.ts';
import { startUpstream, type TestUpstream } from '../test/helpers/upstreams.ts';
import { startCluster, type TestCluster } from './harness/cluster.ts';
import { startController, type RunningController } from './harness/controller.ts';
import {
  apply, createServiceWithEndpoints, deleteResource, endpointSlice, get, ingress, ingressClass, list, patch, putEndpointSlice, remove, routeScript, tlsSecret, waitFor,
} from './harness/objects.ts';

/** GET through the controller's HTTP port: status and body (never throws for a status). */
async function fetchVia(controller: RunningController, host: string, path = '/'): Promise<{ status: number; body: string }> {
  const res = await request(`${controller.http}${path}`, { headers: { host }, headersTimeout: 5_000, bodyTimeout: 5_000 });
  return { status: res.statusCode, body: await res.body.text() };
}

/** Waits until a GET through the controller answers `body` (with status 200). */
function servedBy(controller: RunningController, host: string, body: string, path = '/'): Promise<unknown> {
  return waitFor(async () => {
    const res = await fetchVia(controller, host, path).catch(() => null);
    return res !== null && res.status === 200 && res.body.startsWith(body) ? res : null;
  }, { timeoutMs: 15_000, what: `${host}${path} to be served by ${body}` });
}

/** Compacts etcd's history up to its current revision (through its JSON gateway). */
async function compactEtcd(etcdUrl: string): Promise<void> {
  const range = await request(`${etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) });
  const revision = ((await range.body.json()) as { header: { revision: string } }).header.revision;
  const compacted = await request(`${etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
  assert.equal(compacted.statusCode, 200, await compacted.body.text());
}

describe('signalbox controller against a real API server', () => {
  let cluster: TestCluster;
  let controller: RunningController;
  let blue: TestUpstream;
  let green: TestUpstream;

  before(async () => {
    cluster = await startCluster();
    blue = await startUpstream('blue');
    green = await startUpstream('green');
    await apply(cluster, [ingressClass()]);
    await createServiceWithEndpoints(cluster, 'blue', blue.port);
    await createServiceWithEndpoints(cluster, 'green', green.port);
    controller = await startController(cluster.kubeconfigPath, ['--publish-address', '203.0.113.7', '--election-namespace', 'default']);
    await waitFor(() => controller.ready(), { timeoutMs: 30_000, what: 'the controller to be ready' });
  }, { timeout: 240_000 });

  after(async () => {
    await controller?.stop();
    await cluster?.stop();
    await blue?.close();
    await green?.close();
  });

  test('routes appear when an Ingress is applied, change when it is edited, and go when it is deleted', async () => {
    await apply(cluster, [ingress('app', 'app.test', [{ path: '/', service: 'blue' }])]);
    await servedBy(controller, 'app.test', 'blue');
    await apply(cluster, [ingress('app', 'app.test', [{ path: '/', service: 'green' }])]);
    await servedBy(controller, 'app.test', 'green');
    await deleteResource(cluster, 'ingress', 'app', 'default');
    await waitFor(async () => (await fetchVia(controller, 'app.test')).status === 404, { timeoutMs: 15_000, what: 'the route to go' });
  });

  test('endpoints follow EndpointSlice changes', async () => {
    await apply(cluster, [ingress('moving', 'moving.test', [{ path: '/', service: 'blue' }])]);
    await servedBy(controller, 'moving.test', 'blue');
    // Service blue's endpoints now point at green's server.
    await putEndpointSlice(cluster, endpointSlice('blue', green.port));
    await servedBy(controller, 'moving.test', 'green');
    await putEndpointSlice(cluster, endpointSlice('blue', blue.port));
    await servedBy(controller, 'moving.test', 'blue');
  });

  test('IngressClass filtering: an Ingress of another class is not served; ours is', async () => {
    const theirs = { ...(ingress('theirs', 'theirs.test', [{ path: '/', service: 'blue' }]) as { spec: object }) };
    (theirs.spec as Record<string, unknown>).ingressClassName = 'nginx';
    await apply(cluster, [ingressClass(), theirs as object, ingress('ours', 'ours.test', [{ path: '/', service: 'green' }])]);
    await servedBy(controller, 'ours.test', 'green');
    assert.equal((await fetchVia(controller, 'theirs.test')).status, 404);
  });

  test('annotations change the Service\'s policy; a bad one is an Event on the Service, and the rest keeps working', async () => {
    await patch(cluster, 'service', 'green', { metadata: { annotations: { 'signalbox.dev/lb-policy': 'maglev', 'signalbox.dev/hash-on': 'header:x-user', 'signalbox.dev/retries': 'lots' } } }, { namespace: 'default' });
    const policy = await waitFor(async () => {
      const table = (await (await request(`${controller.debug}/debug/table`)).body.json()) as { table: { clusters: Record<string, { policy: { lbPolicy: string } }> } };
      const p = table.table.clusters['default/green:80']?.policy;
      return p?.lbPolicy === 'maglev' ? p : null;
    }, { timeoutMs: 15_000, what: 'the maglev policy' });
    assert.equal(policy.lbPolicy, 'maglev');
    await servedBy(controller, 'ours.test', 'green');
    const event = await waitFor(async () => (await list(cluster, 'events', 'default')).find((e) => (e as { reason?: string; involvedObject?: { name?: string } }).reason === 'AnnotationInvalid' && (e as { involvedObject?: { name?: string } }).involvedObject?.name === 'green'), { timeoutMs: 20_000, what: 'an Event for the bad annotation' });
    assert.match(String((event as { message?: string }).message), /signalbox\.dev\/retries "lots" is not valid/);
  });

  test('TLS from a Secret: the certificate of the host is served by SNI', async () => {
    const cert = generateSelfSignedCertificate({ commonName: 'secure.test', dnsNames: ['secure.test'] });
    await apply(cluster, [tlsSecret('secure-cert', cert.certPem, cert.keyPem), ingress('secure', 'secure.test', [{ path: '/', service: 'blue' }], { tls: [{ hosts: ['secure.test'], secretName: 'secure-cert' }] })]);
    const port = Number(new URL(controller.https).port);
    const subject = await waitFor(() => new Promise<string | null>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'secure.test', rejectUnauthorized: false }, () => {
        const cn = socket.getPeerCertificate().subject?.CN;
        socket.end();
        resolve(cn === 'secure.test' ? cn : null);
      });
      socket.on('error', () => resolve(null));
    }), { timeoutMs: 15_000, what: 'the Secret\'s certificate' });
    assert.equal(subject, 'secure.test');
  });

  test('status: Ingresses get the published address; RouteScripts get Accepted/Programmed, a syntax error a False condition with line and column', async () => {
    await apply(cluster, [
      ingress('scripted', 'scripted.test', [{ path: '/', service: 'blue' }]),
      routeScript('good', { targetRefs: [{ kind: 'Ingress', name: 'scripted' }], code: "export function onRequest() { return { setHeaders: { 'x-by': 'good' } }; }" }),
      routeScript('broken', { targetRefs: [{ kind: 'Ingress', name: 'ours' }], code: 'export function onRequest(req) {\n  return { backend: };\n}' }),
    ]);
    const lb = await waitFor(async () => {
      const obj = await get(cluster, 'ingress', 'scripted', 'default');
      const addresses = (obj?.status as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress;
      return addresses !== undefined && addresses.length > 0 ? addresses : null;
    }, { timeoutMs: 20_000, what: 'the Ingress status' });
    assert.deepEqual(lb, [{ ip: '203.0.113.7' }]);
    const conditionsOf = async (name: string): Promise<Record<string, { status: string; reason: string; message: string; observedGeneration: number }> | null> => {
      const obj = await get(cluster, 'routescripts.signalbox.dev', name, 'default');
      const conditions = (obj?.status as { conditions?: { type: string; status: string; reason: string; message: string; observedGeneration: number }[] } | undefined)?.conditions;
      return conditions === undefined ? null : Object.fromEntries(conditions.map((c) => [c.type, c]));
    };
    const good = await waitFor(async () => {
      const c = await conditionsOf('good');
      return c?.Programmed?.status === 'True' ? c : null;
    }, { timeoutMs: 20_000, what: 'the good RouteScript to be Programmed' });
    assert.equal(good.Accepted!.status, 'True');
    assert.equal(good.Programmed!.observedGeneration, 1);
    const broken = await waitFor(() => conditionsOf('broken'), { timeoutMs: 20_000, what: 'the broken RouteScript\'s status' });
    assert.equal(broken.Accepted!.status, 'False');
    assert.equal(broken.Accepted!.reason, 'RouteScriptCompileError');
    assert.match(broken.Accepted!.message, /code 2:\d+: SyntaxError/);
    assert.equal(broken.Programmed!.status, 'False');
    await servedBy(controller, 'ours.test', 'green');
    await remove(cluster, [routeScript('broken', { targetRefs: [{ kind: 'Ingress', name: 'ours' }], code: 'x' })]);
  });

  test('an Ingress moved to another class loses our address; another controller\'s address is never touched', async () => {
    const addressOf = async (name: string): Promise<string | null> => {
      const obj = await get(cluster, 'ingress', name, 'default');
      return (obj?.status as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress?.[0]?.ip ?? null;
    };
    const elsewhere = ingress('elsewhere', 'elsewhere.test', [{ path: '/', service: 'blue' }]) as { spec: Record<string, unknown> };
    elsewhere.spec.ingressClassName = 'nginx';
    await apply(cluster, [ingress('leaving', 'leaving.test', [{ path: '/', service: 'blue' }]), elsewhere]);
    await patch(cluster, 'ingress', 'elsewhere', { status: { loadBalancer: { ingress: [{ ip: '198.51.100.9' }] } } }, { namespace: 'default', subresource: 'status' });
    await waitFor(async () => ((await addressOf('leaving')) === '203.0.113.7' ? true : null), { timeoutMs: 20_000, what: 'our address on the Ingress' });
    await servedBy(controller, 'leaving.test', 'blue');
    await patch(cluster, 'ingress', 'leaving', { spec: { ingressClassName: 'nginx' } }, { namespace: 'default' });
    await waitFor(async () => ((await addressOf('leaving')) === null ? true : null), { timeoutMs: 20_000, what: 'our address to be removed from the Ingress that left' });
    assert.equal((await fetchVia(controller, 'leaving.test')).status, 404);
    assert.equal(await addressOf('elsewhere'), '198.51.100.9');
  });

  test('a burst of hundreds of changes compiles a handful of times, and all of them are served', async (t) => {
    const compiles = async (): Promise<number> => Number(/^signalbox_compile_duration_seconds_count (\d+)$/m.exec(await (await request(`${controller.admin}/metrics`)).body.text())?.[1] ?? 0);
    const before = await compiles();
    const burst = Array.from({ length: 400 }, (_, i) => ingress(`burst-${i}`, `burst-${i}.test`, [{ path: '/', service: i % 2 === 0 ? 'blue' : 'green' }]));
    await apply(cluster, burst);
    await servedBy(controller, 'burst-399.test', 'green');
    await servedBy(controller, 'burst-0.test', 'blue');
    const compiled = (await compiles()) - before;
    assert.ok(compiled <= 40, `400 Ingresses compiled ${compiled} times`);
    t.diagnostic(`400 Ingresses applied in one burst compiled ${compiled} times`);
  });

  test('caches only the ConfigMaps a RouteScript reads and the Secrets an Ingress serves', async () => {
    const cached = async (kind: string): Promise<number> => Number(new RegExp(`signalbox_kube_cached_objects\\{kind="${kind}"\\} (\\d+)`).exec(await (await request(`${controller.admin}/metrics`)).body.text())?.[1] ?? -1);
    const before = await cached('ConfigMap');
    const other = generateSelfSignedCertificate({ commonName: 'unused.test', dnsNames: ['unused.test'] });
    await apply(cluster, [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tenants', namespace: 'default' }, data: { data: '{"vip": ["t1"]}' } },
      tlsSecret('unused-cert', other.certPem, other.keyPem),
    ]);
    await apply(cluster, [ingress('unrelated-change', 'unrelated.test', [{ path: '/', service: 'blue' }])]);
    await servedBy(controller, 'unrelated.test', 'blue');
    assert.equal(await cached('ConfigMap'), before, 'an unreferenced ConfigMap is not cached');
    const secrets = await cached('Secret');
    await apply(cluster, [routeScript('vip', { targetRefs: [{ kind: 'Ingress', name: 'unrelated-change' }], dataFrom: { configMapRef: { name: 'tenants' } }, code: "export function onRequest(req, ctx) { return { setHeaders: { 'x-vip': ctx.data.vip.join(',') } }; }" })]);
    await waitFor(async () => (await cached('ConfigMap')) === before + 1, { timeoutMs: 15_000, what: 'the referenced ConfigMap to be cached' });
    await waitFor(async () => {
      await fetchVia(controller, 'unrelated.test');
      return blue.seen.at(-1)?.headers['x-vip'] === 't1';
    }, { timeoutMs: 15_000, what: 'the script to read the ConfigMap' });
    assert.equal(await cached('Secret'), secrets, 'an unreferenced TLS Secret is not cached');
  });

  test('keeps serving the last table while the API server is away, stays ready, and resyncs when it returns', async () => {
    await apply(cluster, [ingress('steady', 'steady.test', [{ path: '/', service: 'green' }])]);
    await servedBy(controller, 'steady.test', 'green');
    const load = steadyLoad({ http: controller.http } as never, 'steady.test', '/', 4);
    await new Promise((r) => setTimeout(r, 500));
    await cluster.stopApiServer({ graceful: false });
    // Compact etcd meanwhile: the versions the controller watched from are gone when the API server
    // returns, so its watches get 410 Gone and it must list again.
    await compactEtcd(cluster.etcdUrl);
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(await controller.ready(), true, 'readiness stays up without the API server');
    await cluster.startApiServer();
    await apply(cluster, [ingress('after', 'after.test', [{ path: '/', service: 'blue' }])]);
    await servedBy(controller, 'after.test', 'blue');
    await load.stop();
    const failed = load.results.filter((r) => r.status !== 200);
    assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 3))}`);
    assert.ok(load.results.length > 100, `served ${load.results.length} requests through the outage`);
    const metrics = await (await request(`${controller.admin}/metrics`)).body.text();
    // ConfigMaps did not change in this test, so the version their watch resumes from was compacted away.
    assert.ok(Number(/signalbox_kube_lists_total\{kind="ConfigMap"\} (\d+)/.exec(metrics)?.[1] ?? 0) >= 2, `ConfigMaps were listed again after 410 Gone: ${metrics.split('\n').filter((l) => l.startsWith('signalbox_kube_')).join('; ')}`);
  });
});
