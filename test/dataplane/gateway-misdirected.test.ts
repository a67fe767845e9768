/**
 * Misdirected requests on a Gateway's HTTPS port (GatewayHTTPSListenerDetectMisdirectedRequests),
 * on real sockets: four HTTPS listeners on one port — none, `second-example.org`, `*.wildcard.org`,
 * `fourth-example.wildcard.org` as hostnames, each with a route of its own — and HTTP/2 clients
 * that connect with one SNI name and ask for another host, as connection reuse does. A host the
 * handshake's listener takes is served; a host another listener takes is answered 421 and, from
 * the upstreams' own logs, never reaches any of them; a host no route serves on the handshake's
 * own listener is a 404. A connection whose SNI is another listener's reaches that one's route
 * on a connection of its own, as the client's retry does.
 */
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { GATEWAY_CLASS, removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, deadPort, type TestUpstream } from '../helpers/upstreams.ts';
import { makeClientPki } from '../helpers/client-pki.ts';

const GW = 'gateway.networking.k8s.io/v1';
const NAMES = ['example.org', 'second-example.org', '*.wildcard.org', 'fourth-example.wildcard.org', 'unknown-example.org'];

describe('misdirected requests on a Gateway HTTPS port with listeners of several hostnames', () => {
  const pki = makeClientPki(NAMES);
  let dir: string;
  let proxy: TestProxy;
  const apps: TestUpstream[] = [];
  let port = 0;
  const sessions: ClientHttp2Session[] = [];

  /** An HTTP/2 connection whose handshake names `serverName`. */
  const session = (serverName: string): ClientHttp2Session => {
    const s = connect(`https://127.0.0.1:${port}`, { servername: serverName, ca: pki.server.certPem });
    s.on('error', () => {});
    sessions.push(s);
    return s;
  };
  /** One request for `host` on `s`: its status and body. */
  const get = (s: ClientHttp2Session, host: string, path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const stream = s.request({ ':method': 'GET', ':path': path, ':authority': host });
      let status = 0;
      let body = '';
      stream.setEncoding('utf8');
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', (c: string) => (body += c));
      stream.on('end', () => resolve({ status, body }));
      stream.on('error', reject);
      stream.end();
    });
  /** Every upstream request for `path`, whichever upstream got it. */
  const arrived = (path: string): string[] => apps.flatMap((a) => a.seen.filter((s) => s.url === path).map(() => a.name));

  before(async () => {
    for (const name of ['v1', 'v2', 'v3', 'v4']) apps.push(await startUpstream(name));
    port = await deadPort();
    dir = await tempManifestDir();
    const listener = (name: string, hostname?: string): object => ({ name, port, protocol: 'HTTPS', ...(hostname === undefined ? {} : { hostname }), tls: { certificateRefs: [{ name: 'server-tls' }] } });
    const route = (name: string, sectionName: string, backend: string, hostnames?: string[]): object => ({
      apiVersion: GW,
      kind: 'HTTPRoute',
      metadata: { name, namespace: 'infra' },
      spec: { parentRefs: [{ name: 'gw', sectionName }], ...(hostnames === undefined ? {} : { hostnames }), rules: [{ backendRefs: [{ name: backend, port: 80 }] }] },
    });
    await writeManifests(dir, 'gateway.yaml', [
      GATEWAY_CLASS,
      {
        apiVersion: GW,
        kind: 'Gateway',
        metadata: { name: 'gw', namespace: 'infra' },
        spec: {
          gatewayClassName: 'signalbox',
          listeners: [listener('https'), listener('https-with-hostname', 'second-example.org'), listener('https-with-wildcard-hostname', '*.wildcard.org'), listener('https-with-hostname-matching-wildcard', 'fourth-example.wildcard.org')],
        },
      },
      route('one', 'https', 'v1', ['example.org']),
      route('two', 'https-with-hostname', 'v2'),
      route('three', 'https-with-wildcard-hostname', 'v3'),
      route('four', 'https-with-hostname-matching-wildcard', 'v4'),
      tlsSecret('server-tls', pki.server.certPem, pki.server.keyPem, 'infra'),
      ...apps.flatMap((a) => serviceWithEndpoints(a.name, [{ port: a.port }], 'infra')),
    ]);
    proxy = await startProxy(dir);
  });

  after(async () => {
    for (const s of sessions) s.close();
    await proxy?.stop();
    for (const a of apps) await a.close();
    await removeDir(dir);
  });

  it('compiles without an error', () => {
    assert.deepEqual(proxy.current()!.diagnostics.filter((d) => d.severity === 'error'), []);
  });

  it('each SNI name against each host: served by the handshake\'s listener, 421 for another listener\'s host, 404 for no route', async () => {
    const cases: Array<[serverName: string, host: string, status: number, upstream?: string]> = [
      ['example.org', 'example.org', 200, 'v1'],
      ['example.org', 'second-example.org', 421],
      ['example.org', 'unknown-example.org', 404],
      ['second-example.org', 'second-example.org', 200, 'v2'],
      ['second-example.org', 'example.org', 421],
      ['second-example.org', 'unknown-example.org', 421],
      ['third-example.wildcard.org', 'third-example.wildcard.org', 200, 'v3'],
      ['third-example.wildcard.org', 'fifth-example.wildcard.org', 200, 'v3'],
      ['third-example.wildcard.org', 'fourth-example.wildcard.org', 421],
      ['third-example.wildcard.org', 'second-example.org', 421],
      ['fourth-example.wildcard.org', 'fourth-example.wildcard.org', 200, 'v4'],
      ['fourth-example.wildcard.org', 'fifth-example.wildcard.org', 421],
      // The host as clients send it: a port, upper case, a trailing dot — the router's name for it.
      ['second-example.org', 'Second-Example.org.:443', 200, 'v2'],
      ['example.org', 'second-example.org:443', 421],
      ['unknown-example.org', 'example.org', 200, 'v1'],
      ['unknown-example.org', 'unknown-example.org', 404],
    ];
    for (const [i, [serverName, host, status, upstream]] of cases.entries()) {
      const path = `/case-${i}`;
      const s = session(serverName);
      const got = await get(s, host, path);
      assert.equal(got.status, status, `SNI ${serverName}, Host ${host}: ${JSON.stringify(got)}`);
      assert.deepEqual(arrived(path), upstream === undefined ? [] : [upstream], `SNI ${serverName}, Host ${host}: what the upstreams saw`);
    }
  });

  it('one HTTP/2 connection reused for another listener\'s host: 421 on it, served on a connection of its own', async () => {
    const first = session('example.org');
    assert.equal((await get(first, 'example.org', '/reuse-first')).status, 200);
    const misdirected = await get(first, 'second-example.org', '/reuse-second');
    assert.equal(misdirected.status, 421);
    assert.deepEqual(arrived('/reuse-second'), []);
    // The client's retry, on a connection whose handshake names the host.
    assert.equal((await get(session('second-example.org'), 'second-example.org', '/reuse-second')).status, 200);
    assert.deepEqual(arrived('/reuse-second'), ['v2']);
    // The first connection still serves its own listener's host.
    assert.equal((await get(first, 'example.org', '/reuse-again')).status, 200);
  });

  it('HTTP/1.1 over TLS: a Host other than the SNI name\'s listener takes is 421 too', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/h1-misdirected', agent: false, servername: 'second-example.org', ca: pki.server.certPem, headers: { host: 'example.org' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 421);
    assert.deepEqual(arrived('/h1-misdirected'), []);
  });
});
