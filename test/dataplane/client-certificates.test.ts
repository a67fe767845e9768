/**
 * ingress-nginx's client-certificate authentication (`auth-tls-*`) end to end on real sockets: a
 * CA Secret, certificates made with openssl, the handshake asking for a certificate only for the
 * names whose host checks one, nginx's answers (400, 403, the error page), what the upstream is
 * told — and, from the upstream's own log, that refused requests never arrive, that a client's own
 * `ssl-client-*` fields never do, and that a connection made for another name cannot reach a host
 * that checks (421), over HTTP/1.1 and HTTP/2.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';
import { makeClientPki, type Pair } from '../helpers/client-pki.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';
const HOSTS = ['secure.example', 'optional.example', 'noca.example', 'cn.example', 'errors.example', 'errpath.example', 'crl.example', 'chain.example', 'chain2.example', 'public.example'];

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

function caSecret(name: string, data: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace: 'default' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

describe('client-certificate authentication (auth-tls-*)', () => {
  const pki = makeClientPki(HOSTS);
  let dir: string;
  let proxy: TestProxy;
  let httpsPort: number;
  let httpPort: number;
  let app: TestUpstream;

  /** One HTTP/1.1 request on a connection of its own: SNI `sni` (null: none), Host `host`. */
  const get = (sni: string | null, host: string, cert?: Pair, headers: Record<string, string> = {}, path = '/'): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1',
        port: httpsPort,
        path,
        agent: false,
        rejectUnauthorized: false,
        // '' sends no SNI (Node would take the Host field's name otherwise).
        servername: sni ?? '',
        ...(cert === undefined ? {} : { cert: cert.certPem, key: cert.keyPem }),
        headers: { host, ...headers },
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });

  /** The response head of one request on an HTTP/2 session. */
  const h2request = async (session: ClientHttp2Session, authority: string): Promise<IncomingHttpHeaders> => {
    const stream = session.request({ ':path': '/', ':authority': authority });
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    stream.resume();
    await once(stream, 'end');
    return headers;
  };
  const h2session = (sni: string, cert?: Pair): ClientHttp2Session =>
    h2connect(`https://127.0.0.1:${httpsPort}`, { servername: sni, rejectUnauthorized: false, ...(cert === undefined ? {} : { cert: cert.certPem, key: cert.keyPem }) });
  /** One HTTP/2 request on a session of its own. */
  const h2get = async (sni: string, authority: string, cert?: Pair): Promise<IncomingHttpHeaders> => {
    const session = h2session(sni, cert);
    try {
      return await h2request(session, authority);
    } finally {
      session.close();
    }
  };

  /** The request the upstream saw last, if it is newer than `before`. */
  const arrived = (before: number): TestUpstream['seen'][number] | undefined => (app.seen.length > before ? app.seen[app.seen.length - 1] : undefined);

  before(async () => {
    app = await startUpstream('app');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', objects(pki.caPem));
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    httpsPort = Number(new URL(proxy.https).port);
    httpPort = Number(new URL(proxy.http).port);
  });

  /** The manifests, with `caPem` as the client-ca Secret's CA. */
  const objects = (caPem: string): object[] => [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
    ...serviceWithEndpoints('app', [{ port: app.port }]),
    tlsSecret('server-tls', pki.server.certPem, pki.server.keyPem),
    caSecret('client-ca', { 'ca.crt': caPem }),
    caSecret('client-ca-crl', { 'ca.crt': pki.caPem, 'ca.crl': pki.crlPem }),
    caSecret('chain-ca', { 'ca.crt': pki.chainCaPem }),
    ingress('secure', 'secure.example', { 'auth-tls-secret': 'default/client-ca', 'auth-tls-pass-certificate-to-upstream': 'true' }),
    ingress('optional', 'optional.example', { 'auth-tls-secret': 'default/client-ca', 'auth-tls-verify-client': 'optional' }),
    ingress('noca', 'noca.example', { 'auth-tls-secret': 'default/client-ca', 'auth-tls-verify-client': 'optional_no_ca' }),
    ingress('cn', 'cn.example', { 'auth-tls-secret': 'default/client-ca', 'auth-tls-match-cn': 'CN=client1' }),
    ingress('errors', 'errors.example', { 'auth-tls-secret': 'default/client-ca', 'auth-tls-error-page': 'https://errors.example.org/cert-needed' }),
    ingress('errpath', 'errpath.example', { 'auth-tls-secret': 'default/client-ca', 'auth-tls-error-page': '/certificate-needed.html' }),
    ingress('crl', 'crl.example', { 'auth-tls-secret': 'default/client-ca-crl' }),
    ingress('chain', 'chain.example', { 'auth-tls-secret': 'default/chain-ca' }),
    ingress('chain2', 'chain2.example', { 'auth-tls-secret': 'default/chain-ca', 'auth-tls-verify-depth': '2' }),
    ingress('public', 'public.example', {}),
  ];

  after(async () => {
    await proxy?.stop();
    await app?.close();
    await removeDir(dir);
  });

  it('compiles every Ingress without an error', () => {
    assert.deepEqual(proxy.current()!.diagnostics.filter((d) => d.severity === 'error'), []);
  });

  it('answers 400 without a certificate, with one of another CA, an expired or a revoked one; none reaches the upstream', async () => {
    const seen = app.seen.length;
    const none = await get('secure.example', 'secure.example');
    assert.equal(none.status, 400);
    assert.equal(none.headers['x-signalbox-error'], 'client-certificate-required');
    assert.match(none.body, /No required SSL certificate was sent/);
    for (const [host, cert] of [['secure.example', pki.stranger], ['secure.example', pki.expired], ['crl.example', pki.revoked]] as const) {
      const bad = await get(host, host, cert);
      assert.equal(bad.status, 400, `${host} with ${new X509Certificate(cert.certPem).subject}`);
      assert.equal(bad.headers['x-signalbox-error'], 'client-certificate-invalid');
      assert.match(bad.body, /The SSL certificate error/);
    }
    assert.equal(app.seen.length, seen, 'no refused request reached the upstream');
  });

  it('serves a valid certificate: the upstream sees SUCCESS, the subject and issuer DNs and the escaped certificate', async () => {
    const seen = app.seen.length;
    const res = await get('secure.example', 'secure.example', pki.client);
    assert.equal(res.status, 200);
    const h = arrived(seen)!.headers;
    assert.equal(h['ssl-client-verify'], 'SUCCESS');
    assert.equal(h['ssl-client-subject-dn'], 'CN=client1,O=Example');
    assert.equal(h['ssl-client-issuer-dn'], 'CN=signalbox client CA');
    assert.equal(decodeURIComponent(String(h['ssl-client-cert'])), pki.client.certPem);
  });

  it('checks the CRL only where the Secret has one: the revoked certificate is served on the host without it', async () => {
    assert.equal((await get('crl.example', 'crl.example', pki.client)).status, 200);
    assert.equal((await get('secure.example', 'secure.example', pki.revoked)).status, 200);
  });

  it('passes the certificate only with auth-tls-pass-certificate-to-upstream', async () => {
    const seen = app.seen.length;
    assert.equal((await get('cn.example', 'cn.example', pki.client)).status, 200);
    const h = arrived(seen)!.headers;
    assert.equal(h['ssl-client-verify'], 'SUCCESS');
    assert.equal(h['ssl-client-cert'], undefined);
  });

  it('optional: serves without a certificate (NONE), still refuses one that does not verify', async () => {
    const seen = app.seen.length;
    assert.equal((await get('optional.example', 'optional.example')).status, 200);
    const h = arrived(seen)!.headers;
    assert.equal(h['ssl-client-verify'], 'NONE');
    assert.equal(h['ssl-client-subject-dn'], undefined);
    assert.equal((await get('optional.example', 'optional.example', pki.stranger)).status, 400);
    assert.equal((await get('optional.example', 'optional.example', pki.client)).status, 200);
    assert.equal(arrived(seen + 1)!.headers['ssl-client-verify'], 'SUCCESS');
  });

  it('optional_no_ca: lets a certificate of another CA through, telling the upstream it FAILED', async () => {
    const seen = app.seen.length;
    assert.equal((await get('noca.example', 'noca.example', pki.stranger)).status, 200);
    const h = arrived(seen)!.headers;
    assert.match(String(h['ssl-client-verify']), /^FAILED:/);
    assert.equal(h['ssl-client-subject-dn'], 'CN=client1');
    assert.equal((await get('noca.example', 'noca.example')).status, 200);
    assert.equal(arrived(seen + 1)!.headers['ssl-client-verify'], 'NONE');
  });

  it('match-cn: another subject of the CA is answered 403', async () => {
    const seen = app.seen.length;
    const res = await get('cn.example', 'cn.example', pki.other);
    assert.equal(res.status, 403);
    assert.equal(res.headers['x-signalbox-error'], 'client-certificate-unauthorized');
    assert.equal(app.seen.length, seen);
  });

  it('error page: a request without a valid certificate is redirected there', async () => {
    for (const cert of [undefined, pki.stranger]) {
      const res = await get('errors.example', 'errors.example', cert);
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, 'https://errors.example.org/cert-needed');
    }
    assert.equal((await get('errors.example', 'errors.example', pki.client)).status, 200);
  });

  it('an error page that is a path of the host is served to those sent there, not sent there again', async () => {
    const sent = await get('errpath.example', 'errpath.example', undefined, {}, '/private');
    assert.equal(sent.status, 302);
    assert.equal(sent.headers.location, '/certificate-needed.html');
    const seen = app.seen.length;
    assert.equal((await get('errpath.example', 'errpath.example', undefined, {}, '/certificate-needed.html')).status, 200);
    const page = arrived(seen)!;
    assert.equal(page.url, '/certificate-needed.html');
    assert.equal(page.headers['ssl-client-verify'], 'NONE');
  });

  it('verify depth: a certificate under an intermediate needs depth 2', async () => {
    const shallow = await get('chain.example', 'chain.example', pki.chained);
    assert.equal(shallow.status, 400);
    assert.equal(shallow.headers['x-signalbox-error'], 'client-certificate-invalid');
    const seen = app.seen.length;
    assert.equal((await get('chain2.example', 'chain2.example', pki.chained)).status, 200);
    assert.equal(arrived(seen)!.headers['ssl-client-subject-dn'], 'CN=chained');
  });

  it('a client\'s own ssl-client-* fields never reach the upstream, on a host with or without the check', async () => {
    const spoof = { 'ssl-client-verify': 'SUCCESS', 'ssl-client-subject-dn': 'CN=admin', 'ssl-client-issuer-dn': 'CN=root', 'ssl-client-cert': 'forged' };
    let seen = app.seen.length;
    assert.equal((await get('public.example', 'public.example', undefined, spoof)).status, 200);
    const plain = arrived(seen)!;
    for (const name of Object.keys(spoof)) assert.equal(plain.headers[name], undefined, name);
    seen = app.seen.length;
    assert.equal((await get('cn.example', 'cn.example', pki.client, spoof)).status, 200);
    const checked = arrived(seen)!;
    assert.deepEqual(checked.rawHeaders.filter((_, i, a) => i % 2 === 0 && /^ssl-client-/i.test(a[i]!)).sort(), ['ssl-client-issuer-dn', 'ssl-client-subject-dn', 'ssl-client-verify']);
    assert.equal(checked.headers['ssl-client-subject-dn'], 'CN=client1,O=Example');
    assert.equal(checked.headers['ssl-client-verify'], 'SUCCESS');
  });

  it('a connection made for another name cannot reach a host that checks: 421 (HTTP/1.1)', async () => {
    const seen = app.seen.length;
    for (const sni of ['public.example', 'optional.example']) {
      const res = await get(sni, 'secure.example', pki.client);
      assert.equal(res.status, 421, `SNI ${sni}`);
      assert.equal(res.headers['x-signalbox-error'], 'misdirected-request');
    }
    // Without SNI no certificate could be asked for: as nginx, a request without one (400, or the error page).
    const unnamed = await get(null, 'secure.example', pki.client);
    assert.equal(unnamed.status, 400);
    assert.equal(unnamed.headers['x-signalbox-error'], 'client-certificate-required');
    assert.equal((await get(null, 'errors.example', pki.client)).headers.location, 'https://errors.example.org/cert-needed');
    assert.equal(app.seen.length, seen);
    const optional = await get(null, 'optional.example', pki.client);
    assert.equal(optional.status, 200);
    assert.equal(arrived(seen)!.headers['ssl-client-verify'], 'NONE');
    // The other way round is fine: a host without the check is served on a verified connection.
    assert.equal((await get('secure.example', 'public.example', pki.client)).status, 200);
  });

  it('HTTP/2: served with the check on its own connection, 421 for its host on a connection made for another', async () => {
    let seen = app.seen.length;
    assert.equal((await h2get('secure.example', 'secure.example', pki.client))[':status'], 200);
    assert.equal(arrived(seen)!.headers['ssl-client-subject-dn'], 'CN=client1,O=Example');
    assert.equal((await h2get('secure.example', 'secure.example'))[':status'], 400);
    seen = app.seen.length;
    const misdirected = await h2get('public.example', 'secure.example', pki.client);
    assert.equal(misdirected[':status'], 421);
    assert.equal(app.seen.length, seen);
  });

  it('an upgrade (WebSocket) to a host that checks is refused without a certificate, as any request', async () => {
    const seen = app.seen.length;
    const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, servername: 'secure.example', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    await once(socket, 'secureConnect');
    socket.write('GET /ws HTTP/1.1\r\nHost: secure.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (text += c));
    await once(socket, 'close');
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /x-signalbox-error: client-certificate-required/i);
    assert.equal(app.seen.length, seen);
  });

  it('plain HTTP to a host that checks is redirected to HTTPS, never served without the check', async () => {
    const seen = app.seen.length;
    const res = await rawRequest(httpPort, 'GET /x HTTP/1.1\r\nHost: secure.example\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 308);
    assert.equal(app.seen.length, seen);
  });

  it('asks for a certificate only in handshakes for a host that checks one, naming its CA', async () => {
    const handshake = (sni: string): Promise<string> =>
      new Promise((resolve) => {
        const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${httpsPort}`, '-servername', sni, '-msg'], { timeout: 10_000 }, (_err, stdout) => resolve(stdout));
        child.stdin?.end();
      });
    const asked = await handshake('secure.example');
    assert.match(asked, /CertificateRequest/);
    assert.match(asked, /Acceptable client certificate CA names\s+CN ?= ?signalbox client CA/);
    for (const sni of ['public.example', 'unknown.example']) assert.doesNotMatch(await handshake(sni), /CertificateRequest/, sni);
  });

  it('never resumes a TLS session on a host that checks: each handshake verifies the certificate again (TLS 1.2 and 1.3)', async () => {
    const handshake = async (maxVersion: 'TLSv1.2' | 'TLSv1.3', session?: Buffer): Promise<{ reused: boolean; status: string; session: Buffer | undefined }> => {
      const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, servername: 'secure.example', rejectUnauthorized: false, maxVersion, ALPNProtocols: ['http/1.1'], cert: pki.client.certPem, key: pki.client.keyPem, ...(session === undefined ? {} : { session }) });
      let issued: Buffer | undefined;
      socket.on('session', (s: Buffer) => (issued = s));
      await once(socket, 'secureConnect');
      const reused = socket.isSessionReused();
      // Not end(): a TLS close_notify before the answer ends the exchange.
      socket.write('GET / HTTP/1.1\r\nHost: secure.example\r\nConnection: close\r\n\r\n');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (text += c));
      await once(socket, 'close');
      return { reused, status: text.split('\r\n')[0] ?? '', session: issued };
    };
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const first = await handshake(version);
      assert.equal(first.status, 'HTTP/1.1 200 OK');
      const again = await handshake(version, first.session);
      assert.deepEqual([again.reused, again.status], [false, 'HTTP/1.1 200 OK'], version);
    }
  });

  // Last: it changes the CA Secret.
  it('a connection verified under a CA the host no longer trusts is not served: 421, and new connections use the new CA', async () => {
    const session = h2session('secure.example', pki.client);
    try {
      assert.equal((await h2request(session, 'secure.example'))[':status'], 200);
      const rotated = makeClientPki(HOSTS);
      const next = proxy.nextTable();
      await writeManifests(dir, 'a.yaml', objects(rotated.caPem));
      await next;
      const seen = app.seen.length;
      assert.equal((await h2request(session, 'secure.example'))[':status'], 421);
      assert.equal(app.seen.length, seen);
      assert.equal((await get('secure.example', 'secure.example', pki.client)).status, 400);
      assert.equal((await get('secure.example', 'secure.example', rotated.client)).status, 200);
      // The hosts that kept their CA keep serving the connections verified for them.
      assert.equal((await h2get('crl.example', 'crl.example', pki.client))[':status'], 200);
    } finally {
      session.close();
    }
  });
});
