/**
 * The Helm chart and deploy/signalbox.yaml against a real kube-apiserver: every rendered object
 * passes the API server's validation and admission (server-side dry run, Pod Security "restricted"
 * included), `helm install`, `upgrade` and `uninstall` work as the README says, and the chart's RBAC
 * is what `signalbox controller` needs — it runs with the chart's ServiceAccount token and its
 * flags, serves, leads, writes status and Events, and is refused what the chart does not grant.
 * The helm-only chart checks run here too, for machines where `make test` skipped them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { generateSelfSignedCertificate } from '../src/dataplane/server/tls/self-signed.ts';
import { EVERYTHING_ON, chartTests } from '../test/chart/chart-checks.ts';
import { TAKE_OVER, takeOverChartTests } from '../test/chart/takeover-checks.ts';
import {
  CHART_DIR, DEPLOY_MANIFEST, DEPLOY_NAMESPACE, expectedHelmPath, helmTemplate, parseObjects, runHelm, type K8sObject,
} from '../test/chart/chart-tools.ts';
import { startUpstream, type TestUpstream } from '../test/helpers/upstreams.ts';
import { k8sBinDir, startCluster, type TestCluster } from './harness/cluster.ts';
import { startController, type RunningController } from './harness/controller.ts';
import { apply, createServiceWithEndpoints, get, ingress, list, patch, routeScript, tlsSecret, toYaml, waitFor, type KubeObject } from './harness/objects.ts';

let helm = '';

before(async () => {
  helm = join(await k8sBinDir(), 'helm');
}, { timeout: 30 * 60_000 });

chartTests(() => helm);
takeOverChartTests(() => helm);

test('test/chart/chart.test.ts looks for helm where scripts/k8s-binaries.sh puts it', () => {
  // Otherwise `make test` would skip the chart checks for good, saying helm is not built.
  assert.equal(expectedHelmPath().path, helm);
});

/**
 * Just enough of the Prometheus Operator's ServiceMonitor CRD (the fields the chart sets, with
 * upstream's types) for the API server to check the chart's ServiceMonitor: no unknown-field
 * pass-through, so a misspelt field is refused by kubectl's strict field validation.
 */
const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind: 'ServiceMonitor', listKind: 'ServiceMonitorList', plural: 'servicemonitors', singular: 'servicemonitor' },
    versions: [{
      name: 'v1',
      served: true,
      storage: true,
      schema: {
        openAPIV3Schema: {
          type: 'object',
          required: ['spec'],
          properties: {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: { type: 'object' },
            spec: {
              type: 'object',
              required: ['selector'],
              properties: {
                jobLabel: { type: 'string' },
                namespaceSelector: { type: 'object', properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } } },
                selector: {
                  type: 'object',
                  'x-kubernetes-map-type': 'atomic',
                  properties: {
                    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
                    matchExpressions: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                  },
                },
                endpoints: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      port: { type: 'string' },
                      path: { type: 'string' },
                      scheme: { type: 'string', enum: ['http', 'https'] },
                      interval: { type: 'string', pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' },
                      scrapeTimeout: { type: 'string', pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' },
                      honorLabels: { type: 'boolean' },
                      relabelings: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                      metricRelabelings: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    }],
  },
};

/** The objects of deploy/signalbox.yaml. */
function deployObjects(): K8sObject[] {
  return parseObjects(readFileSync(DEPLOY_MANIFEST, 'utf8'));
}

describe('the chart on a real API server', () => {
  let cluster: TestCluster;

  before(async () => {
    // The chart brings its own CRD: it must get through the API server as the chart ships it.
    cluster = await startCluster({ crds: false });
  }, { timeout: 180_000 });

  after(() => cluster?.stop());

  /** kubectl, failing the test with kubectl's own message unless it succeeds. */
  async function kubectl(args: readonly string[], input?: string): Promise<{ stdout: string; stderr: string }> {
    const result = await cluster.kubectl(args, input === undefined ? {} : { input });
    assert.equal(result.status, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
    return result;
  }

  /** `kubectl apply --dry-run=server` of `objects`: each one accepted, and no warnings (Pod Security among them). */
  async function dryRun(objects: readonly K8sObject[]): Promise<void> {
    const { stdout, stderr } = await kubectl(['apply', '--dry-run=server', '-f', '-'], toYaml(objects));
    assert.equal(stderr.trim(), '', 'no warnings');
    for (const o of objects) {
      const resource = `${o.kind.toLowerCase()}${o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : ''}/${o.metadata.name}`;
      assert.match(stdout, new RegExp(`^${resource.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (created|configured|unchanged) \\(server dry run\\)$`, 'm'), `${o.kind} ${o.metadata.name} accepted`);
    }
  }

  /** The namespace of deploy/signalbox.yaml, created for real: dry runs of namespaced objects need it. */
  async function ensureDeployNamespace(): Promise<void> {
    await kubectl(['apply', '-f', '-'], toYaml([deployObjects().find((o) => o.kind === 'Namespace')!]));
  }

  test('deploy/signalbox.yaml: every object passes validation and admission, and its pods meet Pod Security "restricted"', async () => {
    const objects = deployObjects();
    await ensureDeployNamespace();
    await dryRun(objects);
    // Pod Security only warns about a Deployment's template; a Pod from it is enforced.
    const deployment = objects.find((o) => o.kind === 'Deployment') as K8sObject & { spec: { template: { metadata: object; spec: object } } };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { ...deployment.spec.template.metadata, name: 'signalbox-pss', namespace: DEPLOY_NAMESPACE }, spec: deployment.spec.template.spec };
    const result = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: toYaml([pod]) });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '');
    // The check is real: a root container in the same namespace is refused.
    const root = structuredClone(pod) as { spec: { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] } };
    root.spec.securityContext.runAsUser = 0;
    root.spec.containers[0]!.securityContext.runAsUser = 0;
    const refused = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: toYaml([root]) });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /violates PodSecurity "restricted:latest": runAsUser=0/);
  });

  test('every option on (ServiceMonitor, autoscaler, dashboard, NodePort, default class), the DaemonSet and the ingress-nginx takeover preset pass the API server too', async () => {
    await ensureDeployNamespace();
    await kubectl(['apply', '-f', '-'], toYaml([SERVICE_MONITOR_CRD]));
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com']);
    await waitFor(async () => (await cluster.kubectl(['api-resources', '--api-group=monitoring.coreos.com', '-o', 'name'])).stdout.includes('servicemonitors'), { what: 'ServiceMonitor discovery' });
    const everything = parseObjects(helmTemplate(helm, { values: EVERYTHING_ON }));
    assert.ok(everything.some((o) => o.kind === 'ServiceMonitor'));
    await dryRun(everything);
    await dryRun(parseObjects(helmTemplate(helm, { values: { kind: 'DaemonSet', controller: { leaderElection: { enabled: false } } } })));
    await dryRun(parseObjects(helmTemplate(helm, { values: TAKE_OVER })));
    // And the minimal CRD is strict enough to matter: a misspelt field is refused.
    const monitor = structuredClone(everything.find((o) => o.kind === 'ServiceMonitor')!) as K8sObject & { spec: { endpoints: Record<string, unknown>[] } };
    monitor.spec.endpoints[0]!.intervall = '30s';
    const refused = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: toYaml([monitor]) });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /unknown field "spec\.endpoints\[0\]\.intervall"/);
  });

  describe('signalbox controller with the chart\'s RBAC', () => {
    let controller: RunningController;
    let upstream: TestUpstream;
    let token = '';
    let account = '';
    const shop = 'shop';

    before(async () => {
      await kubectl(['apply', '-f', DEPLOY_MANIFEST]);
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/routescripts.signalbox.dev']);
      await waitFor(async () => (await cluster.kubectl(['api-resources', '--api-group=signalbox.dev', '-o', 'name'])).stdout.includes('routescripts'), { what: 'RouteScript discovery' });

      // What a user would run: a Service with endpoints, a TLS Secret, a ConfigMap a RouteScript reads,
      // an Ingress of class signalbox, and an Ingress whose Service is missing (a Warning Event).
      upstream = await startUpstream('cafe');
      await kubectl(['create', 'namespace', shop]);
      await createServiceWithEndpoints(cluster, 'cafe', upstream.port, { namespace: shop });
      const cert = generateSelfSignedCertificate({ commonName: 'cafe.example.com' });
      const cafe = ingress('cafe', 'cafe.example.com', [{ path: '/', service: 'cafe' }], { namespace: shop, tls: [{ hosts: ['cafe.example.com'], secretName: 'cafe-tls' }] }) as { spec: Record<string, unknown> };
      cafe.spec.ingressClassName = 'signalbox';
      const broken = ingress('broken', 'broken.example.com', [{ path: '/', service: 'nowhere' }], { namespace: shop }) as { spec: Record<string, unknown> };
      broken.spec.ingressClassName = 'signalbox';
      await apply(cluster, [
        tlsSecret('cafe-tls', cert.certPem, cert.keyPem, shop),
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting', namespace: shop }, data: { data: '{"greeting": "hello from a ConfigMap"}' } },
        cafe,
        broken,
        routeScript('greet', {
          targetRefs: [{ kind: 'Ingress', name: 'cafe' }],
          dataFrom: { configMapRef: { name: 'greeting' } },
          code: 'export function onRequest(req, ctx) { return { setHeaders: { "x-greeting": ctx.data.greeting } }; }',
        }, shop),
      ]);

      const workload = deployObjects().find((o) => o.kind === 'Deployment') as K8sObject & { spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } } };
      account = workload.spec.template.spec.serviceAccountName;
      token = await cluster.tokenFor(account, DEPLOY_NAMESPACE);
      // The chart's flags, but for where it listens and how long it drains: the harness picks free
      // loopback ports and a short shutdown.
      const local = /^--(bind|http-port|https-port|admin-port|admin-bind|debug-port|debug-bind|access-log|log-level|drain|grace)=/;
      const args = workload.spec.template.spec.containers[0]!.args.filter((a) => !local.test(a));
      controller = await startController(await cluster.kubeconfigForToken(token), args, { POD_NAME: 'signalbox-0', POD_NAMESPACE: DEPLOY_NAMESPACE, POD_IP: '10.244.0.9' });
      await waitFor(() => controller.ready(), { timeoutMs: 30_000, what: 'the controller to be ready' });
    }, { timeout: 180_000 });

    after(async () => {
      await controller?.stop();
      await upstream?.close();
    });

    test('lists and watches everything it needs: it serves the Ingress, its TLS Secret and the RouteScript with ConfigMap data', async () => {
      const res = await waitFor(async () => {
        const r = await request(`${controller.http}/`, { headers: { host: 'cafe.example.com' }, headersTimeout: 5_000, bodyTimeout: 5_000 });
        const body = await r.body.text();
        return r.statusCode === 200 && body.startsWith('cafe') ? r : null;
      }, { timeoutMs: 20_000, what: 'cafe.example.com to be served' });
      assert.equal(res.statusCode, 200);
      // The RouteScript ran with the ConfigMap's data: the upstream saw its header.
      await waitFor(async () => {
        await (await request(`${controller.http}/`, { headers: { host: 'cafe.example.com' } })).body.dump();
        return upstream.seen.some((r) => r.headers['x-greeting'] === 'hello from a ConfigMap');
      }, { timeoutMs: 20_000, what: 'the RouteScript header from the ConfigMap' });
      // The TLS Secret came through the type=kubernetes.io/tls field selector: its certificate is served by SNI.
      const port = Number(new URL(controller.https).port);
      const subject = await waitFor(() => new Promise<string | null>((done) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'cafe.example.com', rejectUnauthorized: false }, () => {
          const cn = socket.getPeerCertificate().subject?.CN;
          socket.end();
          done(typeof cn === 'string' ? cn : null);
        });
        socket.on('error', () => done(null));
      }).then((cn) => (cn === 'cafe.example.com' ? cn : null)), { timeoutMs: 20_000, what: 'the Secret\'s certificate by SNI' });
      assert.equal(subject, 'cafe.example.com');
    });

    test('takes the leader Lease named by the chart, in the release namespace', async () => {
      const lease = await waitFor(() => get(cluster, 'lease', 'signalbox-leader', DEPLOY_NAMESPACE), { timeoutMs: 20_000, what: 'the Lease' });
      assert.match(String((lease.spec as { holderIdentity?: string }).holderIdentity), /^signalbox-0_/);
      const metrics = await (await request(`${controller.admin}/metrics`)).body.text();
      assert.match(metrics, /^signalbox_leader 1$/m);
    });

    test('writes Ingress status (the chart Service\'s address), RouteScript status and Warning Events', async () => {
      // No cloud here: play the cloud controller and give the chart's Service its load-balancer address.
      const address = '198.51.100.10';
      await patch(cluster, 'service', 'signalbox', { status: { loadBalancer: { ingress: [{ ip: address }] } } }, { namespace: DEPLOY_NAMESPACE, subresource: 'status' });
      await waitFor(async () => {
        const ing = await get(cluster, 'ingress', 'cafe', shop);
        return (ing?.status as { loadBalancer?: { ingress?: { ip?: string }[] } })?.loadBalancer?.ingress?.[0]?.ip === address;
      }, { timeoutMs: 20_000, what: `Ingress status ${address}` });
      await waitFor(async () => {
        const rs = await get(cluster, 'routescripts.signalbox.dev', 'greet', shop);
        const conditions = (rs?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
        return conditions.some((c) => c.type === 'Accepted' && c.status === 'True') && conditions.some((c) => c.type === 'Programmed' && c.status === 'True');
      }, { timeoutMs: 20_000, what: 'RouteScript Accepted and Programmed' });
      const event = await waitFor(async () => (await list(cluster, 'events', shop)).find((e: KubeObject) => (e.involvedObject as { name?: string }).name === 'broken' && e.reason === 'ServiceNotFound'), { timeoutMs: 20_000, what: 'a ServiceNotFound Event' });
      assert.equal(event.type, 'Warning');
    });

    test('never hears "forbidden": no watch error, no refused write', async () => {
      const metrics = await (await request(`${controller.admin}/metrics`)).body.text();
      const watchErrors = [...metrics.matchAll(/^signalbox_kube_watch_errors_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      assert.equal(watchErrors, 0, metrics.split('\n').filter((l) => l.startsWith('signalbox_kube_watch_errors_total')).join('\n'));
      assert.doesNotMatch(controller.stderr(), /forbidden|\b403\b/i);
    });

    test('is refused everything the chart does not grant', async () => {
      const sa = `system:serviceaccount:${DEPLOY_NAMESPACE}:${account}`;
      const can = async (verb: string, resource: string, namespace: string): Promise<boolean> => {
        // kubectl names a subresource with a flag, and a single object as resource/name.
        const [what, sub] = resource.split('/status');
        const args = ['auth', 'can-i', verb, what!, ...(sub === undefined ? [] : ['--subresource=status']), ...(namespace ? ['-n', namespace] : []), '--as', sa];
        const r = await cluster.kubectl(args);
        return r.stdout.trim() === 'yes';
      };
      for (const [verb, resource, ns] of [
        ['list', 'ingresses.networking.k8s.io', shop], ['watch', 'secrets', shop], ['patch', 'ingresses.networking.k8s.io/status', shop],
        ['patch', 'routescripts.signalbox.dev/status', shop], ['create', 'events', shop], ['list', 'ingressclasses.networking.k8s.io', ''],
        ['get', 'leases.coordination.k8s.io/signalbox-leader', DEPLOY_NAMESPACE], ['update', 'leases.coordination.k8s.io/signalbox-leader', DEPLOY_NAMESPACE],
      ] as const) {
        assert.equal(await can(verb, resource, ns), true, `can ${verb} ${resource}`);
      }
      for (const [verb, resource, ns] of [
        ['get', 'secrets', shop], ['get', 'configmaps', shop], ['list', 'pods', shop], ['update', 'ingresses.networking.k8s.io', shop],
        ['patch', 'ingresses.networking.k8s.io', shop], ['delete', 'ingresses.networking.k8s.io', shop], ['update', 'routescripts.signalbox.dev', shop],
        ['create', 'secrets', shop], ['list', 'nodes', ''], ['patch', 'events', shop], ['delete', 'events', shop],
        ['get', 'leases.coordination.k8s.io/someone-else', DEPLOY_NAMESPACE], ['update', 'leases.coordination.k8s.io/someone-else', DEPLOY_NAMESPACE],
        ['create', 'leases.coordination.k8s.io', shop], ['patch', 'services/status', shop],
      ] as const) {
        assert.equal(await can(verb, resource, ns), false, `cannot ${verb} ${resource}`);
      }
    });

    test('on SIGTERM it exits 0 and hands the Lease back, so the next replica leads at once', async () => {
      assert.equal(await controller.stop(), 0);
      const lease = await get(cluster, 'lease', 'signalbox-leader', DEPLOY_NAMESPACE);
      assert.equal((lease?.spec as { holderIdentity?: string }).holderIdentity, '');
    });
  });

  test('helm install, upgrade and uninstall, as the README has them', async () => {
    const env = ['--kubeconfig', cluster.kubeconfigPath];
    const release = ['edge', CHART_DIR, '--namespace', 'edge-system'];
    // Not the names deploy/signalbox.yaml took: helm refuses to adopt objects it did not create.
    const values = ['--set', 'controller.ingressClass=edge'];
    const install = runHelm(helm, ['install', ...release, '--create-namespace', ...values, ...env]);
    assert.equal(install.status, 0, install.stderr);
    assert.match(install.stdout, /STATUS: deployed/);
    assert.match(install.stdout, /kubectl -n edge-system rollout status deployment\/edge-signalbox/);
    assert.match(install.stdout, /kubectl create ingress cafe --class=edge/);
    assert.match(install.stdout, /kind: RouteScript/);
    assert.match(install.stdout, /port-forward deployment\/edge-signalbox 9901/);
    // The commands in the notes work as printed.
    const createIngress = /^\s*(kubectl create ingress cafe .*)$/m.exec(install.stdout)![1]!;
    const shell = spawnSync('bash', ['-c', `${createIngress} --dry-run=server`], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${cluster.binDir}:${process.env.PATH}`, KUBECONFIG: cluster.kubeconfigPath, KUBECACHEDIR: join(cluster.dir, 'kube-cache') },
    });
    assert.equal(shell.status, 0, `${createIngress}: ${shell.stderr}`);
    const script = /<<'YAML'\n([\s\S]*?)\nYAML\n/.exec(install.stdout)?.[1];
    assert.ok(script, 'the notes carry a RouteScript');
    await kubectl(['apply', '--dry-run=server', '-n', 'default', '-f', '-'], script);
    const svc = await get(cluster, 'service', 'edge-signalbox', 'edge-system');
    assert.equal((svc?.spec as { type: string }).type, 'LoadBalancer');
    assert.ok(await get(cluster, 'ingressclass', 'edge'));
    const role = await get(cluster, 'role', 'edge-signalbox-leader-election', 'edge-system');
    assert.deepEqual((role?.rules as { resourceNames?: string[] }[])[1]?.resourceNames, ['edge-signalbox-leader']);

    const upgrade = runHelm(helm, ['upgrade', ...release, '--reuse-values', '--set', 'service.type=NodePort', ...env]);
    assert.equal(upgrade.status, 0, upgrade.stderr);
    assert.equal(((await get(cluster, 'service', 'edge-signalbox', 'edge-system'))?.spec as { type: string }).type, 'NodePort');
    assert.match(upgrade.stdout, /PORT=\$\(kubectl -n edge-system get service edge-signalbox/);

    // A wrong value stops the upgrade before anything reaches the cluster.
    const wrong = runHelm(helm, ['upgrade', ...release, '--reuse-values', '--set', 'service.type=Foo', ...env]);
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /at '\/service\/type': value must be one of 'LoadBalancer', 'NodePort', 'ClusterIP'/);
    assert.match(runHelm(helm, ['status', 'edge', '--namespace', 'edge-system', ...env]).stdout, /REVISION: 2/);

    const uninstall = runHelm(helm, ['uninstall', 'edge', '--namespace', 'edge-system', '--wait', ...env]);
    assert.equal(uninstall.status, 0, uninstall.stderr);
    assert.equal(await get(cluster, 'deployment', 'edge-signalbox', 'edge-system'), null);
    assert.equal(await get(cluster, 'clusterrole', 'edge-signalbox'), null);
    assert.equal(await get(cluster, 'ingressclass', 'edge'), null);
    // Helm never deletes what it installed from crds/, so RouteScripts survive an uninstall.
    assert.ok(await get(cluster, 'crd', 'routescripts.signalbox.dev'));
  });
});
