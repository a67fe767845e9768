/**
 * `signalbox migrate` on a directory of manifests written for ingress-nginx: what an operator sees
 * before cutting over — per Ingress its annotations with their support, its diagnostics, whether it
 * is served — as text and as JSON, and the exit status CI gates on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ingress, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'signalbox.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--no-node-snapshot', bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An Ingress of `className` for `host`, to the Service `web`, with ingress-nginx annotations. */
function nginxIngress(name: string, host: string, annotations: Record<string, string>, className = 'nginx'): object {
  const base = ingress(name, host, [{ path: '/', service: 'web' }]) as { metadata: object; spec: object };
  const prefixed = Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`nginx.ingress.kubernetes.io/${k}`, v]));
  return { ...base, metadata: { ...base.metadata, annotations: prefixed }, spec: { ...base.spec, ingressClassName: className } };
}

const nginxClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } };

interface JsonReport {
  notes: string[];
  ingresses: {
    namespace: string;
    name: string;
    ingressClass: string | null;
    verdict: string;
    served: boolean;
    accepted: { status: string; reason: string } | null;
    annotations: { name: string; value: string; risk: string | null; support: string; note: string }[];
    diagnostics: { severity: string; code: string; message: string }[];
  }[];
  summary: { ingresses: number; served: number; differences: number; refused: number; notTaken: number; line: string };
}

describe('signalbox migrate', () => {
  let dir = '';
  let servedOnly = '';
  before(async () => {
    dir = await tempManifestDir();
    await writeManifests(dir, 'shop.yaml', [
      nginxClass,
      ...serviceWithEndpoints('web', [{ port: 8080 }]),
      nginxIngress('storefront', 'shop.test', { 'proxy-body-size': '8m', 'ssl-redirect': 'false' }),
      nginxIngress('api', 'api.test', { 'enable-opentelemetry': 'true', 'enable-modsecurity': 'true', 'proxy-next-upstream': 'error timeout' }),
      nginxIngress('legacy', 'legacy.test', { 'configuration-snippet': 'more_set_headers "X-Legacy: 1";\n' }),
      nginxIngress('elsewhere', 'other.test', { 'rewrite-target': '/' }, 'traefik'),
    ]);
    servedOnly = await tempManifestDir();
    await writeManifests(servedOnly, 'shop.yaml', [
      ...serviceWithEndpoints('web', [{ port: 8080 }]),
      nginxIngress('storefront', 'shop.test', { 'proxy-body-size': '8m' }),
    ]);
  });
  after(async () => {
    await removeDir(dir);
    await removeDir(servedOnly);
  });

  it('prints each Ingress with its annotations, diagnostics and whether it is served, then a summary', () => {
    const r = run(['migrate', '--in', dir]);
    assert.equal(r.status, 0, r.stderr);
    const blocks = r.stdout.trimEnd().split('\n\n');
    const block = (name: string): string => blocks.find((b) => b.startsWith(`Ingress default/${name} `)) ?? assert.fail(`no block for ${name} in:\n${r.stdout}`);

    const storefront = block('storefront');
    assert.match(storefront, /^Ingress default\/storefront \(class nginx\): served as ingress-nginx would$/m);
    assert.match(storefront, /^ {2}Accepted: True \(Accepted\)$/m);
    assert.match(storefront, /^ {4}proxy-body-size +supported +Larger request bodies get 413/m);
    assert.doesNotMatch(storefront, /diagnostics:/);

    const api = block('api');
    assert.match(api, /^Ingress default\/api \(class nginx\): served, with differences$/m);
    assert.match(api, /^ {4}enable-opentelemetry +unsupported +No tracing\./m);
    assert.match(api, /^ {4}enable-modsecurity +unsupported +No web application firewall\.$/m);
    assert.match(api, /^ {4}proxy-next-upstream +differs +/m);
    assert.match(api, /^ {4}warning +AnnotationUnsupported: .*enable-modsecurity, enable-opentelemetry/m);
    assert.match(api, /^ {4}warning +AnnotationDiffers: nginx\.ingress\.kubernetes\.io\/proxy-next-upstream/m);

    const legacy = block('legacy');
    assert.match(legacy, /^Ingress default\/legacy \(class nginx\): refused: not served$/m);
    assert.match(legacy, /^ {2}Accepted: False \(AnnotationRiskRefused\)$/m);
    assert.match(legacy, /^ {4}error +AnnotationRiskRefused: .*configuration-snippet is a Critical-risk annotation and annotations-risk-level is High/m);

    // Not of the class: listed for its annotations, served by neither controller being compared.
    assert.match(block('elsewhere'), /^Ingress default\/elsewhere \(class traefik\): not of the class taken over/m);
    assert.doesNotMatch(block('elsewhere'), /Accepted:/);

    assert.match(r.stdout, /^note: ConfigMap ingress-nginx\/ingress-nginx-controller is not among the manifests: ingress-nginx's defaults apply/m);
    assert.equal(blocks.at(-1), '4 Ingresses: 1 served as ingress-nginx would, 1 with differences, 1 refused, 1 not of the class');
  });

  it('prints the same as JSON, with stable keys', () => {
    const r = run(['migrate', '--in', dir, '--output', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonReport;
    assert.deepEqual(Object.keys(out), ['notes', 'ingresses', 'otherDiagnostics', 'summary']);
    assert.deepEqual(out.ingresses.map((i) => [i.name, i.verdict, i.served]), [
      ['api', 'differences', true],
      ['elsewhere', 'not-taken', false],
      ['legacy', 'refused', false],
      ['storefront', 'served', true],
    ]);
    const api = out.ingresses[0]!;
    assert.deepEqual(Object.keys(api), ['namespace', 'name', 'ingressClass', 'verdict', 'served', 'accepted', 'annotations', 'diagnostics']);
    assert.deepEqual(api.annotations.map((a) => [a.name, a.value, a.risk, a.support]), [
      ['enable-modsecurity', 'true', 'Low', 'unsupported'],
      ['enable-opentelemetry', 'true', 'Low', 'unsupported'],
      ['proxy-next-upstream', 'error timeout', 'Medium', 'differs'],
    ]);
    assert.deepEqual(api.diagnostics.map((d) => d.code), ['AnnotationUnsupported', 'AnnotationDiffers']);
    const legacy = out.ingresses[2]!;
    assert.deepEqual(legacy.accepted && [legacy.accepted.status, legacy.accepted.reason], ['False', 'AnnotationRiskRefused']);
    assert.deepEqual(legacy.diagnostics.map((d) => [d.severity, d.code]), [['error', 'AnnotationRiskRefused']]);
    assert.deepEqual(out.summary, { ingresses: 4, served: 1, differences: 1, refused: 1, notTaken: 1, line: '4 Ingresses: 1 served as ingress-nginx would, 1 with differences, 1 refused, 1 not of the class' });
    // The same input gives the same bytes.
    assert.equal(run(['migrate', '--in', dir, '--output', 'json']).stdout, r.stdout);
  });

  it('--fail-on-unsupported exits 1 while an Ingress is refused or has unsupported annotations, 0 when none has', () => {
    assert.equal(run(['migrate', '--in', dir, '--fail-on-unsupported']).status, 1);
    const clean = run(['migrate', '--in', servedOnly, '--fail-on-unsupported']);
    assert.equal(clean.status, 0, clean.stderr);
    // Without the IngressClass among the manifests, the one taken over is assumed.
    assert.match(clean.stdout, /^note: IngressClass nginx is not among the manifests: assumed, with spec\.controller k8s\.io\/ingress-nginx$/m);
    assert.match(clean.stdout, /^1 Ingress: 1 served as ingress-nginx would, 0 with differences, 0 refused$/m);
  });

  it('takes another class and controller from the flags, with that profile\'s defaults', () => {
    const r = run(['migrate', '--in', dir, '-o', 'json', '--ingress-class', 'traefik', '--controller-name', 'signalbox.dev/ingress-controller']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonReport;
    assert.deepEqual(out.ingresses.map((i) => [i.name, i.verdict]), [
      ['api', 'not-taken'],
      ['elsewhere', 'served'],
      ['legacy', 'not-taken'],
      ['storefront', 'not-taken'],
    ]);
    // signalbox's own profile reads no ConfigMap unless told to: nothing to note about one.
    assert.ok(!out.notes.some((n) => n.includes('ConfigMap')), out.notes.join('\n'));
  });

  it('refuses an output format it does not have', () => {
    const r = run(['migrate', '--in', dir, '-o', 'yaml']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--output: "yaml" is not table or json/);
  });
});
