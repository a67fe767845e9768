/**
 * ingress-nginx's `enable-access-log: "false"` on real sockets: the Ingress's requests reach its
 * upstream and are counted in the metrics, but write no access-log line, while another Ingress's
 * requests on the same host are logged as usual — except the targets the ConfigMap's
 * `skip-access-log-urls` names.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { waitForMetric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';

function ingress(name: string, path: string, annotations: Record<string, string>, created: string): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: created, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'app.example', http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  };
}

describe('enable-access-log: "false"', () => {
  let dir: string;
  let logDir: string;
  let proxy: TestProxy;
  let web: TestUpstream;
  let stopped = false;

  before(async () => {
    web = await startUpstream('web');
    dir = await tempManifestDir();
    logDir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false', 'skip-access-log-urls': '/shop/ping, ~^/shop/metrics(\\?|$)' } },
      ...serviceWithEndpoints('web', [{ port: web.port }]),
      ingress('quiet', '/health', { 'enable-access-log': 'false' }, '2024-01-01T00:00:00Z'),
      ingress('shop', '/shop', {}, '2024-01-02T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' }, dataplane: { accessLog: join(logDir, 'access.log') } });
  });
  after(async () => {
    if (!stopped) await proxy.stop();
    await web.close();
    await removeDir(dir);
    await removeDir(logDir);
  });

  it('serves and counts the quiet Ingress\'s requests without a log line; the other Ingress\'s are logged', async () => {
    const port = Number(new URL(proxy.http).port);
    const get = (path: string) => rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n`);
    assert.equal((await get('/health/live')).status, 200);
    assert.equal((await get('/health/ready')).status, 200);
    assert.equal((await get('/shop/cart')).status, 200);
    // skip-access-log-urls: a string is the whole target ($request_uri: the query too, case
    // ignored); the pattern is searched for.
    for (const path of ['/shop/ping', '/shop/PING', '/shop/ping?full=1', '/shop/metrics', '/shop/metrics?x=1', '/shop/metrics2']) assert.equal((await get(path)).status, 200);
    assert.deepEqual(web.seen.map((s) => s.url), ['/health/live', '/health/ready', '/shop/cart', '/shop/ping', '/shop/PING', '/shop/ping?full=1', '/shop/metrics', '/shop/metrics?x=1', '/shop/metrics2']);
    await waitForMetric(proxy, /signalbox_http_requests_total\{route="Ingress\/default\/quiet\/rule\/0\/path\/0",[^}]*code="200"\} 2/);
    await waitForMetric(proxy, /signalbox_http_requests_total\{route="Ingress\/default\/shop\/rule\/0\/path\/0",[^}]*code="200"\} 7/);
    await proxy.stop(); // stopping flushes the access log
    stopped = true;
    const lines = (await readFile(join(logDir, 'access.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; route: string });
    assert.deepEqual(lines.map((l) => l.path), ['/shop/cart', '/shop/ping?full=1', '/shop/metrics2']);
    assert.equal(lines[0]!.route, 'Ingress/default/shop/rule/0/path/0');
  });
});
