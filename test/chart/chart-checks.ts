/**
 * The chart's tests that need helm but no API server: lint, renders with default and other values,
 * what the rendered objects say (RBAC, security, probes, ports, flags), the values schema, and the
 * generated files. Registered by test/chart/chart.test.ts when the pinned helm is already built,
 * and by e2e/chart.e2e.ts, which builds it first.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildProgram } from '../../src/cli/main.ts';
import { runtimeOptions } from '../../src/cli/dataplane-flags.ts';
import { createLogger } from '../../src/log.ts';
import { GATEWAY_API_WATCHED, NAMESPACES, WATCHED } from '../../src/k8s/resources.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../../src/model/snapshot.ts';
import {
  CHART_DIR, DEPLOY_MANIFEST, DEPLOY_NAMESPACE, DEPLOY_RELEASE, DASHBOARD, deployManifestText, helmTemplate, helmTemplateRun, parseObjects, runHelm,
  type K8sObject, type TemplateOptions,
} from './chart-tools.ts';

/** Values that turn on everything the defaults leave off, for lint and the renders below. */
export const EVERYTHING_ON = {
  ingressClass: { default: true },
  service: { type: 'NodePort', nodePorts: { http: 30080, https: 30443 }, externalTrafficPolicy: 'Local' },
  autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 7 },
  metrics: { serviceMonitor: { enabled: true, labels: { release: 'prometheus' } } },
  dashboard: { enabled: true },
  debug: { expose: true, tokenSecret: { name: 'signalbox-debug-token', key: 'token' } },
  networkPolicy: {
    enabled: true,
    adminFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
    debugFrom: [{ ipBlock: { cidr: '10.1.2.0/24' } }],
  },
} as const;

/** The controller container, as rendered. */
export interface Container {
  name: string;
  image: string;
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  livenessProbe: { httpGet: { path: string; port: string | number } };
  readinessProbe: { httpGet: { path: string; port: string | number } };
  resources: unknown;
  securityContext: Record<string, unknown>;
}
/** A pod template's spec, as rendered. */
export interface PodSpec {
  serviceAccountName: string;
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number } }[];
  hostNetwork?: boolean;
  topologySpreadConstraints?: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
}
/** The Deployment or DaemonSet, as rendered. */
export interface Workload extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}
/** One RBAC rule. */
export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface ServiceObject extends K8sObject {
  spec: { type: string; clusterIP?: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number; nodePort?: number }[]; externalTrafficPolicy?: string };
}

/** Everything a render produced, by kind and name. */
export class Rendered {
  readonly objects: K8sObject[];

  constructor(text: string) {
    this.objects = parseObjects(text);
  }

  all(kind: string): K8sObject[] {
    return this.objects.filter((o) => o.kind === kind);
  }

  one<T extends K8sObject = K8sObject>(kind: string, name?: string): T {
    const found = this.all(kind).filter((o) => name === undefined || o.metadata.name === name);
    assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
    return found[0] as T;
  }

  kinds(): string[] {
    return this.objects.map((o) => o.kind).sort();
  }

  workload(): Workload {
    return this.objects.find((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet') as Workload;
  }

  container(): Container {
    const containers = this.workload().spec.template.spec.containers;
    assert.equal(containers.length, 1);
    return containers[0]!;
  }

  /** `--flag=value` arguments of the controller container, by flag. */
  flags(): Map<string, string> {
    return new Map(this.container().args.map((a) => {
      const eq = a.indexOf('=');
      return eq < 0 ? [a, ''] : [a.slice(0, eq), a.slice(eq + 1)];
    }));
  }
}

/** The rules as `group/resource[names]: verbs` lines, sorted: order and grouping do not matter to RBAC. */
export function ruleLines(rules: readonly Rule[]): string[] {
  const lines = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) {
          lines.add(`${group === '' ? 'core' : group}/${resource}${rule.resourceNames ? `[${[...rule.resourceNames].sort().join(',')}]` : ''}: ${verb}`);
        }
      }
    }
  }
  return [...lines].sort();
}

/** Parses the controller's arguments as `signalbox controller` would, and builds its runtime options. */
export function parseControllerArgs(args: readonly string[]): { unknown: string[]; opts: Record<string, unknown>; runtime: ReturnType<typeof runtimeOptions> } {
  const controller = buildProgram().commands.find((c) => c.name() === 'controller');
  assert.ok(controller, 'signalbox has a controller command');
  const { operands, unknown } = controller.parseOptions([...args]);
  assert.deepEqual(operands, []);
  const opts = controller.opts();
  // Throws the ConfigError a pod would die of, for a duration or port the controller cannot read.
  const runtime = runtimeOptions(opts as Parameters<typeof runtimeOptions>[0], createLogger({ level: 'error' }));
  return { unknown, opts, runtime };
}

function dockerfileUser(): { uid: number; gid: number } {
  const user = /^USER\s+(\d+):(\d+)\s*$/m.exec(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'));
  assert.ok(user, 'the Dockerfile sets USER uid:gid numerically');
  return { uid: Number(user[1]), gid: Number(user[2]) };
}

/** Registers the chart tests; `helm` is read when they run (the e2e file finds it in a before hook). */
export function chartTests(helm: () => string): void {
  const cache = new Map<string, Rendered>();
  const render = (options: TemplateOptions = {}): Rendered => {
    const key = JSON.stringify(options);
    let rendered = cache.get(key);
    if (rendered === undefined) cache.set(key, (rendered = new Rendered(helmTemplate(helm(), options))));
    return rendered;
  };
  const renderFailure = (values: Record<string, unknown>): string => {
    const run = helmTemplateRun(helm(), { values });
    assert.notEqual(run.status, 0, `helm template accepted ${JSON.stringify(values)}`);
    return run.stderr.trim();
  };

  describe('helm chart charts/signalbox', () => {
    test('passes helm lint --strict with the default values and with every option on', () => {
      for (const values of [undefined, EVERYTHING_ON]) {
        const run = runHelm(helm(), ['lint', '--strict', CHART_DIR, ...(values ? ['--values', '-'] : [])], values ? JSON.stringify(values) : undefined);
        assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
        assert.match(run.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      }
    });

    test('renders with the default values exactly the objects a Deployment install needs', () => {
      assert.deepEqual(render().kinds(), [
        'ClusterRole', 'ClusterRoleBinding', 'Deployment', 'IngressClass', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount',
      ]);
      const withCrds = new Rendered(helmTemplate(helm(), { includeCrds: true }));
      assert.deepEqual(withCrds.all('CustomResourceDefinition').map((c) => c.metadata.name), ['routescripts.signalbox.dev']);
      for (const o of render().objects) {
        const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'IngressClass'].includes(o.kind);
        assert.equal(o.metadata.namespace, clusterScoped ? undefined : DEPLOY_NAMESPACE, `${o.kind}/${o.metadata.name} namespace`);
      }
    });

    test('ClusterRole: list and watch of what the controller watches, patch of its statuses, create of Events, and nothing else', () => {
      const r = render();
      const role = r.one<K8sObject & { rules: Rule[] }>('ClusterRole');
      const gatewayKinds = ['backendtlspolicies', 'gatewayclasses', 'gateways', 'grpcroutes', 'httproutes', 'listenersets', 'referencegrants', 'tcproutes', 'tlsroutes', 'udproutes'];
      const gatewayLines = gatewayKinds.flatMap((k) => [
        ...(k === 'referencegrants' ? [] : [`gateway.networking.k8s.io/${k}/status: patch`, `gateway.networking.k8s.io/${k}/status: update`]),
        `gateway.networking.k8s.io/${k}: get`, `gateway.networking.k8s.io/${k}: list`, `gateway.networking.k8s.io/${k}: watch`,
      ]);
      assert.deepEqual(ruleLines(role.rules), [
        'apiextensions.k8s.io/customresourcedefinitions[gateways.gateway.networking.k8s.io]: get',
        'core/configmaps: list', 'core/configmaps: watch',
        'core/events: create',
        'core/namespaces: list', 'core/namespaces: watch',
        'core/secrets: list', 'core/secrets: watch',
        'core/services: list', 'core/services: watch',
        'discovery.k8s.io/endpointslices: list', 'discovery.k8s.io/endpointslices: watch',
        ...gatewayLines,
        'networking.k8s.io/ingressclasses: list', 'networking.k8s.io/ingressclasses: watch',
        'networking.k8s.io/ingresses/status: patch',
        'networking.k8s.io/ingresses: list', 'networking.k8s.io/ingresses: watch',
        'signalbox.dev/routescripts/status: patch',
        'signalbox.dev/routescripts: list', 'signalbox.dev/routescripts: watch',
      ]);
      // The same list from the controller's own table of watched kinds: a kind added there and not
      // here would leave the controller without a table (it waits for every kind to list).
      const fromSource = [...WATCHED, ...GATEWAY_API_WATCHED, NAMESPACES].flatMap((t) => {
        const group = t.apiVersion.includes('/') ? t.apiVersion.split('/')[0]! : 'core';
        return [`${group}/${t.plural}: list`, `${group}/${t.plural}: watch`];
      });
      const granted = ruleLines(role.rules);
      for (const line of fromSource) assert.ok(granted.includes(line), `the ClusterRole lacks ${line}`);
      assert.equal(granted.filter((l) => / (list|watch)$/.test(l)).length, fromSource.length, 'list/watch only of watched kinds');

      const binding = r.one<K8sObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] }>('ClusterRoleBinding');
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
      const account = r.one('ServiceAccount');
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: DEPLOY_NAMESPACE }]);
      assert.equal(r.workload().spec.template.spec.serviceAccountName, account.metadata.name);
    });

    test('gatewayAPI: on by default with our controller name and its RBAC; off, the controller leaves it alone and gets nothing of it', () => {
      assert.equal(render().flags().get('--gateway-controller-name'), 'signalbox.dev/gateway-controller');
      assert.deepEqual(render().all('GatewayClass'), []);
      const named = render({ values: { gatewayAPI: { controllerName: 'example.com/edge' } } });
      assert.equal(named.flags().get('--gateway-controller-name'), 'example.com/edge');
      assert.equal(parseControllerArgs(named.container().args).runtime.compile.gatewayControllerName, 'example.com/edge');

      const off = render({ values: { gatewayAPI: { enabled: false, gatewayClass: { create: true } } } });
      assert.equal(off.flags().get('--gateway-controller-name'), 'off');
      assert.equal(parseControllerArgs(off.container().args).runtime.compile.gatewayControllerName, null);
      const lines = ruleLines(off.one<K8sObject & { rules: Rule[] }>('ClusterRole').rules);
      assert.deepEqual(lines.filter((l) => /gateway|namespaces|customresourcedefinitions/.test(l)), []);
      assert.deepEqual(off.all('GatewayClass'), [], 'no GatewayClass for a controller that does not serve it');
    });

    test('gatewayAPI.installCRDs: the v1.6.3 standard CRDs as templates kept on uninstall, the safe-upgrades policy where the cluster has ValidatingAdmissionPolicy', () => {
      const none = render({ includeCrds: true });
      assert.ok(!none.objects.some((o) => o.metadata.name.endsWith('.gateway.networking.k8s.io')), 'no Gateway API CRD by default');
      const on = render({ values: { gatewayAPI: { installCRDs: true } } });
      const crds = on.all('CustomResourceDefinition');
      assert.deepEqual(crds.map((c) => c.metadata.name).sort(), [
        'backendtlspolicies', 'gatewayclasses', 'gateways', 'grpcroutes', 'httproutes', 'listenersets', 'referencegrants', 'tcproutes', 'tlsroutes', 'udproutes',
      ].map((p) => `${p}.gateway.networking.k8s.io`));
      for (const crd of crds) {
        assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep', `${crd.metadata.name} survives helm uninstall`);
        assert.equal(crd.metadata.annotations?.['gateway.networking.k8s.io/bundle-version'], 'v1.6.3');
      }
      // helm template knows no cluster: the policy needs its API (Kubernetes 1.30+) to be announced.
      assert.deepEqual(on.all('ValidatingAdmissionPolicy'), []);
      const run = runHelm(helm(), ['template', DEPLOY_RELEASE, CHART_DIR, '--namespace', DEPLOY_NAMESPACE, '--api-versions', 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy', '--values', '-'], JSON.stringify({ gatewayAPI: { installCRDs: true } }));
      assert.equal(run.status, 0, run.stderr);
      const withPolicy = new Rendered(run.stdout);
      assert.equal(withPolicy.one('ValidatingAdmissionPolicy').metadata.name, 'safe-upgrades.gateway.networking.k8s.io');
      assert.equal(withPolicy.one('ValidatingAdmissionPolicyBinding').metadata.name, 'safe-upgrades.gateway.networking.k8s.io');
    });

    test('gatewayAPI.gatewayClass: a GatewayClass with our controllerName; with the CRDs in the release, a post-install hook on the first install only', () => {
      const values = { gatewayAPI: { controllerName: 'example.com/edge', gatewayClass: { create: true, name: 'edge' } } };
      const plain = render({ values }).one<K8sObject & { spec: { controllerName: string } }>('GatewayClass');
      assert.equal(plain.metadata.name, 'edge');
      assert.equal(plain.metadata.namespace, undefined);
      assert.equal(plain.spec.controllerName, 'example.com/edge');
      assert.equal(plain.metadata.annotations?.['helm.sh/hook'], undefined);
      const withCrds = { gatewayAPI: { ...values.gatewayAPI, installCRDs: true } };
      const installed = render({ values: withCrds }).one('GatewayClass');
      assert.equal(installed.metadata.annotations?.['helm.sh/hook'], 'post-install');
      // Not before-hook-creation: that deletion resolves the kind before the CRDs are discovered.
      assert.equal(installed.metadata.annotations?.['helm.sh/hook-delete-policy'], 'hook-failed');
      // What lets the next upgrade adopt the hook's object as its own.
      assert.equal(installed.metadata.annotations?.['meta.helm.sh/release-name'], DEPLOY_RELEASE);
      assert.equal(installed.metadata.annotations?.['meta.helm.sh/release-namespace'], DEPLOY_NAMESPACE);
      assert.equal(installed.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
      const upgrade = runHelm(helm(), ['template', DEPLOY_RELEASE, CHART_DIR, '--namespace', DEPLOY_NAMESPACE, '--is-upgrade', '--values', '-'], JSON.stringify(withCrds));
      assert.equal(upgrade.status, 0, upgrade.stderr);
      assert.equal(new Rendered(upgrade.stdout).one('GatewayClass').metadata.annotations?.['helm.sh/hook'], undefined);
    });

    test('Role: the leader-election Lease named by --election-id in --election-namespace, get and update; create of Leases', () => {
      const r = render();
      const role = r.one<K8sObject & { rules: Rule[] }>('Role');
      const flags = r.flags();
      assert.equal(flags.get('--election-id'), 'signalbox-leader');
      assert.equal(flags.get('--election-namespace'), DEPLOY_NAMESPACE);
      assert.equal(role.metadata.namespace, DEPLOY_NAMESPACE);
      assert.deepEqual(ruleLines(role.rules), [
        'coordination.k8s.io/leases: create',
        'coordination.k8s.io/leases[signalbox-leader]: get',
        'coordination.k8s.io/leases[signalbox-leader]: update',
      ]);
      const binding = r.one<K8sObject & { roleRef: { kind: string; name: string }; subjects: unknown[] }>('RoleBinding');
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: r.one('ServiceAccount').metadata.name, namespace: DEPLOY_NAMESPACE }]);

      const off = render({ values: { controller: { leaderElection: { enabled: false } } } });
      assert.deepEqual(off.all('Role'), []);
      assert.ok(off.flags().has('--no-leader-elect'));
      assert.ok(!off.flags().has('--election-id'));
    });

    test('the pod runs as a fixed non-root user, read-only, without privileges or capabilities, under RuntimeDefault seccomp', () => {
      const r = render();
      const pod = r.workload().spec.template.spec;
      const container = r.container();
      const { uid, gid } = dockerfileUser();
      assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: uid, runAsGroup: gid, seccompProfile: { type: 'RuntimeDefault' } });
      assert.deepEqual(container.securityContext, {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: gid,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      assert.notEqual(uid, 0);
      // Nothing is written to disk, so there is no writable volume either.
      assert.equal(pod.volumes, undefined);
      assert.equal(pod.hostNetwork, undefined);
      for (const port of container.ports) assert.ok(port.containerPort >= 1024, `${port.name} needs no NET_BIND_SERVICE`);
    });

    test('probes: liveness on /healthz and readiness on /readyz, both on the admin port', () => {
      const r = render();
      const container = r.container();
      const admin = container.ports.find((p) => p.name === 'admin');
      assert.equal(admin?.containerPort, 9901);
      assert.equal(r.flags().get('--admin-port'), '9901');
      assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'admin' });
      assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'admin' });
    });

    test('the Service carries HTTP and HTTPS only, never the admin port, and selects the controller pods', () => {
      const r = render();
      const services = r.all('Service') as ServiceObject[];
      assert.equal(services.length, 1);
      const svc = services[0]!;
      assert.equal(svc.spec.type, 'LoadBalancer');
      assert.deepEqual(svc.spec.ports.map((p) => [p.name, p.port, p.targetPort]), [['http', 80, 'http'], ['https', 443, 'https']]);
      const byName = new Map(r.container().ports.map((p) => [p.name, p.containerPort]));
      assert.equal(byName.get('http'), Number(r.flags().get('--http-port')));
      assert.equal(byName.get('https'), Number(r.flags().get('--https-port')));
      for (const p of svc.spec.ports) assert.ok(p.targetPort !== 'admin' && p.targetPort !== 9901 && p.port !== 9901, `port ${p.name}`);
      const podLabels = r.workload().spec.template.metadata.labels;
      for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(podLabels[k], v, `selector ${k}`);
      assert.deepEqual(r.workload().spec.selector.matchLabels, svc.spec.selector);
    });

    test('--publish-service names the chart\'s own Service, for any release name and namespace', () => {
      for (const [release, namespace] of [[DEPLOY_RELEASE, DEPLOY_NAMESPACE], ['edge', 'ingress-system']] as const) {
        const r = render({ release, namespace });
        const svc = r.one('Service');
        assert.equal(r.flags().get('--publish-service'), `${namespace}/${svc.metadata.name}`);
        assert.equal(svc.metadata.namespace, namespace);
      }
      const fixed = render({ values: { controller: { publishAddresses: ['203.0.113.7', 'edge.example.com'] } } });
      assert.equal(fixed.flags().get('--publish-address'), '203.0.113.7,edge.example.com');
      assert.ok(!fixed.flags().has('--publish-service'));
    });

    test('the IngressClass names our controller, and is the default class only when asked', () => {
      const r = render();
      const cls = r.one<K8sObject & { spec: { controller: string } }>('IngressClass');
      assert.equal(cls.spec.controller, DEFAULT_COMPILE_OPTIONS.controllerName);
      assert.equal(cls.spec.controller, 'signalbox.dev/ingress-controller');
      assert.equal(r.flags().get('--controller-name'), cls.spec.controller);
      assert.equal(cls.metadata.name, 'signalbox');
      assert.equal(r.flags().get('--ingress-class'), cls.metadata.name);
      assert.equal(cls.metadata.annotations, undefined);
      const dflt = render({ values: EVERYTHING_ON }).one('IngressClass');
      assert.deepEqual(dflt.metadata.annotations, { 'ingressclass.kubernetes.io/is-default-class': 'true' });
      assert.deepEqual(render({ values: { ingressClass: { create: false } } }).all('IngressClass'), []);
    });

    test('every controller argument is a flag signalbox controller knows, with a value it accepts', () => {
      for (const values of [undefined, EVERYTHING_ON, { kind: 'DaemonSet', controller: { trustedProxies: ['10.0.0.0/8', '192.0.2.1'], extraArgs: ['--connect-timeout=2s'] } }]) {
        const r = render(values ? { values } : {});
        const { unknown, opts, runtime } = parseControllerArgs(r.container().args);
        assert.deepEqual(unknown, [], 'unknown flags');
        assert.equal(runtime.dataplane.httpPort, 8080);
        assert.equal(runtime.dataplane.httpsPort, 8443);
        assert.equal(runtime.adminPort, 9901);
        assert.equal(opts.publishService, `${DEPLOY_NAMESPACE}/signalbox`);
        // The kubelet sends SIGKILL at terminationGracePeriodSeconds: the drain and the grace must fit in it.
        const pod = r.workload().spec.template.spec;
        assert.ok(pod.terminationGracePeriodSeconds * 1000 > runtime.drainMs + runtime.graceMs,
          `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} vs drain ${runtime.drainMs} ms + grace ${runtime.graceMs} ms`);
        assert.ok(runtime.drainMs >= 5_000, 'a drain long enough for endpoint removal to reach the load balancers');
      }
    });

    test('the downward API gives the controller POD_NAME, POD_NAMESPACE and POD_IP', () => {
      const env = new Map(render().container().env.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
      assert.equal(env.get('POD_NAME'), 'metadata.name');
      assert.equal(env.get('POD_NAMESPACE'), 'metadata.namespace');
      assert.equal(env.get('POD_IP'), 'status.podIP');
    });

    test('--workers follows the CPU limit, else the request, rounded up; an explicit value wins', () => {
      const workers = (values?: Record<string, unknown>) => render(values ? { values } : {}).flags().get('--workers');
      assert.equal(workers(), '1');
      assert.equal(workers({ resources: { limits: { cpu: '2500m' } } }), '3');
      assert.equal(workers({ resources: { requests: { cpu: 2 } } }), '2');
      assert.equal(workers({ resources: { requests: { cpu: '250m' } } }), '1');
      assert.equal(workers({ resources: { requests: { cpu: 0.5 }, limits: { cpu: 4 } } }), '4');
      assert.equal(workers({ controller: { workers: 6 } }), '6');
      // No CPU at all: the flag is left out and every core is the container's to use.
      assert.equal(workers({ resources: { requests: { cpu: null }, limits: { cpu: null } } }), undefined);
    });

    test('--script-memory-budget is half the memory limit shared by the workers; an explicit value wins', () => {
      const budget = (values?: Record<string, unknown>) => render(values ? { values } : {}).flags().get('--script-memory-budget');
      assert.equal(budget(), '512MiB');
      assert.equal(budget({ resources: { limits: { memory: '2Gi', cpu: 2 } } }), '512MiB');
      assert.equal(budget({ resources: { limits: { memory: '1000M' } } }), '476MiB');
      assert.equal(budget({ resources: { limits: { memory: '3Gi', cpu: '2500m' } } }), '512MiB');
      assert.equal(budget({ resources: { limits: { memory: '16Mi' } } }), '8MiB');
      assert.equal(budget({ controller: { scriptMemoryBudget: 'off' } }), 'off');
      // No memory limit: the flag is left out, and its default applies.
      assert.equal(budget({ resources: { limits: { memory: null } } }), undefined);
    });

    test('a Deployment spreads over nodes and zones, keeps its capacity through a rollout and has a PodDisruptionBudget', () => {
      const r = render();
      const deployment = r.one<Workload & { spec: { strategy: unknown } }>('Deployment');
      assert.equal(deployment.spec.replicas, 2);
      assert.deepEqual(deployment.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
      const spread = deployment.spec.template.spec.topologySpreadConstraints ?? [];
      assert.deepEqual(spread.map((c) => c.topologyKey), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      for (const c of spread) assert.deepEqual(c.labelSelector.matchLabels, deployment.spec.selector.matchLabels);
      const pdb = r.one<K8sObject & { spec: { maxUnavailable?: number; minAvailable?: number; selector: { matchLabels: unknown } } }>('PodDisruptionBudget');
      assert.equal(pdb.spec.maxUnavailable, 1);
      assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
      const min = render({ values: { podDisruptionBudget: { minAvailable: '50%' } } }).one<K8sObject & { spec: Record<string, unknown> }>('PodDisruptionBudget');
      assert.equal(min.spec.minAvailable, '50%');
      assert.equal(min.spec.maxUnavailable, undefined);
    });

    test('kind DaemonSet: one pod per node, no replicas, spread or PodDisruptionBudget', () => {
      const r = render({ values: { kind: 'DaemonSet' } });
      assert.deepEqual(r.all('Deployment'), []);
      assert.deepEqual(r.all('PodDisruptionBudget'), []);
      const ds = r.one<Workload & { spec: { updateStrategy: unknown } }>('DaemonSet');
      assert.equal(ds.spec.replicas, undefined);
      assert.equal(ds.spec.template.spec.topologySpreadConstraints, undefined);
      assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
      assert.equal(ds.spec.template.spec.containers[0]!.securityContext.readOnlyRootFilesystem, true);
    });

    test('every option on: NodePort, autoscaler, ServiceMonitor on a headless admin Service, dashboard, default class', () => {
      const r = render({ values: EVERYTHING_ON });
      assert.deepEqual(r.kinds(), [
        'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'IngressClass', 'NetworkPolicy', 'PodDisruptionBudget', 'Role',
        'RoleBinding', 'Service', 'Service', 'ServiceAccount', 'ServiceMonitor',
      ]);
      const traffic = r.one<ServiceObject>('Service', 'signalbox');
      assert.equal(traffic.spec.type, 'NodePort');
      assert.equal(traffic.spec.externalTrafficPolicy, 'Local');
      assert.deepEqual(traffic.spec.ports.map((p) => [p.name, p.nodePort]), [['http', 30080], ['https', 30443]]);

      const deployment = r.one<Workload>('Deployment');
      assert.equal(deployment.spec.replicas, undefined, 'the autoscaler owns the replica count');
      const hpa = r.one<K8sObject & { spec: { scaleTargetRef: unknown; minReplicas: number; maxReplicas: number } }>('HorizontalPodAutoscaler');
      assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
      assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [3, 7]);

      const metrics = r.one<ServiceObject>('Service', 'signalbox-metrics');
      assert.equal(metrics.spec.clusterIP, 'None');
      assert.deepEqual(metrics.spec.ports.map((p) => [p.name, p.port, p.targetPort]), [['admin', 9901, 'admin']]);
      assert.deepEqual(metrics.spec.selector, traffic.spec.selector);
      const monitor = r.one<K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: unknown; endpoints: { port: string; path: string }[] } }>('ServiceMonitor');
      assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
      assert.equal(monitor.metadata.labels?.release, 'prometheus');
      assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: [DEPLOY_NAMESPACE] });
      assert.deepEqual(monitor.spec.endpoints.map((e) => [e.port, e.path]), [['admin', '/metrics']]);
      for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(metrics.metadata.labels?.[k], v, `ServiceMonitor selector ${k}`);
      assert.notEqual(traffic.metadata.labels?.['app.kubernetes.io/component'], monitor.spec.selector.matchLabels['app.kubernetes.io/component'],
        'the ServiceMonitor must not select the traffic Service (it has no admin port)');

      const dashboard = r.one<K8sObject & { data: Record<string, string> }>('ConfigMap');
      assert.equal(dashboard.metadata.labels?.grafana_dashboard, '1');
      assert.deepEqual(JSON.parse(dashboard.data['signalbox.json']!), JSON.parse(readFileSync(DASHBOARD, 'utf8')));
      assert.equal(render({ values: { dashboard: { enabled: true, namespace: 'monitoring' } } }).one('ConfigMap').metadata.namespace, 'monitoring');
    });

    test('the debug listener stays on the pod\'s loopback by default: no port declared, no token, no volume', () => {
      const r = render();
      const flags = r.flags();
      assert.equal(flags.get('--debug-port'), '9902');
      assert.ok(!flags.has('--debug-bind') && !flags.has('--debug-token-file'));
      assert.deepEqual(parseControllerArgs(r.container().args).runtime.debug, { bind: '127.0.0.1', port: 9902, tokenFile: null });
      assert.deepEqual(r.container().ports.map((p) => p.name), ['http', 'https', 'admin'], 'nothing to reach from outside the pod');
      assert.equal(r.container().volumeMounts, undefined);
      assert.equal(r.workload().spec.template.spec.volumes, undefined);
      const off = render({ values: { debug: { enabled: false } } });
      assert.equal(off.flags().get('--debug-port'), 'off');
      assert.equal(parseControllerArgs(off.container().args).runtime.debug, null);
    });

    test('debug.expose: every pod address, with the token file from an existing Secret mounted read-only, the pod as locked down as before', () => {
      const values = { debug: { expose: true, tokenSecret: { name: 'ops-debug', key: 'bearer' } } };
      const r = render({ values });
      const { runtime } = parseControllerArgs(r.container().args);
      assert.equal(runtime.debug?.bind, '0.0.0.0');
      assert.equal(runtime.debug?.port, 9902);
      const container = r.container();
      assert.equal(container.ports.find((p) => p.name === 'debug')?.containerPort, 9902);
      const pod = r.workload().spec.template.spec;
      assert.deepEqual(pod.volumes, [{ name: 'debug-token', secret: { secretName: 'ops-debug', items: [{ key: 'bearer', path: 'token' }], defaultMode: 0o444 } }]);
      const [mount, ...others] = container.volumeMounts ?? [];
      assert.deepEqual(others, []);
      assert.equal(mount?.name, 'debug-token');
      assert.equal(mount?.readOnly, true);
      // A subPath mount would never see the Secret change: the kubelet only updates whole volumes.
      assert.equal(mount?.subPath, undefined);
      assert.equal(runtime.debug?.tokenFile, `${mount?.mountPath}/token`);
      assert.deepEqual(container.securityContext, render().container().securityContext);
      assert.deepEqual(pod.securityContext, render().workload().spec.template.spec.securityContext);
      // A token without expose: still loopback, but port-forwarded requests need the token too.
      const loopback = parseControllerArgs(render({ values: { debug: { tokenSecret: { name: 'ops-debug' } } } }).container().args).runtime.debug;
      assert.deepEqual(loopback, { bind: '127.0.0.1', port: 9902, tokenFile: runtime.debug?.tokenFile });
      assert.match(renderFailure({ debug: { expose: true } }), /debug.expose needs debug.tokenSecret.name: an exposed debug listener only answers requests with its bearer token/);
    });

    test('networkPolicy: traffic ports from anywhere, the admin and an exposed debug port only from the peers given, nothing else', () => {
      assert.deepEqual(render().all('NetworkPolicy'), []);
      type Policy = K8sObject & { spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: { from?: unknown[]; ports: { port: number; protocol: string }[] }[] } };
      const r = render({ values: EVERYTHING_ON });
      const policy = r.one<Policy>('NetworkPolicy');
      assert.deepEqual(policy.spec.podSelector.matchLabels, r.workload().spec.selector.matchLabels);
      assert.deepEqual(policy.spec.policyTypes, ['Ingress'], 'egress (the API server, the upstreams) is left alone');
      const rules = policy.spec.ingress.map((rule) => ({ from: rule.from ?? 'anywhere', ports: rule.ports.map((p) => `${p.port}/${p.protocol}`) }));
      assert.deepEqual(rules, [
        { from: 'anywhere', ports: ['8080/TCP', '8443/TCP'] },
        { from: EVERYTHING_ON.networkPolicy.adminFrom, ports: ['9901/TCP'] },
        { from: EVERYTHING_ON.networkPolicy.debugFrom, ports: ['9902/TCP'] },
      ]);
      // Every port the container declares is in exactly one rule.
      const covered = rules.flatMap((rule) => rule.ports).sort();
      assert.deepEqual(covered, r.container().ports.map((p) => `${p.containerPort}/TCP`).sort());
      // Without peers the admin port is closed to other pods; a debug port on loopback needs no rule.
      const closed = render({ values: { networkPolicy: { enabled: true, debugFrom: [{ ipBlock: { cidr: '10.0.0.0/8' } }] } } }).one<Policy>('NetworkPolicy');
      assert.deepEqual(closed.spec.ingress.map((rule) => rule.ports.map((p) => p.port)), [[8080, 8443]]);
    });

    test('the values schema refuses a wrong value before anything is rendered, saying which and why', () => {
      assert.match(renderFailure({ service: { type: 'Foo' } }), /at '\/service\/type': value must be one of 'LoadBalancer', 'NodePort', 'ClusterIP'/);
      assert.match(renderFailure({ replicaCount: -1 }), /at '\/replicaCount': minimum: got -1, want 0/);
      assert.match(renderFailure({ kind: 'StatefulSet' }), /at '\/kind': value must be one of 'Deployment', 'DaemonSet'/);
      assert.match(renderFailure({ replicas: 3 }), /additional properties 'replicas' not allowed/);
      assert.match(renderFailure({ controller: { drainSeconds: '10s' } }), /at '\/controller\/drainSeconds': got string, want integer/);
      assert.match(renderFailure({ controller: { accessLog: '/var/log/access.log' } }), /at '\/controller\/accessLog': value must be one of 'stdout', 'stderr', 'off'/);
      assert.match(renderFailure({ containerPorts: { http: 80 } }), /at '\/containerPorts\/http': minimum: got 80, want 1,?024/);
      assert.match(renderFailure({ resources: { limits: { cpu: 'two' } } }), /at '\/resources\/limits\/cpu'/);
      assert.match(renderFailure({ kind: 'DaemonSet', autoscaling: { enabled: true } }), /autoscaling.enabled needs kind: Deployment/);
      assert.match(renderFailure({ containerPorts: { debug: 99 } }), /at '\/containerPorts\/debug': minimum: got 99, want 1,?024/);
      assert.match(renderFailure({ debug: { tokenSecret: { name: 'Not_A_Name' } } }), /at '\/debug\/tokenSecret\/name'/);
      assert.match(renderFailure({ debug: { expose: 'yes' } }), /at '\/debug\/expose': got string, want boolean/);
      assert.match(renderFailure({ networkPolicy: { enabled: true, adminFrom: [{ ipBlock: { cidr: 'everyone' } }] } }), /at '\/networkPolicy\/adminFrom\/0\/ipBlock\/cidr'/);
      assert.match(renderFailure({ networkPolicy: { enabled: true, adminFrom: [{ namespace: 'monitoring' }] } }), /at '\/networkPolicy\/adminFrom\/0'/);
      assert.match(renderFailure({ autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } }), /autoscaling.minReplicas \(5\) is more than autoscaling.maxReplicas \(2\)/);
      assert.match(renderFailure({ gatewayAPI: { controllerName: 'no-path' } }), /at '\/gatewayAPI\/controllerName'/);
      assert.match(renderFailure({ gatewayAPI: { gatewayClass: { name: 'Not_A_Name' } } }), /at '\/gatewayAPI\/gatewayClass\/name'/);
      assert.match(renderFailure({ gatewayAPI: { installCrds: true } }), /additional properties 'installCrds' not allowed/);
      // The whole message, as `helm install --set service.type=Foo` prints it.
      assert.equal(renderFailure({ service: { type: 'Foo' } }),
        "Error: values don't meet the specifications of the schema(s) in the following chart(s):\nsignalbox:\n- at '/service/type': value must be one of 'LoadBalancer', 'NodePort', 'ClusterIP'");
    });

    test('helm package keeps the CRD, the dashboard and the schema, and the package renders as the directory does', () => {
      const dir = mkdtempSync(join(tmpdir(), 'signalbox-chart-'));
      try {
        const packaged = runHelm(helm(), ['package', CHART_DIR, '--destination', dir]);
        assert.equal(packaged.status, 0, packaged.stderr);
        assert.equal(packaged.stderr, '', 'no warnings (a symlink in the chart would print one)');
        const tgz = join(dir, 'signalbox-0.1.0.tgz');
        const listing = spawnSync('tar', ['-tzf', tgz], { encoding: 'utf8' });
        assert.equal(listing.status, 0, listing.stderr);
        const files = listing.stdout.split('\n');
        for (const f of ['crds/routescript.yaml', 'dashboards/signalbox.json', 'values.schema.json', 'templates/NOTES.txt']) assert.ok(files.includes(`signalbox/${f}`), `${f} is packaged`);
        const fromPackage = runHelm(helm(), ['template', DEPLOY_RELEASE, tgz, '--namespace', DEPLOY_NAMESPACE, '--include-crds', '--values', '-'], JSON.stringify(EVERYTHING_ON));
        assert.equal(fromPackage.status, 0, fromPackage.stderr);
        assert.equal(fromPackage.stdout, helmTemplate(helm(), { includeCrds: true, values: EVERYTHING_ON }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('deploy/signalbox.yaml is the chart rendered with its defaults (run make deploy-manifest after changing the chart)', () => {
      const fresh = deployManifestText(helm());
      assert.ok(readFileSync(DEPLOY_MANIFEST, 'utf8') === fresh, 'deploy/signalbox.yaml is stale: run `make deploy-manifest`');
      const objects = parseObjects(fresh);
      assert.equal(objects[0]?.kind, 'Namespace');
      assert.equal(objects[0]?.metadata.name, DEPLOY_NAMESPACE);
      assert.equal(objects[1]?.kind, 'CustomResourceDefinition');
    });
  });
}
