/**
 * `signalbox migrate --cluster` against a real API server, run as a user runs it (the CLI as a
 * child process, a kubeconfig): Ingresses written for ingress-nginx and its controller ConfigMap
 * are read from the API, and the report says for each Ingress what taking over would do — served,
 * served with differences, refused, or another controller's — with the ConfigMap's effect, in one
 * namespace or all, and a clear failure when the API refuses to list.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, startCluster, type TestCluster } from './harness/cluster.ts';
import { apply, createServiceWithEndpoints, deleteResource, type KubeObject } from './harness/objects.ts';

const BIN = join(REPO_ROOT, 'bin', 'signalbox.js');
const NGINX = 'nginx.ingress.kubernetes.io/';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `signalbox ARGS` to its end, killed after `timeoutMs` (a hang fails the test, never the run). */
function signalbox(args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** An Ingress as an ingress-nginx user writes it: one host, path `/` to Service `web`, annotations under nginx's prefix. */
function nginxIngress(name: string, namespace: string, host: string, className: string, annotations: Record<string, string>): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
    spec: {
      ingressClassName: className,
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
    },
  };
}

interface JsonReport {
  notes: string[];
  ingresses: {
    namespace: string;
    name: string;
    ingressClass: string | null;
    verdict: string;
    served: boolean;
    accepted: { status: string; reason: string } | null;
    annotations: { name: string; support: string }[];
    diagnostics: { severity: string; code: string; message: string }[];
  }[];
  otherDiagnostics: { kind: string; namespace: string; name: string; severity: string; code: string; message: string }[];
  summary: { ingresses: number; served: number; differences: number; refused: number; notTaken: number; line: string };
}

/** The controller ConfigMap of an ingress-nginx installation that allows snippets, with one key signalbox ignores. */
const CONFIG_MAP: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' },
  data: { 'allow-snippet-annotations': 'true', 'annotations-risk-level': 'Critical', 'use-geoip': 'true' },
};

describe('signalbox migrate --cluster against a real API server', () => {
  let cluster: TestCluster;
  let kubeconfig: string[];

  before(async () => {
    cluster = await startCluster();
    kubeconfig = ['--kubeconfig', cluster.kubeconfigPath];
    await apply(cluster, ['shop', 'blog', 'ingress-nginx'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
    // What an ingress-nginx installation leaves in a cluster, plus another controller's class.
    await apply(cluster, [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'traefik' }, spec: { controller: 'traefik.io/ingress-controller' } },
    ]);
    await createServiceWithEndpoints(cluster, 'web', 8080, { namespace: 'shop' });
    await createServiceWithEndpoints(cluster, 'web', 8080, { namespace: 'blog' });
    await apply(cluster, [
      nginxIngress('storefront', 'shop', 'shop.test', 'nginx', { 'proxy-body-size': '8m', 'ssl-redirect': 'false' }),
      nginxIngress('api', 'shop', 'api.test', 'nginx', { 'enable-opentelemetry': 'true' }),
      nginxIngress('legacy', 'shop', 'legacy.test', 'nginx', { 'configuration-snippet': 'more_set_headers "X-Legacy: 1";' }),
      nginxIngress('elsewhere', 'shop', 'other.test', 'traefik', { 'rewrite-target': '/' }),
      nginxIngress('posts', 'blog', 'blog.test', 'nginx', { 'proxy-read-timeout': '120' }),
    ]);
  }, { timeout: 240_000 });

  after(() => cluster?.stop());

  test('the table: each Ingress\'s verdict, another class left alone, and a note that ingress-nginx\'s ConfigMap is missing', async () => {
    const r = await signalbox(['migrate', '--cluster', ...kubeconfig]);
    assert.equal(r.status, 0, r.stderr);
    const blocks = r.stdout.trimEnd().split('\n\n');
    const block = (id: string): string => blocks.find((b) => b.startsWith(`Ingress ${id} `)) ?? assert.fail(`no block for ${id} in:\n${r.stdout}`);
    assert.match(block('shop/storefront'), /^Ingress shop\/storefront \(class nginx\): served as ingress-nginx would\n {2}Accepted: True \(Accepted\)$/m);
    assert.match(block('shop/api'), /^Ingress shop\/api \(class nginx\): served, with differences$/m);
    assert.match(block('shop/api'), /^ {4}enable-opentelemetry +unsupported +No tracing\./m);
    assert.match(block('shop/api'), /^ {4}warning +AnnotationUnsupported: .*enable-opentelemetry/m);
    assert.match(block('shop/legacy'), /^Ingress shop\/legacy \(class nginx\): refused: not served\n {2}Accepted: False \(AnnotationRiskRefused\)$/m);
    assert.match(block('shop/legacy'), /configuration-snippet is a Critical-risk annotation and annotations-risk-level is High/);
    assert.match(block('shop/elsewhere'), /^Ingress shop\/elsewhere \(class traefik\): not of the class taken over: left to its own controller$/m);
    assert.doesNotMatch(block('shop/elsewhere'), /Accepted:/, 'another controller\'s Ingress gets no verdict of ours');
    assert.match(block('blog/posts'), /^Ingress blog\/posts \(class nginx\): served as ingress-nginx would$/m);
    assert.match(r.stdout, /^note: ConfigMap ingress-nginx\/ingress-nginx-controller does not exist in the cluster: ingress-nginx's defaults apply/m);
    assert.doesNotMatch(r.stdout, /IngressClass nginx .*assumed/, 'the cluster has the class: nothing is assumed');
    assert.equal(blocks.at(-1), '5 Ingresses: 2 served as ingress-nginx would, 1 with differences, 1 refused, 1 not of the class');
    // --fail-on-unsupported gates CI on the same report.
    assert.equal((await signalbox(['migrate', '--cluster', ...kubeconfig, '--fail-on-unsupported'])).status, 1);
  });

  test('JSON, once ingress-nginx\'s ConfigMap allows snippets: the snippet Ingress is served, the ConfigMap\'s ignored key reported', async () => {
    await apply(cluster, [CONFIG_MAP]);
    try {
      const r = await signalbox(['migrate', '--cluster', ...kubeconfig, '--output', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as JsonReport;
      assert.deepEqual(out.ingresses.map((i) => [`${i.namespace}/${i.name}`, i.verdict, i.served]), [
        ['blog/posts', 'served', true],
        ['shop/api', 'differences', true],
        ['shop/elsewhere', 'not-taken', false],
        ['shop/legacy', 'differences', true],
        ['shop/storefront', 'served', true],
      ]);
      const legacy = out.ingresses.find((i) => i.name === 'legacy')!;
      assert.deepEqual(legacy.accepted && [legacy.accepted.status, legacy.accepted.reason], ['True', 'Accepted']);
      assert.deepEqual(legacy.annotations.map((a) => [a.name, a.support]), [['configuration-snippet', 'differs']]);
      assert.ok(!legacy.diagnostics.some((d) => d.severity === 'error'), JSON.stringify(legacy.diagnostics));
      const config = out.otherDiagnostics.filter((d) => d.kind === 'ConfigMap');
      assert.deepEqual(config.map((d) => [d.namespace, d.name, d.code]), [['ingress-nginx', 'ingress-nginx-controller', 'NginxConfigUnsupported']]);
      assert.match(config[0]!.message, /use-geoip/);
      assert.deepEqual(out.notes, []);
      assert.deepEqual(out.summary, { ingresses: 5, served: 2, differences: 2, refused: 0, notTaken: 1, line: '5 Ingresses: 2 served as ingress-nginx would, 2 with differences, 0 refused, 1 not of the class' });
    } finally {
      await deleteResource(cluster, 'configmap', 'ingress-nginx-controller', 'ingress-nginx');
    }
  });

  test('--watch-namespace: that namespace\'s Ingresses only, with the ConfigMap of ingress-nginx\'s namespace still in effect', async () => {
    await apply(cluster, [CONFIG_MAP]);
    try {
      const r = await signalbox(['migrate', '--cluster', ...kubeconfig, '--watch-namespace', 'shop', '-o', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as JsonReport;
      assert.deepEqual(out.ingresses.map((i) => [`${i.namespace}/${i.name}`, i.verdict]), [
        ['shop/api', 'differences'],
        ['shop/elsewhere', 'not-taken'],
        ['shop/legacy', 'differences'],
        ['shop/storefront', 'served'],
      ]);
      assert.deepEqual(out.notes, []);
      assert.deepEqual(out.otherDiagnostics.map((d) => d.code), ['NginxConfigUnsupported']);
      const blog = await signalbox(['migrate', '--cluster', ...kubeconfig, '--watch-namespace', 'blog']);
      assert.equal(blog.status, 0, blog.stderr);
      assert.match(blog.stdout, /^Ingress blog\/posts \(class nginx\): served as ingress-nginx would$/m);
      assert.match(blog.stdout, /^1 Ingress: 1 served as ingress-nginx would, 0 with differences, 0 refused$/m);
    } finally {
      await deleteResource(cluster, 'configmap', 'ingress-nginx-controller', 'ingress-nginx');
    }
  });

  test('an IngressClass the cluster lacks is not assumed: its Ingresses are reported as not taken, with a note', async () => {
    await apply(cluster, [nginxIngress('internal', 'shop', 'internal.test', 'nginx-internal', { 'proxy-body-size': '1m' })]);
    try {
      const r = await signalbox(['migrate', '--cluster', ...kubeconfig, '--watch-namespace', 'shop', '--ingress-class', 'nginx-internal', '-o', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as JsonReport;
      assert.deepEqual(out.ingresses.find((i) => i.name === 'internal')?.verdict, 'not-taken');
      assert.ok(out.notes.some((n) => /^IngressClass nginx-internal does not exist in the cluster/.test(n)), out.notes.join('\n'));
    } finally {
      await deleteResource(cluster, 'ingress', 'internal', 'shop');
    }
  });

  test('a kubeconfig that may not list Ingresses fails at once, saying what was refused', async () => {
    const nobody = await cluster.kubeconfigForToken(await cluster.tokenFor('nobody', 'shop'));
    const started = performance.now();
    const r = await signalbox(['migrate', '--cluster', '--kubeconfig', nobody], 30_000);
    assert.notEqual(r.status, null, 'it ended on its own, without hanging');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^signalbox: --cluster: could not list \w+ objects from https:\/\/127\.0\.0\.1:\d+: .* is forbidden: User "system:serviceaccount:shop:nobody" cannot list/m);
    assert.equal(r.stdout, '');
    assert.ok(performance.now() - started < 20_000, 'no retrying for ever');
  });
});
