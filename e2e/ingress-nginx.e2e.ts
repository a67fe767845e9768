/**
 * `signalbox controller` taking over an ingress-nginx installation in a real API server, started
 * as the chart's `ingressNginx.takeOver` preset starts it (its flags, its RBAC, its ServiceAccount's
 * token): Ingresses of class nginx written as ingress-nginx users write them, served to real
 * upstreams on loopback as ingress-nginx serves them (capture-group rewrites, the 308 to HTTPS on
 * hosts with TLS, snippets refused at the default risk level), diagnostics as Events on the
 * Ingresses, the controller ConfigMap watched while running (also by a controller that watches one
 * namespace only, with the header ConfigMap its proxy-set-headers names there), another controller's Ingresses left alone, and the Secret of `proxy-ssl-secret`
 * cached.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { generateSelfSignedCertificate } from '../src/dataplane/server/tls/self-signed.ts';
import { DEPLOY_NAMESPACE, helmTemplate, parseObjects, type K8sObject } from '../test/chart/chart-tools.ts';
import { startUpstream, type TestUpstream } from '../test/helpers/upstreams.ts';
import { startCluster, type TestCluster } from './harness/cluster.ts';
import { startController, type RunningController } from './harness/controller.ts';
import { createCertificateAuthority, issueCertificate } from './harness/pki.ts';
import { apply, createServiceWithEndpoints, deleteResource, get, list, tlsSecret, waitFor, type KubeObject } from './harness/objects.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';
const PUBLISHED = '203.0.113.7';
/** The preset as the migration guide installs it; fixed addresses stand in for a cloud load balancer. */
const CHART_VALUES = { ingressNginx: { takeOver: true }, controller: { publishAddresses: [PUBLISHED] } };
/** The chart's flags for where the controller listens and how long it drains: the harness picks its own. */
const LOCAL_FLAGS = /^--(bind|http-port|https-port|admin-port|admin-bind|debug-port|debug-bind|access-log|log-level|drain|grace)=/;

/** Options of {@link nginxIngress}. */
interface NginxIngressOptions {
  /** Without the `nginx.ingress.kubernetes.io/` prefix. */
  readonly annotations?: Record<string, string>;
  /** `spec.ingressClassName`; default `nginx`; null: none (the legacy annotation then names the class). */
  readonly className?: string | null;
  readonly legacyClass?: string;
  readonly tlsSecret?: string;
  readonly pathType?: 'Exact' | 'Prefix' | 'ImplementationSpecific';
}

/** An Ingress as an ingress-nginx user writes it: one host, one path, the annotations under nginx's prefix. */
function nginxIngress(name: string, host: string, path: string, service: string, options: NginxIngressOptions = {}): KubeObject {
  const annotations: Record<string, string> = Object.fromEntries(Object.entries(options.annotations ?? {}).map(([k, v]) => [NGINX + k, v]));
  if (options.legacyClass !== undefined) annotations['kubernetes.io/ingress.class'] = options.legacyClass;
  const className = options.className === undefined ? 'nginx' : options.className;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', annotations },
    spec: {
      ...(className === null ? {} : { ingressClassName: className }),
      ...(options.tlsSecret === undefined ? {} : { tls: [{ hosts: [host], secretName: options.tlsSecret }] }),
      rules: [{ host, http: { paths: [{ path, pathType: options.pathType ?? 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }],
    },
  };
}

/** An IngressClass named `name` of controller `controller`. */
function ingressClassOf(name: string, controller: string): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name }, spec: { controller } };
}

interface Answer {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
}

/** GET through the controller's plain HTTP port (never throws for a status; redirects are not followed). */
async function fetchVia(controller: RunningController, host: string, path = '/'): Promise<Answer> {
  const res = await request(`${controller.http}${path}`, { headers: { host }, headersTimeout: 5_000, bodyTimeout: 5_000 });
  const location = res.headers.location;
  return { status: res.statusCode, location: typeof location === 'string' ? location : undefined, body: await res.body.text() };
}

/** Waits until a GET through the controller answers as `accept` wants, and resolves to that answer. */
function answered(controller: RunningController, host: string, path: string, accept: (a: Answer) => boolean, what: string, timeoutMs = 20_000): Promise<Answer> {
  return waitFor(async () => {
    const a = await fetchVia(controller, host, path).catch(() => null);
    return a !== null && accept(a) ? a : null;
  }, { timeoutMs, what: `${host}${path}: ${what}` });
}

/** The load-balancer addresses in the Ingress's status ([] for none). */
async function addressesOf(cluster: TestCluster, name: string): Promise<unknown[]> {
  const obj = await get(cluster, 'ingress', name, 'default');
  return (obj?.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress ?? [];
}

interface EventShape {
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly involvedObject?: { readonly kind?: string; readonly name?: string };
}

/** Waits for an Event of `reason` on Ingress `name`. */
function eventOn(cluster: TestCluster, name: string, reason: string): Promise<EventShape> {
  return waitFor(async () => (await list(cluster, 'events', 'default') as EventShape[])
    .find((e) => e.reason === reason && e.involvedObject?.kind === 'Ingress' && e.involvedObject.name === name), { timeoutMs: 20_000, what: `a ${reason} Event on Ingress ${name}` });
}

/** GET over HTTPS to the controller with SNI `host`: status, HSTS and the certificate's CN. */
function httpsGet(controller: RunningController, host: string, path: string): Promise<{ status: number; hsts: string | undefined; cn: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: Number(new URL(controller.https).port), path, servername: host, headers: { host }, rejectUnauthorized: false, agent: false, timeout: 5_000 }, (res) => {
      const cn = (res.socket as TLSSocket).getPeerCertificate().subject?.CN;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'] as string | undefined, cn: Array.isArray(cn) ? cn[0] : cn }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('signalbox controller taking over ingress-nginx Ingresses in a real API server', () => {
  let cluster: TestCluster;
  let controller: RunningController;
  let api: TestUpstream;
  let site: TestUpstream;
  // An HTTPS backend whose certificate only a private CA vouches for, as proxy-ssl-secret is used.
  // The harness's PKI, not the openssl CLI, which minimal images lack (e2e/README.md).
  const ca = createCertificateAuthority('backend CA');
  const leaf = issueCertificate(ca, { commonName: 'backend.internal', dnsNames: ['backend.internal'], usage: 'server' });
  let backendRequests = 0;
  let chart: K8sObject[] = [];
  const tlsBackend: HttpsServer = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    backendRequests++;
    res.end(`tls-backend ${req.url}`);
  });

  before(async () => {
    cluster = await startCluster();
    api = await startUpstream('api');
    site = await startUpstream('site');
    await new Promise<void>((resolve) => tlsBackend.listen(0, '127.0.0.1', resolve));
    // What an ingress-nginx installation leaves behind, plus another controller's class.
    await apply(cluster, [ingressClassOf('nginx', 'k8s.io/ingress-nginx'), ingressClassOf('traefik', 'traefik.io/ingress-controller')]);
    await createServiceWithEndpoints(cluster, 'api', api.port);
    await createServiceWithEndpoints(cluster, 'site', site.port);
    await createServiceWithEndpoints(cluster, 'tls-backend', (tlsBackend.address() as AddressInfo).port);
    // The chart's RBAC and ServiceAccount, and its container's flags.
    chart = parseObjects(helmTemplate(join(cluster.binDir, 'helm'), { values: CHART_VALUES }));
    const workload = chart.find((o) => o.kind === 'Deployment') as K8sObject & { spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } } };
    const token = await cluster.tokenFor(workload.spec.template.spec.serviceAccountName, DEPLOY_NAMESPACE);
    await apply(cluster, chart.filter((o) => ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind)));
    const args = workload.spec.template.spec.containers[0]!.args.filter((a) => !LOCAL_FLAGS.test(a));
    controller = await startController(await cluster.kubeconfigForToken(token), args, { POD_NAME: 'signalbox-0', POD_NAMESPACE: DEPLOY_NAMESPACE });
    await waitFor(() => controller.ready(), { timeoutMs: 30_000, what: 'the controller to be ready' });
  }, { timeout: 240_000 });

  after(async () => {
    await controller?.stop();
    await cluster?.stop();
    await api?.close();
    await site?.close();
    tlsBackend.close();
  });

  test('the chart\'s preset takes ingress-nginx\'s class and ConfigMap and creates no IngressClass: ingress-nginx\'s is left as it was', async () => {
    assert.deepEqual(chart.filter((o) => o.kind === 'IngressClass'), []);
    const args = (chart.find((o) => o.kind === 'Deployment') as K8sObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers[0]!.args;
    for (const flag of ['--ingress-class=nginx', '--controller-name=k8s.io/ingress-nginx', '--nginx-configmap=ingress-nginx/ingress-nginx-controller']) assert.ok(args.includes(flag), flag);
    const nginx = await get(cluster, 'ingressclass', 'nginx');
    assert.deepEqual(nginx?.spec, { controller: 'k8s.io/ingress-nginx' });
    assert.equal((nginx?.metadata as { labels?: Record<string, string> }).labels?.['app.kubernetes.io/part-of'], undefined, 'not relabelled as ours');
  });

  test('a capture-group rewrite-target reaches the upstream rewritten, and the Ingress gets the published address', async () => {
    await apply(cluster, [nginxIngress('rewrite', 'rw.test', '/api(/|$)(.*)', 'api', {
      annotations: { 'rewrite-target': '/$2', 'use-regex': 'true' },
      pathType: 'ImplementationSpecific',
    })]);
    const from = api.seen.length;
    const res = await answered(controller, 'rw.test', '/api/users/7?page=2', (a) => a.status === 200, 'served by api');
    assert.match(res.body, /^api GET \/users\/7\?page=2$/);
    // `(/|$)`: /api alone is the application's root; /apix is not under /api at all.
    assert.equal((await fetchVia(controller, 'rw.test', '/api')).status, 200);
    assert.equal((await fetchVia(controller, 'rw.test', '/apix')).status, 404);
    assert.deepEqual(api.seen.slice(from).map((s) => s.url), ['/users/7?page=2', '/']);
    const lb = await waitFor(async () => {
      const addresses = await addressesOf(cluster, 'rewrite');
      return addresses.length > 0 ? addresses : null;
    }, { timeoutMs: 20_000, what: 'the address in the Ingress status' });
    assert.deepEqual(lb, [{ ip: PUBLISHED }]);
  });

  test('ssl-redirect: plain HTTP to a host with TLS is redirected with 308, and HTTPS is served from the Secret with HSTS', async () => {
    const cert = generateSelfSignedCertificate({ commonName: 'secure.test', dnsNames: ['secure.test'] });
    await apply(cluster, [tlsSecret('secure-tls', cert.certPem, cert.keyPem), nginxIngress('secure', 'secure.test', '/', 'site', { tlsSecret: 'secure-tls' })]);
    const from = site.seen.length;
    const redirect = await answered(controller, 'secure.test', '/cart?id=3', (a) => a.status === 308, 'a 308 to HTTPS');
    assert.equal(redirect.location, 'https://secure.test/cart?id=3');
    assert.equal(site.seen.length, from, 'the redirect is answered by the proxy, not the upstream');
    const secure = await waitFor(async () => {
      const r = await httpsGet(controller, 'secure.test', '/cart').catch(() => null);
      return r?.status === 200 && r.cn === 'secure.test' ? r : null;
    }, { timeoutMs: 20_000, what: 'secure.test over HTTPS with its Secret\'s certificate' });
    assert.equal(secure.hsts, 'max-age=31536000; includeSubDomains');
    assert.equal(site.seen.at(-1)?.url, '/cart');
  });

  test('an unsupported annotation is a warning Event on the Ingress, and the rest of it is served', async () => {
    await apply(cluster, [nginxIngress('limited', 'limited.test', '/', 'site', { annotations: { 'enable-opentelemetry': 'true', 'proxy-body-size': '8m' } })]);
    await answered(controller, 'limited.test', '/', (a) => a.status === 200 && a.body.startsWith('site'), 'served by site');
    const event = await eventOn(cluster, 'limited', 'AnnotationUnsupported');
    assert.equal(event.type, 'Warning');
    assert.match(String(event.message), /does not honour, ignored: enable-opentelemetry\b/);
    assert.doesNotMatch(String(event.message), /proxy-body-size/, 'a supported annotation is not reported');
  });

  test('a snippet Ingress is refused under the default risk level: an AnnotationRiskRefused Event, nothing of it served', async () => {
    await apply(cluster, [nginxIngress('snippet', 'snippet.test', '/', 'site', { annotations: { 'configuration-snippet': 'more_set_headers "X-Frame: deny";' } })]);
    const event = await eventOn(cluster, 'snippet', 'AnnotationRiskRefused');
    assert.equal(event.type, 'Warning');
    assert.match(String(event.message), /configuration-snippet is a Critical-risk annotation and annotations-risk-level is High/);
    const from = site.seen.length;
    assert.equal((await fetchVia(controller, 'snippet.test', '/')).status, 404);
    assert.equal(site.seen.length, from);
  });

  test('the controller ConfigMap is watched: ssl-redirect "false" created while running stops the redirect, deleting it brings it back', async () => {
    assert.equal((await fetchVia(controller, 'secure.test', '/')).status, 308);
    await apply(cluster, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false' } },
    ]);
    const plain = await answered(controller, 'secure.test', '/after-configmap', (a) => a.status === 200, 'served over plain HTTP');
    assert.equal(plain.body, 'site GET /after-configmap');
    await deleteResource(cluster, 'configmap', 'ingress-nginx-controller', 'ingress-nginx');
    const again = await answered(controller, 'secure.test', '/x', (a) => a.status === 308, 'the redirect again');
    assert.equal(again.location, 'https://secure.test/x');
  });

  test('a controller watching one namespace still reads the ConfigMap from ingress-nginx\'s namespace, and the header ConfigMap it names there', async () => {
    const scoped = await startController(cluster.kubeconfigPath, [
      '--ingress-class', 'nginx', '--controller-name', 'k8s.io/ingress-nginx', '--watch-namespace', 'default', '--no-leader-elect',
    ]);
    try {
      await waitFor(() => scoped.ready(), { timeoutMs: 30_000, what: 'the namespaced controller to be ready' });
      assert.equal((await fetchVia(scoped, 'secure.test', '/')).status, 308);
      await apply(cluster, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false' } }]);
      const plain = await answered(scoped, 'secure.test', '/scoped', (a) => a.status === 200, 'served over plain HTTP');
      assert.equal(plain.body, 'site GET /scoped');
      // proxy-set-headers names a ConfigMap in ingress-nginx's namespace too, known only once the
      // controller ConfigMap is read: it is watched from then on, and its fields reach the upstream.
      await apply(cluster, [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'upstream-headers', namespace: 'ingress-nginx' }, data: { 'X-Team': 'shop' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false', 'proxy-set-headers': 'ingress-nginx/upstream-headers' } },
      ]);
      const team = async (path: string): Promise<string | undefined> => {
        await fetchVia(scoped, 'secure.test', path);
        return site.seen.findLast((r) => r.url === path)?.headers['x-team'] as string | undefined;
      };
      await waitFor(async () => (await team('/headers')) === 'shop', { timeoutMs: 20_000, what: 'X-Team from the header ConfigMap at the upstream' });
      // A change to that ConfigMap, watched on its own stream, is followed as well.
      await apply(cluster, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'upstream-headers', namespace: 'ingress-nginx' }, data: { 'X-Team': 'payments' } }]);
      await waitFor(async () => (await team('/headers-changed')) === 'payments', { timeoutMs: 20_000, what: 'the changed X-Team at the upstream' });
      await deleteResource(cluster, 'configmap', 'upstream-headers', 'ingress-nginx');
      await deleteResource(cluster, 'configmap', 'ingress-nginx-controller', 'ingress-nginx');
      await answered(scoped, 'secure.test', '/', (a) => a.status === 308, 'the redirect again');
    } finally {
      await scoped.stop();
    }
  });

  test('an Ingress of another class is ignored; one naming nginx by the legacy annotation is served', async () => {
    await apply(cluster, [
      nginxIngress('theirs', 'theirs.test', '/', 'site', { className: 'traefik' }),
      nginxIngress('legacy', 'legacy.test', '/', 'api', { className: null, legacyClass: 'nginx' }),
    ]);
    await answered(controller, 'legacy.test', '/', (a) => a.status === 200 && a.body.startsWith('api'), 'served by api');
    await waitFor(async () => ((await addressesOf(cluster, 'legacy')).length > 0 ? true : null), { timeoutMs: 20_000, what: 'the address on the legacy Ingress' });
    const from = site.seen.length;
    assert.equal((await fetchVia(controller, 'theirs.test', '/')).status, 404);
    assert.equal(site.seen.length, from);
    assert.deepEqual(await addressesOf(cluster, 'theirs'), [], 'another controller\'s Ingress gets no status from us');
    const events = (await list(cluster, 'events', 'default')) as EventShape[];
    assert.deepEqual(events.filter((e) => e.involvedObject?.name === 'theirs'), [], 'nor Events');
  });

  test('the CA Secret named by proxy-ssl-secret is cached and verifies an HTTPS backend', async () => {
    // A kubernetes.io/tls Secret carrying ca.crt, as cert-manager writes them.
    const secret = tlsSecret('backend-ca', leaf.certPem, leaf.keyPem) as KubeObject & { data: Record<string, string> };
    secret.data['ca.crt'] = Buffer.from(ca.certPem).toString('base64');
    await apply(cluster, [secret, nginxIngress('verified', 'verified.test', '/', 'tls-backend', {
      annotations: { 'backend-protocol': 'HTTPS', 'proxy-ssl-verify': 'on', 'proxy-ssl-name': 'backend.internal', 'proxy-ssl-secret': 'default/backend-ca' },
    })]);
    const before = backendRequests;
    const res = await answered(controller, 'verified.test', '/balance', (a) => a.status === 200, 'the verified backend');
    assert.equal(res.body, 'tls-backend /balance');
    assert.ok(backendRequests > before);
  });

  test('an Opaque Secret with ca.crt named by proxy-ssl-secret is cached too', async (t) => {
    // As ingress-nginx's examples make CA Secrets: `kubectl create secret generic --from-file=ca.crt`.
    await apply(cluster, [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'opaque-ca', namespace: 'default' }, type: 'Opaque', data: { 'ca.crt': Buffer.from(ca.certPem).toString('base64') } },
      nginxIngress('verified-opaque', 'opaque.test', '/', 'tls-backend', {
        annotations: { 'backend-protocol': 'HTTPS', 'proxy-ssl-verify': 'on', 'proxy-ssl-name': 'backend.internal', 'proxy-ssl-secret': 'default/opaque-ca' },
      }),
    ]);
    try {
      await answered(controller, 'opaque.test', '/', (a) => a.status === 200, 'the verified backend', 8_000);
    } catch (error) {
      // Say why, for whoever lifts the field selector: the Events on the Ingress name the missing Secret.
      const events = ((await list(cluster, 'events', 'default')) as EventShape[]).filter((e) => e.involvedObject?.name === 'verified-opaque');
      t.diagnostic(events.map((e) => `${e.reason}: ${e.message}`).join('\n'));
      throw error;
    }
  });

  test('never hears "forbidden" with the chart\'s RBAC: every list, watch and write taking over needs is granted', async () => {
    const metrics = await (await request(`${controller.admin}/metrics`)).body.text();
    const watchErrors = [...metrics.matchAll(/^signalbox_kube_watch_errors_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(watchErrors, 0, metrics.split('\n').filter((l) => l.startsWith('signalbox_kube_watch_errors_total')).join('\n'));
    assert.doesNotMatch(controller.stderr(), /forbidden|\b403\b/i);
  });
});
