/**
 * A Gateway's client-certificate validation (`spec.tls.frontend`) on real sockets, one Gateway with
 * four HTTPS ports: the default (CA one, AllowValidOnly), a port of its own (CA two,
 * AllowValidOnly), a port that lets unverified clients through (CA two, AllowInsecureFallback) and
 * a port without validation. From the upstream's own log: a valid certificate is served; none, or
 * one of the other CA, fails the handshake itself in AllowValidOnly and never arrives; the
 * fallback port serves all three, telling the upstream what was verified; the port without
 * validation never asks for a certificate.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { GATEWAY_CLASS, removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, deadPort, type TestUpstream } from '../helpers/upstreams.ts';
import { makeClientPki, type Pair } from '../helpers/client-pki.ts';

const GW = 'gateway.networking.k8s.io/v1';
const HOST = 'app.example';

type Outcome = { readonly status: number; readonly body: string } | { readonly error: string };

describe('Gateway frontend client-certificate validation (spec.tls.frontend)', () => {
  const one = makeClientPki([HOST]);
  const two = makeClientPki([HOST]);
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;
  const ports = { strict: 0, perPort: 0, fallback: 0, open: 0 };

  /** One HTTPS request on a connection of its own to `port`, with `cert` (none: no certificate). */
  const get = (port: number, path: string, cert?: Pair): Promise<Outcome> =>
    new Promise((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path, agent: false, servername: HOST, ca: one.server.certPem, headers: { host: HOST }, ...(cert === undefined ? {} : { cert: cert.certPem, key: cert.keyPem }) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? String(err) }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? String(err) }));
      req.end();
    });
  /** The request the upstream saw for `path`, if any. */
  const arrived = (path: string): TestUpstream['seen'][number] | undefined => app.seen.find((s) => s.url === path);

  before(async () => {
    app = await startUpstream('app');
    ports.strict = await deadPort();
    ports.perPort = await deadPort();
    ports.fallback = await deadPort();
    ports.open = await deadPort();
    dir = await tempManifestDir();
    const listener = (name: string, port: number): object => ({ name, port, protocol: 'HTTPS', hostname: HOST, tls: { certificateRefs: [{ name: 'server-tls' }] } });
    const caRef = (kind: string, name: string): object => ({ group: '', kind, name });
    await writeManifests(dir, 'gateway.yaml', [
      GATEWAY_CLASS,
      {
        apiVersion: GW,
        kind: 'Gateway',
        metadata: { name: 'mtls', namespace: 'app' },
        spec: {
          gatewayClassName: 'signalbox',
          tls: {
            frontend: {
              default: { validation: { caCertificateRefs: [caRef('ConfigMap', 'ca-one')] } },
              perPort: [
                { port: ports.perPort, tls: { validation: { caCertificateRefs: [caRef('ConfigMap', 'ca-two')] } } },
                { port: ports.fallback, tls: { validation: { mode: 'AllowInsecureFallback', caCertificateRefs: [caRef('Secret', 'ca-two-secret')] } } },
                { port: ports.open, tls: {} },
              ],
            },
          },
          listeners: [listener('strict', ports.strict), listener('per-port', ports.perPort), listener('fallback', ports.fallback), listener('open', ports.open)],
        },
      },
      { apiVersion: GW, kind: 'HTTPRoute', metadata: { name: 'app', namespace: 'app' }, spec: { parentRefs: [{ name: 'mtls' }], rules: [{ backendRefs: [{ name: 'app', port: 80 }] }] } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca-one', namespace: 'app' }, data: { 'ca.crt': one.caPem } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca-two', namespace: 'app' }, data: { 'ca.crt': two.caPem } },
      { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'ca-two-secret', namespace: 'app' }, data: { 'ca.crt': Buffer.from(two.caPem).toString('base64') } },
      tlsSecret('server-tls', one.server.certPem, one.server.keyPem, 'app'),
      ...serviceWithEndpoints('app', [{ port: app.port }], 'app'),
    ]);
    proxy = await startProxy(dir);
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
    await removeDir(dir);
  });

  it('compiles without an error', () => {
    assert.deepEqual(proxy.current()!.diagnostics.filter((d) => d.severity === 'error'), []);
  });

  it('serves a certificate of the port\'s CA, and the upstream gets the request', async () => {
    assert.deepEqual(await get(ports.strict, '/strict-valid', one.client), { status: 200, body: 'app GET /strict-valid' });
    assert.ok(arrived('/strict-valid'));
    assert.deepEqual(await get(ports.perPort, '/per-port-valid', two.client), { status: 200, body: 'app GET /per-port-valid' });
    assert.ok(arrived('/per-port-valid'));
  });

  it('AllowValidOnly: fails the handshake without a certificate, or with one of another CA (each port its own), and nothing arrives', async () => {
    for (const [port, path, cert] of [
      [ports.strict, '/strict-none', undefined],
      [ports.strict, '/strict-other-ca', two.client],
      [ports.strict, '/strict-stranger', one.stranger],
      [ports.perPort, '/per-port-none', undefined],
      [ports.perPort, '/per-port-other-ca', one.client],
    ] as const) {
      const outcome = await get(port, path, cert);
      assert.ok('error' in outcome, `${path}: ${JSON.stringify(outcome)}`);
      assert.equal(arrived(path), undefined, path);
    }
  });

  it('AllowInsecureFallback: serves with a valid certificate, another CA\'s or none, telling the upstream which', async () => {
    for (const [path, cert, verify] of [
      ['/fallback-valid', two.client, /^SUCCESS$/],
      ['/fallback-other-ca', one.client, /^FAILED:/],
      ['/fallback-none', undefined, /^NONE$/],
    ] as const) {
      assert.deepEqual(await get(ports.fallback, path, cert), { status: 200, body: `app GET ${path}` }, path);
      assert.match(String(arrived(path)?.headers['ssl-client-verify']), verify, path);
    }
  });

  it('a port without validation never asks for a certificate; the others ask', async () => {
    const handshake = (port: number): Promise<string> =>
      new Promise((resolve) => {
        const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', HOST, '-msg'], { timeout: 10_000 }, (_err, stdout) => resolve(stdout));
        child.stdin?.end();
      });
    assert.doesNotMatch(await handshake(ports.open), /CertificateRequest/);
    assert.deepEqual(await get(ports.open, '/open-none'), { status: 200, body: 'app GET /open-none' });
    assert.equal(arrived('/open-none')?.headers['ssl-client-verify'], undefined);
    for (const port of [ports.strict, ports.fallback]) assert.match(await handshake(port), /CertificateRequest/, String(port));
  });
});
