import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { generateSelfSignedCertificate } from '../../src/dataplane/tls/self-signed.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

describe('admin server', () => {
  let dir: string;
  let proxy: TestProxy;
  let up: TestUpstream;

  before(async () => {
    up = await startUpstream('up');
    dir = await tempManifestDir();
    const cert = generateSelfSignedCertificate({ commonName: 'a.test', dnsNames: ['a.test'] });
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('up', [{ port: up.port }]),
      tlsSecret('a-cert', cert.certPem, cert.keyPem),
      ingress('up', 'a.test', [{ path: '/', service: 'up' }], { tls: [{ hosts: ['a.test'], secretName: 'a-cert' }] }),
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'broken', namespace: 'default' }, spec: { rules: [{ host: 'b.test', http: { paths: [{ path: 'no-slash', pathType: 'Prefix', backend: { service: { name: 'up', port: { number: 80 } } } }] } }] } },
    ]);
    proxy = await startProxy(dir, { workers: 2 });
  });
  after(async () => {
    await proxy.stop();
    await up.close();
    await removeDir(dir);
  });

  it('answers /healthz and /readyz once the table is live', async () => {
    assert.equal((await request(`${proxy.admin}/healthz`)).statusCode, 200);
    const ready = await request(`${proxy.admin}/readyz`);
    assert.equal(ready.statusCode, 200);
    assert.equal(await ready.body.text(), 'ready\n');
  });

  it('shows the table, its version and its diagnostics at /debug/table, without private keys', async () => {
    const res = await request(`${proxy.admin}/debug/table`);
    assert.equal(res.headers['content-type'], 'application/json');
    const body = (await res.body.json()) as {
      version: number;
      table: { virtualHosts: { host: string }[]; certificates: { name: string; keyPem: string }[] };
      diagnostics: { kind: string; name: string; severity: string }[];
    };
    assert.equal(body.version, 1);
    assert.deepEqual(body.table.virtualHosts.map((v) => v.host), ['a.test']);
    assert.equal(body.table.certificates[0]?.name, 'default/a-cert');
    assert.equal(body.table.certificates[0]?.keyPem, '(redacted)');
    assert.ok(body.diagnostics.some((d) => d.kind === 'Ingress' && d.name === 'broken' && d.severity === 'error'));
  });

  it('exports request, latency, connection, table and diagnostics metrics summed over all workers', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await request(`${proxy.http}/m`, { headers: { host: 'a.test' }, reset: true });
      await res.body.text();
    }
    const text = await (await request(`${proxy.admin}/metrics`)).body.text();
    const requests = /signalbox_http_requests_total\{route="Ingress\/default\/up\/rule\/0\/path\/0",cluster="[^"]+",code="200"\} (\d+)/.exec(text);
    assert.equal(requests?.[1], '10', 'the count adds up across both workers');
    assert.match(text, /signalbox_http_request_duration_seconds_bucket\{le="[^"]+",route="Ingress\/default\/up\/rule\/0\/path\/0"/);
    assert.match(text, /signalbox_upstream_connect_duration_seconds_count\{cluster="[^"]+"\} [1-9]/);
    assert.match(text, /signalbox_upstream_response_header_duration_seconds_count\{cluster="[^"]+"\} 10/);
    assert.match(text, /signalbox_connections_total\{listener="http"\} (1\d|[2-9]\d)/);
    assert.match(text, /signalbox_active_connections\{listener="http"\} \d/);
    assert.match(text, /signalbox_table_version 1/);
    assert.match(text, /signalbox_compile_duration_seconds_count [1-9]/);
    assert.match(text, /signalbox_diagnostics\{severity="error",code="[A-Za-z]+"\} 1/);
    assert.match(text, /signalbox_workers 2/);
  });

  it('fails readiness as soon as shutdown begins', async () => {
    const dir2 = await tempManifestDir();
    await writeManifests(dir2, 'a.yaml', [ingressClass()]);
    const other = await startProxy(dir2, { drainMs: 500 });
    try {
      assert.equal((await request(`${other.admin}/readyz`)).statusCode, 200);
      const stopping = other.stop();
      const during = await request(`${other.admin}/readyz`);
      assert.equal(during.statusCode, 503);
      await during.body.text();
      await stopping;
    } finally {
      await removeDir(dir2);
    }
  });
});
