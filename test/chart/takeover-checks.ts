/**
 * The chart's `ingressNginx.takeOver` preset, rendered with helm: the flags that make the controller
 * ingress-nginx's successor (its class and controller name, its ConfigMap), no IngressClass of the
 * chart's own, and RBAC that reaches the ConfigMap in ingress-nginx's namespace. Registered next to
 * the other chart checks by test/chart/chart.test.ts and e2e/chart.e2e.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nginxConfigMapOf, profileOf } from '../../src/compile/ingress-nginx/profile.ts';
import { CHART_DIR, DEPLOY_NAMESPACE, helmTemplate, helmTemplateRun, runHelm, type K8sObject, type TemplateOptions } from './chart-tools.ts';
import { parseControllerArgs, Rendered, ruleLines, type Rule } from './chart-checks.ts';

/** The preset as the README has it: `--set ingressNginx.takeOver=true`. */
export const TAKE_OVER = { ingressNginx: { takeOver: true } } as const;

type Binding = K8sObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace?: string }[] };

/**
 * What the rendered RBAC lets ServiceAccount `account` of the release do in `namespace`, as rule
 * lines: its ClusterRoles (bound cluster-wide) and the Roles bound in that namespace.
 */
function grantedIn(r: Rendered, account: string, namespace: string): string[] {
  const bindsUs = (b: Binding): boolean => b.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === DEPLOY_NAMESPACE);
  const roleRules = (kind: string, name: string, ns?: string): Rule[] =>
    (r.all(kind) as (K8sObject & { rules: Rule[] })[]).filter((o) => o.metadata.name === name && o.metadata.namespace === ns).flatMap((o) => o.rules);
  const cluster = (r.all('ClusterRoleBinding') as Binding[]).filter(bindsUs).flatMap((b) => roleRules('ClusterRole', b.roleRef.name));
  const local = (r.all('RoleBinding') as Binding[]).filter((b) => b.metadata.namespace === namespace && bindsUs(b))
    .flatMap((b) => (b.roleRef.kind === 'ClusterRole' ? roleRules('ClusterRole', b.roleRef.name) : roleRules('Role', b.roleRef.name, namespace)));
  return ruleLines([...cluster, ...local]);
}

/** Registers the preset's checks; `helm` is read when they run. */
export function takeOverChartTests(helm: () => string): void {
  const render = (options: TemplateOptions): Rendered => new Rendered(helmTemplate(helm(), options));

  describe('helm chart charts/signalbox: the ingressNginx.takeOver preset', () => {
    test('serves class nginx of controller k8s.io/ingress-nginx in the ingress-nginx profile, reading ingress-nginx/ingress-nginx-controller', () => {
      const r = render({ values: TAKE_OVER });
      const flags = r.flags();
      assert.equal(flags.get('--ingress-class'), 'nginx');
      assert.equal(flags.get('--controller-name'), 'k8s.io/ingress-nginx');
      assert.equal(flags.get('--nginx-configmap'), 'ingress-nginx/ingress-nginx-controller');
      assert.ok(!flags.has('--watch-ingress-without-class'), 'Ingresses without a class stay unclaimed, as with ingress-nginx\'s default');
      // What the controller makes of those flags: ingress-nginx's defaults and its ConfigMap.
      const { unknown, runtime } = parseControllerArgs(r.container().args);
      assert.deepEqual(unknown, []);
      assert.equal(profileOf(runtime.compile), 'ingress-nginx');
      assert.equal(nginxConfigMapOf(runtime.compile), 'ingress-nginx/ingress-nginx-controller');
      assert.equal(runtime.compile.ingressClass, 'nginx');
      // Everything else is the ordinary install, leader election (and so status writing) included.
      assert.equal(flags.get('--publish-service'), `${DEPLOY_NAMESPACE}/signalbox`);
      assert.equal(flags.get('--election-id'), 'signalbox-leader');
    });

    test('creates no IngressClass: ingress-nginx\'s stays, even with ingressClass.create and ingressClass.default', () => {
      const r = render({ values: { ...TAKE_OVER, ingressClass: { create: true, default: true } } });
      assert.deepEqual(r.all('IngressClass'), []);
      assert.deepEqual(r.kinds(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
      // The chart's own class settings give way to the preset's.
      const named = render({ values: { ...TAKE_OVER, controller: { ingressClass: 'edge', controllerName: 'example.com/edge' } } });
      assert.equal(named.flags().get('--ingress-class'), 'nginx');
      assert.equal(named.flags().get('--controller-name'), 'k8s.io/ingress-nginx');
      assert.deepEqual(named.all('IngressClass'), []);
      // Without the preset nothing changes: the chart's own class, no ConfigMap flag.
      const plain = render({});
      assert.equal(plain.one('IngressClass').metadata.name, 'signalbox');
      assert.ok(!plain.flags().has('--nginx-configmap'));
    });

    test('the RBAC lets the controller list and watch the ConfigMap in ingress-nginx\'s namespace, and never write it', () => {
      for (const configMap of ['ingress-nginx/ingress-nginx-controller', 'edge-nginx/edge-controller']) {
        const r = render({ values: { ingressNginx: { takeOver: true, configMap } } });
        const account = r.one('ServiceAccount').metadata.name;
        assert.equal(r.workload().spec.template.spec.serviceAccountName, account);
        const namespace = configMap.split('/')[0]!;
        const granted = grantedIn(r, account, namespace);
        // List and watch are what the controller's ConfigMap cache does (no single GET).
        for (const line of ['core/configmaps: list', 'core/configmaps: watch']) {
          assert.ok(granted.includes(line), `${line} in namespace ${namespace}: ${granted.join(', ')}`);
        }
        assert.ok(ruleLines(r.one<K8sObject & { rules: Rule[] }>('ClusterRole').rules).includes('networking.k8s.io/ingressclasses: list'), 'reads ingress-nginx\'s IngressClass');
        assert.ok(!granted.some((l) => /configmaps: (get|update|patch|create|delete)/.test(l)), 'the ConfigMap stays ingress-nginx\'s: nothing writes it');
      }
    });

    test('another class, ConfigMap and Ingresses without a class, as ingress-nginx\'s chart values name them', () => {
      const r = render({ values: { ingressNginx: { takeOver: true, ingressClass: 'nginx-internal', configMap: 'ingress-internal/internal-ingress-nginx-controller', watchIngressWithoutClass: true } } });
      const { runtime } = parseControllerArgs(r.container().args);
      assert.equal(runtime.compile.ingressClass, 'nginx-internal');
      assert.equal(nginxConfigMapOf(runtime.compile), 'ingress-internal/internal-ingress-nginx-controller');
      assert.equal(runtime.compile.watchIngressWithoutClass, true);
      assert.deepEqual(r.all('IngressClass'), []);
    });

    test('passes helm lint --strict, and the schema refuses a ConfigMap without its namespace', () => {
      const lint = runHelm(helm(), ['lint', '--strict', CHART_DIR, '--values', '-'], JSON.stringify(TAKE_OVER));
      assert.equal(lint.status, 0, `${lint.stdout}\n${lint.stderr}`);
      for (const values of [{ ingressNginx: { takeOver: true, configMap: 'ingress-nginx-controller' } }, { ingressNginx: { takeOver: 'yes' } }, { ingressNginx: { takeover: true } }]) {
        const run = helmTemplateRun(helm(), { values });
        assert.notEqual(run.status, 0, `helm template accepted ${JSON.stringify(values)}`);
        assert.match(run.stderr, /ingressNginx/);
      }
    });
  });
}
