/**
 * Ports the routing table's listeners declare (a Gateway's `listeners[].port`), served by every
 * worker beside the data plane's own two: each port serves only the virtual hosts of its listeners,
 * ports open and close with table swaps (a request in flight on a closed port still completes), a
 * TLS port chooses among its own listeners' certificates by SNI and passes connections through by
 * SNI first, and a port another process holds is counted while the rest serve. The table is the
 * Ingress front end's, with listeners edited in as a Gateway front end would write them.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { Certificate, Listener, RoutingTable } from '../../src/model/table.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki, type TestPki } from '../helpers/test-ca.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const GATEWAY = 'Gateway/default/edge/listener';

function listener(name: string, protocol: Listener['protocol'], port: number, hostname: string | null = null, certificates: string[] | null = null): Listener {
  return { name, protocol, port, hostname, tls: protocol === 'HTTPS' ? { certificates } : null, defaultRoute: false, provenance: `${GATEWAY}/${name}` };
}

function certificate(name: string, host: string, pki: TestPki): Certificate {
  return { name: `default/${name}`, hosts: [host], certPem: pki.certPem, keyPem: pki.keyPem, provenance: [`${GATEWAY}/${name}`] };
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A plain HTTP/1.1 GET of `path` with Host `host` on a port of 127.0.0.1, on its own connection. */
async function get(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host }, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, body };
}

/** A GET over TLS with SNI `servername` (certificates not checked: which one is asserted apart). */
async function getTls(port: number, servername: string, path = '/'): Promise<{ status: number; body: string }> {
  const req = httpsRequest({ host: '127.0.0.1', port, path, servername, headers: { host: servername }, rejectUnauthorized: false, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, body };
}

/** The common name of the certificate a handshake on `port` gets (no SNI when `servername` is null), or `closed`. */
function certificateFor(port: number, servername: string | null): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...(servername === null ? {} : { servername }) }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.destroy();
      resolve(typeof cn === 'string' ? cn : '?');
    });
    socket.on('error', () => resolve('closed'));
    socket.on('close', () => resolve('closed'));
  });
}

/** The error code of a connect to `port`, or `connected`. */
async function connectOutcome(port: number): Promise<string> {
  const socket = netConnect({ port, host: '127.0.0.1' });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

describe('ports the table declares', { timeout: 60_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let alpha: TestUpstream;
  let beta: TestUpstream;
  let gamma: TestUpstream;
  let vault: TlsServer;
  let blocker: NetServer;
  const pki: Record<'a' | 'b' | 'any' | 'vault', TestPki> = {} as never;
  /** Ports: A and B serve a.test and b.test, C is added later, T is taken by another server, S is TLS, P TLS-only. */
  const port = { a: 0, b: 0, c: 0, t: 0, s: 0, p: 0 };
  /** What the next table declares (the edit reads it on every compile). */
  const declare = { b: true, c: false, cOnOwn: false, wrongOnOwn: 0 };
  let triggers = 0;
  /** Releases the request to beta's /slow. */
  let releaseSlow: () => void = () => {};
  let slowArrived: Promise<void>;

  /** The Ingress front end's table, with the listeners, hosts and certificates of a Gateway on the ports above. */
  function edit(t: RoutingTable): RoutingTable {
    const own = t.listeners.filter((l) => l.name !== 'tls-passthrough').map((l) => (l.name === 'https' ? { ...l, tls: { certificates: ['default/cert-b'] } } : l));
    const passthrough = t.listeners.find((l) => l.name === 'tls-passthrough')!;
    const listeners: Listener[] = [
      ...own,
      // Passthrough moves from the own HTTPS port to port S, beside the HTTPS listeners there.
      { ...passthrough, port: port.s },
      listener('gw-a', 'HTTP', port.a),
      ...(declare.b ? [listener('gw-b', 'HTTP', port.b)] : []),
      ...(declare.c ? [listener('gw-c', 'HTTP', port.c)] : []),
      listener('gw-t', 'HTTP', port.t),
      listener('gw-s-a', 'HTTPS', port.s, 'a.example', ['default/cert-a']),
      listener('gw-s-any', 'HTTPS', port.s, null, ['default/cert-any']),
      listener('gw-s-b', 'HTTPS', port.s, 'b.example', ['default/cert-b']),
      listener('gw-p', 'TLS', port.p),
      ...(declare.wrongOnOwn === 0 ? [] : [listener('gw-wrong', 'HTTPS', declare.wrongOnOwn, null, ['default/cert-a'])]),
    ].sort(byName);
    const on: Record<string, string[]> = {
      'a.test': ['gw-a'],
      'b.test': declare.b ? ['gw-b'] : ['http'],
      'c.test': [...(declare.c ? ['gw-c'] : []), 'gw-t', ...(declare.cOnOwn ? ['http'] : [])],
      'a.example': ['gw-s-a'],
      'b.example': ['gw-s-b'],
    };
    const certificates = [...t.certificates, certificate('cert-a', 'a.example', pki.a), certificate('cert-any', 'any.example', pki.any), certificate('cert-b', 'b.example', pki.b)].sort(byName);
    const streamRoutes = [{ ...t.streamRoutes[0]!, listener: 'gw-p' }, ...t.streamRoutes];
    return { ...t, listeners, certificates, streamRoutes, virtualHosts: t.virtualHosts.map((v) => ({ ...v, listeners: on[v.host] ?? v.listeners })) };
  }

  /** Applies `change` (it must change the table) and waits until every worker serves the new table. */
  async function swap(change: () => void): Promise<void> {
    change();
    const next = proxy.nextTable();
    // Any change to the manifests recompiles; the edit then writes the new listeners.
    await writeManifests(dir, 'trigger.yaml', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trigger', namespace: 'default' }, data: { n: String(++triggers) } }]);
    await next;
  }

  before(async () => {
    pki.a = makeTestPki('a.example');
    pki.b = makeTestPki('b.example');
    pki.any = makeTestPki('any.example');
    pki.vault = makeTestPki('vault.test');
    alpha = await startUpstream('alpha');
    gamma = await startUpstream('gamma');
    let arrived: () => void = () => {};
    slowArrived = new Promise((resolve) => (arrived = resolve));
    beta = await startUpstream('beta', (req, res) => {
      req.resume();
      if (req.url !== '/slow') return void res.end(`beta ${req.url}`);
      // The head now, the end when the test says: a request in flight for as long as it needs.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('beta slow, ');
      releaseSlow = () => res.end('finished');
      arrived();
    });
    vault = createTlsServer({ cert: pki.vault.certPem, key: pki.vault.keyPem }, (socket) => {
      socket.on('data', (d: Buffer) => socket.write(`vault got: ${d.toString()}`));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => vault.listen(0, '127.0.0.1', resolve));
    // Another process's socket (bound without SO_REUSEPORT): the workers cannot share it.
    blocker = createNetServer((s) => s.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port.t = (blocker.address() as AddressInfo).port;
    // Free ports, each its own (the kernel may hand out a port it just released again).
    const taken = new Set([port.t]);
    for (const key of ['a', 'b', 'c', 's', 'p'] as const) {
      let p = await deadPort();
      while (taken.has(p)) p = await deadPort();
      taken.add((port[key] = p));
    }
    dir = await tempManifestDir();
    const passthrough = ingress('vault', 'vault.test', [{ path: '/', service: 'vault' }]) as { metadata: Record<string, unknown> };
    passthrough.metadata['annotations'] = { 'signalbox.dev/ssl-passthrough': 'true' };
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('alpha', [{ port: alpha.port }]),
      ...serviceWithEndpoints('beta', [{ port: beta.port }]),
      ...serviceWithEndpoints('gamma', [{ port: gamma.port }]),
      ...serviceWithEndpoints('vault', [{ port: (vault.address() as AddressInfo).port }]),
      ingress('a', 'a.test', [{ path: '/', service: 'alpha' }]),
      ingress('b', 'b.test', [{ path: '/', service: 'beta' }]),
      ingress('c', 'c.test', [{ path: '/', service: 'gamma' }]),
      ingress('ax', 'a.example', [{ path: '/', service: 'alpha' }]),
      ingress('bx', 'b.example', [{ path: '/', service: 'beta' }]),
      passthrough,
    ]);
    proxy = await startProxy(dir, { workers: 2, editTable: edit, timeouts: { keepAliveMs: 60_000, requestHeadersMs: 2_000 } });
  });
  after(async () => {
    releaseSlow();
    await proxy.stop();
    await Promise.all([alpha.close(), beta.close(), gamma.close()]);
    vault.close();
    blocker.close();
    await removeDir(dir);
  });

  it('serves on each port only the virtual hosts of its listeners', async () => {
    assert.deepEqual(await get(port.a, 'a.test', '/one'), { status: 200, body: 'alpha GET /one' });
    assert.deepEqual(await get(port.b, 'b.test', '/two'), { status: 200, body: 'beta /two' });
    const own = Number(new URL(proxy.http).port);
    for (const [p, host] of [[port.a, 'b.test'], [port.b, 'a.test'], [own, 'a.test']] as const) {
      assert.equal((await get(p, host, '/elsewhere')).status, 404, `${host} on port ${p}`);
    }
    // The upstreams' logs: each saw only the request sent to its own port.
    assert.deepEqual(alpha.seen.map((r) => r.url), ['/one']);
    assert.deepEqual(beta.seen.map((r) => r.url), ['/two']);
  });

  it('counts a port another process holds, serves the others, and opens it with a table once free', { timeout: 10_000 }, async () => {
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_errors_total\\{port="${port.t}",reason="EADDRINUSE"\\} (\\d+)`)), 2);
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_ports\\{port="${port.a}",protocol="http"\\} (\\d+)`)), 2);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    // Any new table retries it (an identical one is not published: this one adds c.test to the own port).
    await swap(() => (declare.cOnOwn = true));
    assert.deepEqual(await get(port.t, 'c.test', '/t'), { status: 200, body: 'gamma GET /t' });
  });

  it('opens a port a new table declares in every worker', { timeout: 10_000 }, async () => {
    assert.equal(await connectOutcome(port.c), 'ECONNREFUSED');
    await swap(() => (declare.c = true));
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_ports\\{port="${port.c}",protocol="http"\\} (\\d+)`)), 2);
    // Fresh connections, spread by the kernel across both workers: every one is served.
    for (let i = 0; i < 8; i++) assert.deepEqual(await get(port.c, 'c.test', `/c${i}`), { status: 200, body: `gamma GET /c${i}` });
  });

  it('closes a port the table drops, while a request in flight on it completes', { timeout: 10_000 }, async () => {
    const agent = new Agent({ keepAlive: true });
    const req = httpRequest({ host: '127.0.0.1', port: port.b, path: '/slow', headers: { host: 'b.test' }, agent });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    await slowArrived;
    const socket = res.socket;
    const closed = once(socket, 'close');
    await swap(() => (declare.b = false));
    assert.equal(await connectOutcome(port.b), 'ECONNREFUSED');
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_ports\\{port="${port.b}",protocol="http"\\} (\\d+)`)), 0);
    releaseSlow();
    let body = '';
    for await (const chunk of res) body += String(chunk);
    assert.equal(res.statusCode, 200);
    assert.equal(body, 'beta slow, finished');
    // Idle now, its keep-alive connection is closed by the proxy, not left open for the 60 s keep-alive.
    await closed;
    agent.destroy();
    // b.test is now served where its listener went: the own HTTP port.
    assert.deepEqual(await get(Number(new URL(proxy.http).port), 'b.test', '/moved'), { status: 200, body: 'beta /moved' });
  });

  it("chooses among a TLS port's own certificates by SNI, else its listener without a hostname's", async () => {
    assert.equal(await certificateFor(port.s, 'a.example'), 'a.example');
    assert.equal(await certificateFor(port.s, 'b.example'), 'b.example');
    assert.equal(await certificateFor(port.s, 'unknown.example'), 'any.example');
    assert.equal(await certificateFor(port.s, null), 'any.example');
    assert.deepEqual(await getTls(port.s, 'a.example', '/s'), { status: 200, body: 'alpha GET /s' });
    assert.deepEqual(await getTls(port.s, 'b.example', '/s'), { status: 200, body: 'beta /s' });
  });

  it('speaks HTTP/2 on a declared TLS port, chosen by ALPN', async () => {
    const session = h2connect(`https://a.example:${port.s}`, { host: '127.0.0.1', port: port.s, servername: 'a.example', ca: pki.a.caPem } as never);
    session.on('error', () => {});
    const stream = session.request({ ':path': '/h2', ':authority': 'a.example' });
    const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
    let body = '';
    for await (const chunk of stream) body += String(chunk);
    session.close();
    assert.equal(headers[':status'], 200);
    assert.equal(body, 'alpha GET /h2');
    assert.equal(alpha.seen.at(-1)?.headers['x-forwarded-port'], String(port.s));
  });

  it("offers on the own HTTPS port only its listener's certificates list", async () => {
    const own = Number(new URL(proxy.https).port);
    // cert-a is in the table but not in the https listener's list; cert-b is, and is its first.
    assert.equal(await certificateFor(own, 'a.example'), 'b.example');
    assert.equal(await certificateFor(own, 'unknown.example'), 'b.example');
  });

  it('passes TLS through by SNI on a declared port: beside HTTPS listeners, and on a TLS-only port', async () => {
    for (const p of [port.s, port.p]) {
      const socket = tlsConnect({ port: p, host: '127.0.0.1', servername: 'vault.test', ca: pki.vault.caPem });
      await once(socket, 'secureConnect');
      assert.equal(socket.getPeerCertificate().subject.CN, 'vault.test');
      socket.write('ping');
      const [answer] = (await once(socket, 'data')) as [Buffer];
      assert.equal(answer.toString(), 'vault got: ping');
      socket.destroy();
    }
    // A TLS-only port holds no certificate: a name no route takes is closed, not terminated.
    assert.equal(await certificateFor(port.p, 'a.example'), 'closed');
    assert.ok(await metric(proxy, new RegExp(`signalbox_stream_refused_total\\{listener="https-${port.p}",reason="no-route"\\} (\\d+)`)) >= 1);
    // The own HTTPS port has no passthrough listener any more: vault.test is terminated there.
    assert.equal(await certificateFor(Number(new URL(proxy.https).port), 'vault.test'), 'b.example');
  });

  it("counts, and does not serve, an HTTPS listener on the own HTTP port; that port stays plain HTTP", { timeout: 10_000 }, async () => {
    const own = Number(new URL(proxy.http).port);
    await swap(() => (declare.wrongOnOwn = own));
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_errors_total\\{port="${own}",reason="own-port-protocol"\\} (\\d+)`)), 2);
    assert.deepEqual(await get(own, 'b.test', '/still'), { status: 200, body: 'beta /still' });
  });
});
