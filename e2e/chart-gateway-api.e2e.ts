/**
 * The chart's Gateway API values against a real kube-apiserver: `gatewayAPI.installCRDs` installs
 * the v1.6.3 CRDs (and the safe-upgrades policy) with the release, `gatewayAPI.gatewayClass.create`
 * adds a GatewayClass of ours on that same first install (a post-install hook) that the next upgrade
 * adopts, the ClusterRole grants what the controller does with the Gateway API and no more, and
 * `helm uninstall` leaves the CRDs in place.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHART_DIR, runHelm } from '../test/chart/chart-tools.ts';
import { k8sBinDir, startCluster, type TestCluster } from './harness/cluster.ts';
import { get, type KubeObject } from './harness/objects.ts';

const GROUP = 'gateway.networking.k8s.io';

function annotation(object: KubeObject | null, name: string): string | undefined {
  return (object?.metadata.annotations as Record<string, string> | undefined)?.[name];
}

describe('the chart with the Gateway API', () => {
  let helm = '';
  let cluster: TestCluster;

  before(async () => {
    helm = join(await k8sBinDir(), 'helm');
    cluster = await startCluster();
  }, { timeout: 30 * 60_000 });

  after(async () => {
    await cluster?.stop();
  });

  test('installCRDs and gatewayClass.create: CRDs, then the GatewayClass, on the first install; adopted on upgrade; CRDs kept on uninstall', async () => {
    const env = ['--kubeconfig', cluster.kubeconfigPath];
    const release = ['gw', CHART_DIR, '--namespace', 'gw-system'];
    const install = runHelm(helm, ['install', ...release, '--create-namespace', '--set', 'controller.ingressClass=gw', '--set', 'gatewayAPI.installCRDs=true', '--set', 'gatewayAPI.gatewayClass.create=true', '--set', 'gatewayAPI.gatewayClass.name=gw', ...env]);
    assert.equal(install.status, 0, install.stderr);
    assert.match(install.stdout, /The Gateway API is served too, for GatewayClasses with controllerName signalbox\.dev\/gateway-controller \(GatewayClass gw is one\)/);

    for (const plural of ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'tlsroutes', 'tcproutes', 'udproutes', 'listenersets', 'referencegrants', 'backendtlspolicies']) {
      const crd = await get(cluster, 'crd', `${plural}.${GROUP}`);
      assert.equal(annotation(crd, 'gateway.networking.k8s.io/bundle-version'), 'v1.6.3', plural);
      assert.equal(annotation(crd, 'helm.sh/resource-policy'), 'keep', plural);
    }
    // The API server has ValidatingAdmissionPolicy, so the policy came along.
    assert.ok(await get(cluster, 'validatingadmissionpolicy', `safe-upgrades.${GROUP}`));
    const created = await get(cluster, `gatewayclasses.${GROUP}`, 'gw');
    assert.equal((created?.spec as { controllerName: string }).controllerName, 'signalbox.dev/gateway-controller');
    assert.equal(annotation(created, 'helm.sh/hook'), 'post-install');

    // What the controller's ServiceAccount may do with the Gateway API, and what it may not.
    const as = ['--as', 'system:serviceaccount:gw-system:gw-signalbox'];
    const can = async (...args: string[]): Promise<string> => (await cluster.kubectl(['auth', 'can-i', ...args, ...as])).stdout.trim();
    assert.equal(await can('list', `gateways.${GROUP}`, '--all-namespaces'), 'yes');
    assert.equal(await can('watch', `httproutes.${GROUP}`, '--all-namespaces'), 'yes');
    assert.equal(await can('patch', `httproutes.${GROUP}`, '--subresource=status', '-n', 'default'), 'yes');
    assert.equal(await can('list', 'namespaces'), 'yes');
    assert.equal(await can('get', `customresourcedefinitions/gateways.${GROUP}`), 'yes');
    assert.equal(await can('get', 'customresourcedefinitions/routescripts.signalbox.dev'), 'no');
    assert.equal(await can('update', `httproutes.${GROUP}`, '-n', 'default'), 'no', 'a route\'s spec is not ours to change');
    assert.equal(await can('create', `gateways.${GROUP}`, '-n', 'default'), 'no');

    const upgrade = runHelm(helm, ['upgrade', ...release, '--reuse-values', ...env]);
    assert.equal(upgrade.status, 0, upgrade.stderr);
    const adopted = await get(cluster, `gatewayclasses.${GROUP}`, 'gw');
    assert.equal(adopted?.metadata.uid, created?.metadata.uid, 'the same GatewayClass, never deleted and recreated');
    assert.match(runHelm(helm, ['get', 'manifest', 'gw', '--namespace', 'gw-system', ...env]).stdout, /kind: GatewayClass/);

    const uninstall = runHelm(helm, ['uninstall', 'gw', '--namespace', 'gw-system', '--wait', ...env]);
    assert.equal(uninstall.status, 0, uninstall.stderr);
    assert.equal(await get(cluster, `gatewayclasses.${GROUP}`, 'gw'), null, 'the adopted GatewayClass goes with the release');
    assert.ok(await get(cluster, 'crd', `gateways.${GROUP}`), 'the CRDs stay');
    assert.equal(await get(cluster, 'clusterrole', 'gw-signalbox'), null);
  });
});
