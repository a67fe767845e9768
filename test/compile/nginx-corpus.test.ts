/**
 * The ingress-nginx corpus (testdata/nginx-corpus) at compile level, in the ingress-nginx profile:
 * every Ingress gets a status, and the diagnostic codes of each are exactly the ones listed here —
 * so an annotation whose meaning changes (a new warning, a refusal, a warning that disappears)
 * fails this test and has to be looked at. test/dataplane/nginx-corpus.test.ts serves the same
 * corpus and checks what each Ingress does.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compile } from '../../src/compile/compile.ts';
import { snapshotFromObjects } from '../../src/compile/snapshot-from-objects.ts';
import { checkTable } from '../../src/model/check-table.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../../src/model/snapshot.ts';
import { corpusIngressNames, corpusManifests } from '../helpers/nginx-corpus.ts';

const PEM = join(import.meta.dirname, '../../testdata/compile/pem');
const NGINX_OPTIONS = { ...DEFAULT_COMPILE_OPTIONS, ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' };

/**
 * Each Ingress's diagnostic codes (sorted); an Ingress not listed has none. `refused` Ingresses are
 * not served at all (Accepted False).
 */
const EXPECTED: Record<string, { codes: string[]; refused?: true }> = {
  // Snippets are Critical: above the default annotations-risk-level (High), refused as ingress-nginx's admission does.
  'nextcloud/nextcloud': { codes: ['AnnotationRiskRefused'], refused: true },
  'nextcloud/nextcloud-headers': { codes: ['AnnotationRiskRefused'], refused: true },
  'media/sonarr': { codes: ['AnnotationRiskRefused'], refused: true },
  // rewrite-target /$1 on a path without capture groups: nginx refuses the rewrite.
  'default/docs-broken-rewrite': { codes: ['AnnotationInvalid'], refused: true },
  // A regex under pathType Prefix: ingress-nginx's strict-validate-path-type (default since v1.12) refuses it.
  'notes/notes-api': { codes: ['IngressPathInvalid'], refused: true },
  // Client certificates (auth-tls-*) against a CA Secret the corpus does not hold: refused rather
  // than served without the check.
  'apps/vaultwarden-admin': { codes: ['AnnotationDiffers', 'AuthTLSSecretInvalid'], refused: true },
  // No web application firewall (enable-modsecurity, enable-owasp-core-rules): warned, and served.
  'blog/wordpress': { codes: ['AnnotationUnsupported'] },
  // ExternalName Services are not resolved (a known difference): reported, the route answers 503.
  'infra/truenas': { codes: ['ServiceTypeUnsupported'] },
  // proxy-send-timeout and affinity-mode are honoured with a difference, each named.
  'cattle-system/rancher': { codes: ['AnnotationDiffers'] },
  'home/home-assistant': { codes: ['AnnotationDiffers'] },
  'bi/reports': { codes: ['AnnotationDiffers'] },
  'shop/legacy-shop': { codes: ['AnnotationDiffers'] },
  // Timeouts nginx takes but signalbox's clusters do not (a day of proxy-read-timeout, 300 s of
  // proxy-connect-timeout) are capped at its longest, and said.
  'media/plex': { codes: ['AnnotationDiffers'] },
  'sonarqube/sonarqube': { codes: ['AnnotationDiffers'] },
  // custom-http-errors without any default backend to fetch pages from: one warning says so (limit-rps and server-alias are honoured).
  'blog/ghost': { codes: ['AnnotationMissing'] },
};

/** Ingresses of other controllers (other-controllers.yaml): not ours, so no status and no diagnostic. */
const NOT_OURS = ['kube-system/traefik-dashboard', 'apps/classless', 'apps/haproxy-app'];

describe('the ingress-nginx corpus compiles as ingress-nginx would take it', () => {
  const [certPem, keyPem] = [readFileSync(join(PEM, 'shop.crt'), 'utf8'), readFileSync(join(PEM, 'shop.key'), 'utf8')];
  const { snapshot, diagnostics: loadDiagnostics } = snapshotFromObjects(corpusManifests(() => [8080], certPem, keyPem, { caPem: certPem, certPem, keyPem }));
  const result = compile(snapshot, NGINX_OPTIONS);
  const names = corpusIngressNames().filter((n) => !NOT_OURS.includes(n));

  test('the corpus holds at least 40 Ingresses, and loads without a diagnostic', () => {
    assert.ok(names.length >= 40, `${names.length} Ingresses`);
    assert.equal(new Set(names).size, names.length, 'each namespace/name once');
    assert.deepEqual(loadDiagnostics, []);
  });

  test('Ingresses of other controllers get no status and no diagnostic', () => {
    for (const name of NOT_OURS) assert.ok(corpusIngressNames().includes(name), `${name} is in the corpus`);
    const touched = [...result.statuses, ...result.diagnostics].map((x) => `${x.namespace}/${x.name}`);
    assert.deepEqual(touched.filter((n) => NOT_OURS.includes(n)), []);
  });

  test('the table passes its invariants', () => {
    assert.deepEqual(checkTable(result.table), []);
  });

  test('every Ingress gets a status: accepted unless refused', () => {
    const statuses = new Map(result.statuses.filter((s) => s.kind === 'Ingress').map((s) => [`${s.namespace}/${s.name}`, s]));
    for (const name of names) {
      const status = statuses.get(name);
      assert.ok(status !== undefined, `${name} has no status`);
      const accepted = status.conditions.find((c) => c.type === 'Accepted');
      assert.equal(accepted?.status, EXPECTED[name]?.refused ? 'False' : 'True', `${name}: Accepted ${accepted?.status} (${accepted?.message})`);
    }
  });

  test('the diagnostics of each Ingress are exactly the expected codes', () => {
    for (const listed of Object.keys(EXPECTED)) assert.ok(names.includes(listed), `${listed} is not in the corpus`);
    const actual = new Map<string, string[]>();
    for (const d of result.diagnostics) {
      const key = `${d.kind === 'Ingress' ? '' : `${d.kind} `}${d.namespace}/${d.name}`;
      actual.set(key, [...(actual.get(key) ?? []), d.code].sort());
    }
    const expected = new Map(Object.entries(EXPECTED).map(([name, e]) => [name, [...e.codes].sort()]));
    assert.deepEqual(Object.fromEntries([...actual].sort()), Object.fromEntries([...expected].sort()));
  });

  test('the diagnostics say what a user has to know', () => {
    const message = (name: string): string => result.diagnostics.filter((d) => `${d.namespace}/${d.name}` === name).map((d) => d.message).join(' | ');
    assert.match(message('media/sonarr'), /auth-snippet/);
    assert.match(message('nextcloud/nextcloud'), /server-snippet/);
    assert.match(message('blog/ghost'), /custom-http-errors needs .*default-backend \(or --default-backend-service\); its errors pass through unchanged/);
    assert.match(message('apps/vaultwarden-admin'), /the CA Secret apps\/homelab-ca does not exist; nothing of the Ingress is served/);
    assert.match(message('blog/wordpress'), /enable-modsecurity, enable-owasp-core-rules/);
    assert.match(message('media/plex'), /86400 seconds .* 3600 seconds is used/);
    assert.match(message('sonarqube/sonarqube'), /proxy-connect-timeout: 300 seconds .* 60 seconds is used/);
  });
});
