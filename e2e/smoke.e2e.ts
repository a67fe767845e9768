/**
 * The harness against a real kube-apiserver and etcd: the CRD's validation, the objects the
 * controller reads, an API server restart, a service-account token without RBAC, and that nothing is
 * left running or on disk afterwards, even when the test process is killed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startCluster, type TestCluster } from './harness/cluster.ts';
import {
  apply, createServiceWithEndpoints, endpointSlice, get, ingress, ingressClass, KubectlError, putEndpointSlice, routeScript, waitFor,
} from './harness/objects.ts';

const RS = 'routescripts.signalbox.dev';
const CODE = 'export function onRequest(req, ctx) { return { action: "continue" }; }';

describe('a test cluster', () => {
  let cluster: TestCluster;
  let startedInMs = 0;

  before(async () => {
    const started = performance.now();
    cluster = await startCluster();
    startedInMs = Math.round(performance.now() - started);
  }, { timeout: 180_000 });

  after(() => cluster?.stop());

  test('serves the RouteScript CRD, whose schema refuses an invalid RouteScript with the API server\'s reason', async (t) => {
    t.diagnostic(`cluster started in ${startedInMs} ms`);
    await assert.rejects(
      apply(cluster, [routeScript('too-fast', { targetRefs: [{ kind: 'Ingress', name: 'shop' }], code: CODE, limits: { timeoutMs: 0 } })]),
      (error: unknown) => {
        assert.ok(error instanceof KubectlError);
        assert.match(error.message, /The RouteScript "too-fast" is invalid: spec\.limits\.timeoutMs: Invalid value: 0: spec\.limits\.timeoutMs in body should be greater than or equal to 1/);
        return true;
      },
    );
    // The CEL rules of the schema run too, not only the OpenAPI bounds.
    await assert.rejects(
      apply(cluster, [routeScript('service-with-host', { targetRefs: [{ kind: 'Service', name: 'shop', host: 'shop.example' }], code: CODE })]),
      /spec\.targetRefs\[0\]: Invalid value: host and path apply only to Ingress targets/,
    );
    assert.equal(await get(cluster, RS, 'too-fast', 'default'), null);
    assert.equal(await get(cluster, RS, 'service-with-host', 'default'), null);
  });

  test('takes an IngressClass, a Service with a loopback EndpointSlice, an Ingress and a RouteScript, and serves them back', async () => {
    const [service, slice] = await createServiceWithEndpoints(cluster, 'shop', 18080);
    await apply(cluster, [
      ingressClass(),
      ingress('shop', 'shop.example', [{ path: '/', service: 'shop' }]),
      routeScript('tenant-routing', { targetRefs: [{ kind: 'Ingress', name: 'shop' }], code: CODE }),
    ]);

    // The API server allocates cluster IPs itself; no controller-manager is involved.
    assert.match(String((service.spec as { clusterIP?: string }).clusterIP), /^10\.96\.0\.\d+$/);
    assert.deepEqual(slice.endpoints, [{ addresses: ['127.0.0.1'], conditions: { ready: true, serving: true, terminating: false } }]);
    assert.deepEqual(slice.ports, [{ name: 'http', port: 18080, protocol: 'TCP' }]);
    const ingressClassServed = await get(cluster, 'ingressclass', 'signalbox');
    assert.equal((ingressClassServed?.spec as { controller?: string }).controller, 'signalbox.dev/ingress-controller');
    const served = await get(cluster, 'ingress', 'shop', 'default');
    assert.deepEqual((served?.spec as { rules: unknown[] }).rules, [{
      host: 'shop.example',
      http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop', port: { number: 80 } } } }] },
    }]);
    // Structural defaults of the CRD are applied by the API server on write.
    const script = await get(cluster, RS, 'tenant-routing', 'default');
    assert.deepEqual(script?.spec, {
      targetRefs: [{ kind: 'Ingress', name: 'shop' }],
      code: CODE,
      limits: { timeoutMs: 5, memoryMiB: 16 },
      failurePolicy: 'fallback',
      rejectStatus: 503,
    });
  });

  test('the API server refuses a loopback EndpointSlice through its API, which is why putEndpointSlice writes to etcd', async () => {
    await assert.rejects(
      apply(cluster, [endpointSlice('shop', 18080, { name: 'shop-through-the-api' })]),
      /endpoints\[0\]\.addresses\[0\]: Invalid value: "127\.0\.0\.1": may not be in the loopback range/,
    );
  });

  test('a watch sees an EndpointSlice changed in etcd', async () => {
    const before = await get(cluster, 'endpointslices', 'shop-e2e', 'default');
    assert.ok(before?.metadata.resourceVersion);
    const watch = cluster.request('GET', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=true&timeoutSeconds=2&resourceVersion=${before.metadata.resourceVersion}`);
    await new Promise((r) => setTimeout(r, 300));
    await putEndpointSlice(cluster, endpointSlice('shop', 18080, { ready: false }));
    const { status, body } = await watch;
    assert.equal(status, 200);
    const events = body.trim().split('\n').map((line) => JSON.parse(line) as { type: string; object: { metadata: { uid: string }; endpoints: { conditions: { ready: boolean } }[] } });
    assert.equal(events.length, 1, body);
    assert.equal(events[0]?.type, 'MODIFIED');
    assert.equal(events[0]?.object.metadata.uid, before.metadata.uid);
    assert.equal(events[0]?.object.endpoints[0]?.conditions.ready, false);
  });

  test('keeps the objects across an API server restart, on the same address', async () => {
    const kinds = [['ingress', 'shop', 'default'], [RS, 'tenant-routing', 'default'], ['endpointslices', 'shop-e2e', 'default'], ['ingressclass', 'signalbox', undefined]] as const;
    const beforeRestart = await Promise.all(kinds.map(([resource, name, ns]) => get(cluster, resource, name, ns)));
    const { etcd, apiServer } = cluster.processes();

    await cluster.stopApiServer();
    assert.equal(cluster.processes().apiServer, undefined);
    await assert.rejects(cluster.request('GET', '/readyz'), /ECONNREFUSED/);
    const down = await cluster.kubectl(['get', 'ingress', '-A']);
    assert.notEqual(down.status, 0);

    await cluster.startApiServer();
    assert.equal(cluster.processes().etcd, etcd);
    assert.notEqual(cluster.processes().apiServer, apiServer);
    const afterRestart = await Promise.all(kinds.map(([resource, name, ns]) => get(cluster, resource, name, ns)));
    for (const [i, object] of afterRestart.entries()) {
      assert.ok(object, `${kinds[i]?.join(' ')} is gone`);
      assert.equal(object.metadata.uid, beforeRestart[i]?.metadata.uid);
      assert.equal(object.metadata.resourceVersion, beforeRestart[i]?.metadata.resourceVersion);
    }
  });

  test('refuses a ServiceAccount token without RBAC bindings to list ingresses (403), and accepts it once bound', async () => {
    const token = await cluster.tokenFor('controller', 'signalbox-system');
    const refused = await cluster.request('GET', '/apis/networking.k8s.io/v1/ingresses', { token });
    assert.equal(refused.status, 403, refused.body);
    const status = JSON.parse(refused.body) as { reason: string; message: string };
    assert.equal(status.reason, 'Forbidden');
    assert.match(status.message, /User "system:serviceaccount:signalbox-system:controller" cannot list resource "ingresses" in API group "networking\.k8s\.io" at the cluster scope/);

    const kubeconfig = await cluster.kubeconfigForToken(token);
    const byKubectl = await cluster.kubectl(['get', 'ingresses', '--all-namespaces'], { kubeconfig });
    assert.equal(byKubectl.status, 1);
    assert.match(byKubectl.stderr, /\(Forbidden\)/);

    await apply(cluster, [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'ingress-reader' }, rules: [{ apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch'] }] },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'controller-reads-ingresses' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ingress-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'controller', namespace: 'signalbox-system' }],
      },
    ]);
    // The authorizer reads bindings from an informer, so a new one takes effect a moment later.
    await waitFor(async () => (await cluster.request('GET', '/apis/networking.k8s.io/v1/ingresses', { token })).status === 200, { what: 'the binding to take effect' });
    const listed = await cluster.kubectl(['get', 'ingresses', '--all-namespaces', '-o', 'name'], { kubeconfig });
    assert.equal(listed.stdout.trim(), 'ingress.networking.k8s.io/shop');
  });

  test('stop() ends both servers and removes the temp dir', async () => {
    const { etcd, apiServer } = cluster.processes();
    assert.ok(etcd !== undefined && apiServer !== undefined);
    await cluster.stop();
    assert.equal(running(etcd), false);
    assert.equal(running(apiServer), false);
    assert.deepEqual(cluster.processes(), { etcd: undefined, apiServer: undefined });
    assert.equal(existsSync(cluster.dir), false);
  });
});

describe('a test process that dies without stopping its cluster', () => {
  test('leaves no server and no temp dir behind, even when killed with SIGKILL', { timeout: 120_000 }, async () => {
    const harness = pathToFileURL(join(import.meta.dirname, 'harness/cluster.ts')).href;
    const code = `
      import { startCluster } from ${JSON.stringify(harness)};
      const cluster = await startCluster({ crds: false });
      console.log(JSON.stringify({ ...cluster.processes(), dir: cluster.dir }));
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise((r) => child.on('exit', r));
    const started = await waitFor(() => (out.includes('\n') ? (JSON.parse(out) as { etcd: number; apiServer: number; dir: string }) : null), { timeoutMs: 90_000, what: 'the child to start a cluster' });
    assert.equal(running(started.etcd), true);
    assert.equal(running(started.apiServer), true);
    assert.equal(existsSync(started.dir), true);

    child.kill('SIGKILL');
    await exited;
    await waitFor(() => !running(started.etcd) && !running(started.apiServer) && !existsSync(started.dir), { timeoutMs: 10_000, what: 'the reaper to clean up' });
  });
});

/**
 * Whether `pid` is a live process. A zombie is not: the orphaned servers of a killed test process
 * belong to pid 1, which may take a while to reap them.
 */
function running(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
