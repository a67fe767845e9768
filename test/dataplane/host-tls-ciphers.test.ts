/**
 * The cipher list of TLS termination per host, on real sockets: ingress-nginx's `ssl-ciphers` on
 * one host limits that host's TLS 1.2 handshakes to its list (a client offering only another
 * cipher fails, one offering it gets it), `ssl-prefer-server-ciphers` makes the host's order win,
 * and other hosts, and handshakes without SNI, keep the listener's list; the ConfigMap's
 * `ssl-protocols` and `ssl-ciphers` hold for every handshake of the port (nginx's http-level
 * defaults): the hosts the Ingresses name, names no Ingress has and handshakes without SNI, and
 * follow the ConfigMap as it changes. The client's own socket (`getCipher()`,
 * `getProtocol()`) and the upstream's log say what was negotiated and what reached it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeClientPki } from '../helpers/client-pki.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';
const HOSTS = ['strict.example', 'ordered.example', 'open.example', 'strict-auth.example'];
const AES128 = 'ECDHE-ECDSA-AES128-GCM-SHA256';
const AES256 = 'ECDHE-ECDSA-AES256-GCM-SHA384';
const CHACHA = 'ECDHE-ECDSA-CHACHA20-POLY1305';

function ingress(name: string, host: string, annotations: Record<string, string>): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z', annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: [host], secretName: 'server-tls' }],
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'app', port: { number: 80 } } } }] } }],
    },
  };
}

/** A TLS 1.2 handshake and one request: the negotiated cipher and the status, or the handshake's error code. */
type Outcome = { cipher: string; status: number } | { error: string };

describe('TLS termination with a cipher list per host (ssl-ciphers)', () => {
  const pki = makeClientPki(HOSTS);
  let dir: string;
  let proxy: TestProxy;
  let httpsPort: number;
  let app: TestUpstream;

  /** `host` over TLS 1.2 offering `ciphers` (in that order), SNI `sni` (null: none). */
  const attempt = (sni: string | null, host: string, ciphers: string, extra: ConnectionOptions = {}): Promise<Outcome> =>
    new Promise((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, ...(sni === null ? {} : { servername: sni }), rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers, ALPNProtocols: ['http/1.1'], ...extra });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      socket.once('secureConnect', () => {
        const cipher = socket.getCipher().name;
        socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.once('end', () => resolve({ cipher, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0) }));
      });
    });

  before(async () => {
    app = await startUpstream('app');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      tlsSecret('server-tls', pki.server.certPem, pki.server.keyPem),
      { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'client-ca', namespace: 'default' }, data: { 'ca.crt': Buffer.from(pki.caPem).toString('base64') } },
      ingress('strict', 'strict.example', { 'ssl-ciphers': AES128 }),
      ingress('ordered', 'ordered.example', { 'ssl-ciphers': `${CHACHA}:${AES256}`, 'ssl-prefer-server-ciphers': 'true' }),
      ingress('open', 'open.example', {}),
      ingress('strict-auth', 'strict-auth.example', { 'ssl-ciphers': AES128, 'auth-tls-secret': 'default/client-ca', 'auth-tls-verify-client': 'optional' }),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    httpsPort = Number(new URL(proxy.https).port);
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
    await removeDir(dir);
  });

  it('compiles without a diagnostic about the annotations', () => {
    assert.deepEqual(proxy.current()!.diagnostics.filter((d) => /ssl-ciphers|ssl-prefer/.test(d.message)), []);
  });

  it('a client offering only another cipher fails the handshake, and reaches nothing', async () => {
    const before = app.seen.length;
    const outcome = await attempt('strict.example', 'strict.example', AES256);
    assert.ok('error' in outcome, `the handshake failed: ${JSON.stringify(outcome)}`);
    assert.match(outcome.error, /HANDSHAKE_FAILURE/);
    assert.equal(app.seen.length, before);
  });

  it('a client offering the host\'s cipher gets it, and its request is served', async () => {
    const before = app.seen.length;
    assert.deepEqual(await attempt('strict.example', 'strict.example', `${AES256}:${AES128}`), { cipher: AES128, status: 200 });
    assert.equal(app.seen.length, before + 1);
  });

  it('another host, and a handshake without SNI, keep the listener\'s list', async () => {
    assert.deepEqual(await attempt('open.example', 'open.example', AES256), { cipher: AES256, status: 200 });
    assert.deepEqual(await attempt(null, 'open.example', AES256), { cipher: AES256, status: 200 });
  });

  it('ssl-prefer-server-ciphers: the host\'s order wins over the client\'s', async () => {
    assert.deepEqual(await attempt('ordered.example', 'ordered.example', `${AES256}:${CHACHA}`), { cipher: CHACHA, status: 200 });
    // The client's order again, on the host without the preference.
    assert.deepEqual(await attempt('open.example', 'open.example', `${AES256}:${CHACHA}`), { cipher: AES256, status: 200 });
  });

  it('a host that also asks for client certificates keeps its cipher list', async () => {
    const refused = await attempt('strict-auth.example', 'strict-auth.example', AES256);
    assert.ok('error' in refused, `the handshake failed: ${JSON.stringify(refused)}`);
    assert.deepEqual(await attempt('strict-auth.example', 'strict-auth.example', `${AES256}:${AES128}`, { cert: pki.client.certPem, key: pki.client.keyPem }), { cipher: AES128, status: 200 });
  });
});

describe('TLS termination with the ConfigMap\'s ssl-protocols and ssl-ciphers', () => {
  const pki = makeClientPki(['modern.example']);
  let dir: string;
  let proxy: TestProxy;
  let httpsPort: number;
  let app: TestUpstream;

  /** The protocol a client allowing `maxVersion` at most negotiates (and the cipher), or the handshake's error code. */
  const negotiate = (sni: string | null, maxVersion: 'TLSv1.2' | 'TLSv1.3', ciphers?: string): Promise<string> =>
    new Promise((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, ...(sni === null ? {} : { servername: sni }), rejectUnauthorized: false, maxVersion, ...(ciphers === undefined ? {} : { ciphers }) });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      socket.once('secureConnect', () => {
        resolve(ciphers === undefined ? (socket.getProtocol() ?? 'none') : `${socket.getProtocol()} ${socket.getCipher().name}`);
        socket.end();
      });
    });
  const refused = /PROTOCOL_VERSION|HANDSHAKE_FAILURE|ECONNRESET|NO_SHARED_CIPHER/;

  /** The manifests with the controller ConfigMap's `data`. */
  const manifests = (data: Record<string, string>): object[] => [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
    ...serviceWithEndpoints('app', [{ port: app.port }]),
    tlsSecret('server-tls', pki.server.certPem, pki.server.keyPem),
    ingress('modern', 'modern.example', {}),
  ];

  before(async () => {
    app = await startUpstream('app');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', manifests({ 'ssl-protocols': 'TLSv1.3' }));
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    httpsPort = Number(new URL(proxy.https).port);
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
    await removeDir(dir);
  });

  it('a host the Ingresses name speaks TLS 1.3 only', async () => {
    assert.equal(await negotiate('modern.example', 'TLSv1.3'), 'TLSv1.3');
    assert.match(await negotiate('modern.example', 'TLSv1.2'), refused);
  });

  it('so does every other handshake of the port: without SNI, and for a name no Ingress has (nginx\'s http-level default)', async () => {
    assert.match(await negotiate(null, 'TLSv1.2'), refused);
    assert.match(await negotiate('unknown.example', 'TLSv1.2'), refused);
    assert.equal(await negotiate(null, 'TLSv1.3'), 'TLSv1.3');
    assert.equal(await negotiate('unknown.example', 'TLSv1.3'), 'TLSv1.3');
  });

  it('follows the ConfigMap when it changes: ssl-ciphers then limits TLS 1.2 for every handshake, ssl-protocols gone', async () => {
    const applied = proxy.nextTable();
    await writeManifests(dir, 'a.yaml', manifests({ 'ssl-ciphers': AES128 }));
    await applied;
    for (const sni of [null, 'unknown.example', 'modern.example']) {
      assert.equal(await negotiate(sni, 'TLSv1.2', `${AES256}:${AES128}`), `TLSv1.2 ${AES128}`, `SNI ${sni}: the ConfigMap's cipher`);
      assert.match(await negotiate(sni, 'TLSv1.2', AES256), refused, `SNI ${sni}: another cipher is refused`);
    }
    // Back to nothing set: Node's defaults again, TLS 1.2 and any of its ciphers.
    const cleared = proxy.nextTable();
    await writeManifests(dir, 'a.yaml', manifests({}));
    await cleared;
    assert.equal(await negotiate(null, 'TLSv1.2', AES256), `TLSv1.2 ${AES256}`);
    assert.equal(await negotiate('unknown.example', 'TLSv1.2'), 'TLSv1.2');
  });
});
