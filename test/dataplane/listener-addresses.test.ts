/**
 * Listeners with an address of their own (a Gateway's assigned address): each is served on a
 * socket bound to its address and port, holding only the listeners of that address — so two
 * Gateways with the same port and hostname stay apart — while the own socket on `--bind` serves the
 * listeners without an address. Address sockets open and close with table swaps like declared
 * ports; an address this host does not have is counted while the rest serve. Loopback has all of
 * 127.0.0.0/8 on Linux, so 127.0.0.2 and up are bindable without setup.
 */
import assert from 'node:assert/strict';
import { createSocket as createDgramSocket, type Socket as DgramSocket } from 'node:dgram';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { Certificate, Listener, RoutingTable, VirtualHost } from '../../src/model/table.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki, type TestPki } from '../helpers/test-ca.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const GATEWAY = 'Gateway/default/edge/listener';
/** Not an address of this host (TEST-NET-1): binding it fails with EADDRNOTAVAIL. */
const FOREIGN = '192.0.2.1';
/** Whether loopback has IPv6 here (a container may have it turned off). */
const HAS_V6_LOOPBACK = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));

function listener(name: string, protocol: Listener['protocol'], port: number | null, address: string, certificates: string[] | null = null): Listener {
  return { name, protocol, port, address, hostname: null, tls: protocol === 'HTTPS' ? { certificates } : null, defaultRoute: false, provenance: `${GATEWAY}/${name}` };
}

function certificate(name: string, host: string, pki: TestPki): Certificate {
  return { name: `default/${name}`, hosts: [host], certPem: pki.certPem, keyPem: pki.keyPem, provenance: [`${GATEWAY}/${name}`] };
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byName = <T extends { name: string }>(a: T, b: T): number => compare(a.name, b.name);
// The table's order of virtual hosts (check-table.ts): all exact here, then by host, then by listeners.
const byHost = (a: VirtualHost, b: VirtualHost): number => compare(a.host, b.host) || compare(a.listeners.join(), b.listeners.join());

/** A plain HTTP/1.1 GET of `path` with Host `host` on `address:port`, on its own connection. */
async function get(address: string, port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  const req = httpRequest({ host: address, port, path, headers: { host }, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, body };
}

/** A GET over TLS with SNI `servername` on `address:port` (certificates not checked: which one is asserted apart). */
async function getTls(address: string, port: number, servername: string, path = '/'): Promise<{ status: number; body: string }> {
  const req = httpsRequest({ host: address, port, path, servername, headers: { host: servername }, rejectUnauthorized: false, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, body };
}

/** The common name of the certificate a handshake on `address:port` gets (no SNI when `servername` is null), or `closed`. */
function certificateFor(address: string, port: number, servername: string | null): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ port, host: address, rejectUnauthorized: false, ...(servername === null ? {} : { servername }) }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.destroy();
      resolve(typeof cn === 'string' ? cn : '?');
    });
    socket.on('error', () => resolve('closed'));
    socket.on('close', () => resolve('closed'));
  });
}

/** The error code of a connect to `address:port`, or `connected`. */
function connectOutcome(address: string, port: number): Promise<string> {
  const socket = netConnect({ port, host: address });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

/** `text` as a regular expression that matches it literally. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('listeners with addresses of their own', { timeout: 60_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let alpha: TestUpstream;
  let beta: TestUpstream;
  let gamma: TestUpstream;
  let vault: TlsServer;
  const pki: Record<'x' | 'y' | 'vault', TestPki> = {} as never;
  /** P: the HTTP port of two Gateways (127.0.0.2 and 127.0.0.3) and of one whose address is not ours; S: TLS. */
  const port = { p: 0, s: 0 };
  /** What the next table has (the edit reads it on every compile). */
  const declare = { three: true, extra: 0 };
  let triggers = 0;

  /**
   * The Ingress front end's table, with Gateway listeners on addresses: shop.test goes to alpha on
   * 127.0.0.2:P and to beta on 127.0.0.3:P (both listeners without a hostname), c.test stays on the
   * own port and is also on 127.0.0.4 at the own port number (port null), x.example and y.example
   * are HTTPS on 127.0.0.2:S, and vault.test passes through on 127.0.0.3:S.
   */
  function edit(t: RoutingTable): RoutingTable {
    const listeners: Listener[] = [
      ...t.listeners,
      // On --bind's own address: the own socket serves it (a second socket there would split its connections).
      listener('gw-1', 'HTTP', null, '127.0.0.1'),
      listener('gw-2', 'HTTP', port.p, '127.0.0.2'),
      ...(declare.three ? [listener('gw-3', 'HTTP', port.p, '127.0.0.3')] : []),
      listener('gw-4', 'HTTP', null, '127.0.0.4'),
      listener('gw-foreign', 'HTTP', port.p, FOREIGN),
      listener('gw-s', 'HTTPS', port.s, '127.0.0.2', ['default/cert-x', 'default/cert-y']),
      listener('gw-p', 'TLS', port.s, '127.0.0.3'),
      ...(declare.extra === 0 ? [] : [listener('gw-extra', 'HTTP', declare.extra, '127.0.0.5')]),
    ].sort(byName);
    const virtualHosts: VirtualHost[] = [];
    for (const v of t.virtualHosts) {
      if (v.host === 'a.test') virtualHosts.push({ ...v, host: 'shop.test', listeners: ['gw-2'] });
      else if (v.host === 'x.example') {
        virtualHosts.push({ ...v, listeners: ['gw-s'] }, { ...v, host: 'bound.test', listeners: ['gw-1'] });
      }
      else if (v.host === 'b.test') {
        if (declare.three) virtualHosts.push({ ...v, host: 'shop.test', listeners: ['gw-3'] });
      } else if (v.host === 'c.test') virtualHosts.push({ ...v, listeners: [...(declare.extra === 0 ? [] : ['gw-extra']), 'gw-4', 'gw-foreign', ...v.listeners].sort(compare) });
      else if (v.host === 'y.example') virtualHosts.push({ ...v, listeners: ['gw-s'] });
      else virtualHosts.push(v);
    }
    const certificates = [...t.certificates, certificate('cert-x', 'x.example', pki.x), certificate('cert-y', 'y.example', pki.y)].sort(byName);
    const streamRoutes = [{ ...t.streamRoutes[0]!, listener: 'gw-p' }, ...t.streamRoutes];
    return { ...t, listeners, certificates, streamRoutes, virtualHosts: virtualHosts.sort(byHost) };
  }

  /** Applies `change` (it must change the table) and waits until every worker serves the new table. */
  async function swap(change: () => void): Promise<void> {
    change();
    const next = proxy.nextTable();
    await writeManifests(dir, 'trigger.yaml', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trigger', namespace: 'default' }, data: { n: String(++triggers) } }]);
    await next;
  }

  before(async () => {
    pki.x = makeTestPki('x.example');
    pki.y = makeTestPki('y.example');
    pki.vault = makeTestPki('vault.test');
    alpha = await startUpstream('alpha');
    beta = await startUpstream('beta');
    gamma = await startUpstream('gamma');
    vault = createTlsServer({ cert: pki.vault.certPem, key: pki.vault.keyPem }, (socket) => {
      socket.on('data', (d: Buffer) => socket.write(`vault got: ${d.toString()}`));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => vault.listen(0, '127.0.0.1', resolve));
    port.p = await deadPort();
    do port.s = await deadPort();
    while (port.s === port.p);
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
      ingress('x', 'x.example', [{ path: '/', service: 'alpha' }]),
      ingress('y', 'y.example', [{ path: '/', service: 'beta' }]),
      passthrough,
    ]);
    proxy = await startProxy(dir, { workers: 2, editTable: edit });
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([alpha.close(), beta.close(), gamma.close()]);
    vault.close();
    await removeDir(dir);
  });

  it('serves one host name to a different backend on each address of one port', async () => {
    assert.deepEqual(await get('127.0.0.2', port.p, 'shop.test', '/two'), { status: 200, body: 'alpha GET /two' });
    assert.deepEqual(await get('127.0.0.3', port.p, 'shop.test', '/three'), { status: 200, body: 'beta GET /three' });
    // Neither address serves the other's listeners, nor those of the own socket; the bind address has no socket on P.
    assert.equal((await get('127.0.0.2', port.p, 'c.test')).status, 404);
    assert.equal(await connectOutcome('127.0.0.1', port.p), 'ECONNREFUSED');
    // The upstreams' logs: each saw only the request sent to its own address.
    assert.deepEqual(alpha.seen.map((r) => r.url), ['/two']);
    assert.deepEqual(beta.seen.map((r) => r.url), ['/three']);
  });

  it('keeps serving the listeners without an address on the own socket of --bind', async () => {
    const own = Number(new URL(proxy.http).port);
    assert.deepEqual(await get('127.0.0.1', own, 'c.test', '/own'), { status: 200, body: 'gamma GET /own' });
    assert.equal((await get('127.0.0.1', own, 'shop.test')).status, 404);
  });

  it("serves a listener whose address is --bind's on the own socket, on every connection", async () => {
    const own = Number(new URL(proxy.http).port);
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(await get('127.0.0.1', own, 'bound.test', `/b${i}`), { status: 200, body: `alpha GET /b${i}` });
      assert.deepEqual(await get('127.0.0.1', own, 'c.test', `/b${i}`), { status: 200, body: `gamma GET /b${i}` });
    }
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_ports\\{port="${literal(`127.0.0.1:${own}`)}"`)), 0);
  });

  it('puts an address listener with port null on the own port number at its address', async () => {
    const own = Number(new URL(proxy.http).port);
    assert.deepEqual(await get('127.0.0.4', own, 'c.test', '/four'), { status: 200, body: 'gamma GET /four' });
    assert.equal((await get('127.0.0.4', own, 'shop.test')).status, 404);
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_ports\\{port="${literal(`127.0.0.4:${own}`)}",protocol="http"\\} (\\d+)`)), 2);
  });

  it('chooses among the certificates of an address socket by SNI, else its catch-all listener\'s first', async () => {
    assert.equal(await certificateFor('127.0.0.2', port.s, 'x.example'), 'x.example');
    assert.equal(await certificateFor('127.0.0.2', port.s, 'y.example'), 'y.example');
    assert.equal(await certificateFor('127.0.0.2', port.s, 'unknown.example'), 'x.example');
    assert.equal(await certificateFor('127.0.0.2', port.s, null), 'x.example');
    assert.deepEqual(await getTls('127.0.0.2', port.s, 'y.example', '/tls'), { status: 200, body: 'beta GET /tls' });
    // vault.test passes through only on the address of its TLS listener: here it is terminated.
    assert.equal(await certificateFor('127.0.0.2', port.s, 'vault.test'), 'x.example');
  });

  it('passes TLS through on a TLS-only address socket, and closes a name no route takes', async () => {
    const socket = tlsConnect({ port: port.s, host: '127.0.0.3', servername: 'vault.test', ca: pki.vault.caPem });
    await once(socket, 'secureConnect');
    socket.write('ping');
    const [answer] = (await once(socket, 'data')) as [Buffer];
    assert.equal(answer.toString(), 'vault got: ping');
    socket.destroy();
    assert.equal(await certificateFor('127.0.0.3', port.s, 'x.example'), 'closed');
    assert.ok(await metric(proxy, new RegExp(`signalbox_stream_refused_total\\{listener="https-127\\.0\\.0\\.3-${port.s}",reason="no-route"\\} (\\d+)`)) >= 1);
  });

  it('counts an address this host does not have, and serves the rest', async () => {
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_errors_total\\{port="${literal(`${FOREIGN}:${port.p}`)}",reason="EADDRNOTAVAIL"\\} (\\d+)`)), 2);
    assert.deepEqual(await get('127.0.0.2', port.p, 'shop.test', '/still'), { status: 200, body: 'alpha GET /still' });
  });

  it('closes the socket of an address a new table drops, while the others serve; opens one it adds', { timeout: 10_000 }, async () => {
    const extra = await deadPort();
    await swap(() => {
      declare.three = false;
      declare.extra = extra;
    });
    assert.equal(await connectOutcome('127.0.0.3', port.p), 'ECONNREFUSED');
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_ports\\{port="${literal(`127.0.0.3:${port.p}`)}",protocol="http"\\} (\\d+)`)), 0);
    assert.deepEqual(await get('127.0.0.2', port.p, 'shop.test', '/after'), { status: 200, body: 'alpha GET /after' });
    assert.deepEqual(await get('127.0.0.1', Number(new URL(proxy.http).port), 'c.test', '/after'), { status: 200, body: 'gamma GET /after' });
    // The TLS socket of 127.0.0.3 is another socket: it still passes through.
    assert.equal(await certificateFor('127.0.0.3', port.s, 'vault.test'), 'vault.test');
    for (let i = 0; i < 4; i++) assert.deepEqual(await get('127.0.0.5', extra, 'c.test', `/e${i}`), { status: 200, body: `gamma GET /e${i}` });
    // The foreign address is tried again with the new table, and counted again.
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_errors_total\\{port="${literal(`${FOREIGN}:${port.p}`)}",reason="EADDRNOTAVAIL"\\} (\\d+)`)), 4);
  });
});

/** Upstreams alpha and gamma, and a manifest directory with Ingresses a.test (to alpha) and c.test (to gamma). */
async function twoIngresses(): Promise<{ dir: string; alpha: TestUpstream; gamma: TestUpstream }> {
  const alpha = await startUpstream('alpha');
  const gamma = await startUpstream('gamma');
  const dir = await tempManifestDir();
  await writeManifests(dir, 'a.yaml', [
    ingressClass(),
    ...serviceWithEndpoints('alpha', [{ port: alpha.port }]),
    ...serviceWithEndpoints('gamma', [{ port: gamma.port }]),
    ingress('a', 'a.test', [{ path: '/', service: 'alpha' }]),
    ingress('c', 'c.test', [{ path: '/', service: 'gamma' }]),
  ]);
  return { dir, alpha, gamma };
}

describe('an address socket beside own sockets on the wildcard address', { timeout: 30_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let alpha: TestUpstream;
  let gamma: TestUpstream;

  /** shop.test on 127.0.0.2 and on ::1 at the own HTTP port number; c.test on the own socket, bound to 0.0.0.0. */
  function edit(t: RoutingTable): RoutingTable {
    const listeners = [...t.listeners, listener('gw-2', 'HTTP', null, '127.0.0.2'), listener('gw-6', 'HTTP', null, '::1')].sort(byName);
    const virtualHosts = t.virtualHosts.map((v) => (v.host === 'a.test' ? { ...v, host: 'shop.test', listeners: ['gw-2', 'gw-6'] } : v)).sort(byHost);
    return { ...t, listeners, virtualHosts };
  }

  before(async () => {
    ({ dir, alpha, gamma } = await twoIngresses());
    proxy = await startProxy(dir, { workers: 2, editTable: edit, dataplane: { bindAddress: '0.0.0.0' } });
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([alpha.close(), gamma.close()]);
    await removeDir(dir);
  });

  it('binds beside the wildcard socket of the same port, and gets every connection to its address', async () => {
    const own = Number(new URL(proxy.http).port);
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_ports\\{port="${literal(`127.0.0.2:${own}`)}",protocol="http"\\} (\\d+)`)), 2);
    // Fresh connections, each a new choice for the kernel: the exact address wins over the wildcard every time.
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(await get('127.0.0.2', own, 'shop.test', `/s${i}`), { status: 200, body: `alpha GET /s${i}` });
      assert.equal((await get('127.0.0.2', own, 'c.test')).status, 404, 'the wildcard socket answered a connection to 127.0.0.2');
    }
    // Any other address of the host reaches the wildcard socket, which serves the listeners without an address.
    for (const address of ['127.0.0.1', '127.0.0.3']) {
      assert.deepEqual(await get(address, own, 'c.test', '/w'), { status: 200, body: 'gamma GET /w' });
      assert.equal((await get(address, own, 'shop.test')).status, 404);
    }
  });

  it('serves HTTP/2 with prior knowledge on an address socket, as on the own one', async () => {
    const own = Number(new URL(proxy.http).port);
    const session = h2connect(`http://127.0.0.2:${own}`);
    session.on('error', () => {});
    const stream = session.request({ ':path': '/h2c', ':authority': 'shop.test' });
    const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
    let body = '';
    for await (const chunk of stream) body += String(chunk);
    session.close();
    assert.equal(headers[':status'], 200);
    assert.equal(body, 'alpha GET /h2c');
  });

  it('serves an IPv6 address, its socket named without brackets', { skip: !HAS_V6_LOOPBACK && 'no ::1 on this host' }, async () => {
    const own = Number(new URL(proxy.http).port);
    assert.deepEqual(await get('::1', own, 'shop.test', '/v6'), { status: 200, body: 'alpha GET /v6' });
    assert.equal((await get('::1', own, 'c.test')).status, 404);
    assert.equal(await metric(proxy, new RegExp(`signalbox_listener_ports\\{port="${literal(`[::1]:${own}`)}",protocol="http"\\} (\\d+)`)), 2);
    assert.ok(await metric(proxy, new RegExp(`signalbox_connections_total\\{listener="${literal(`http-::1-${own}`)}"\\} (\\d+)`)) >= 1);
  });
});

describe('a Gateway address on a port its Gateway has no listener on', { timeout: 30_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let alpha: TestUpstream;
  let gamma: TestUpstream;
  let gatewayPort = 0;

  /** shop.test on 127.0.0.2 at its own port only; c.test (an Ingress) on the own socket, bound to 0.0.0.0. */
  function edit(t: RoutingTable): RoutingTable {
    const listeners = [...t.listeners, listener('gw-2', 'HTTP', gatewayPort, '127.0.0.2')].sort(byName);
    const virtualHosts = t.virtualHosts.map((v) => (v.host === 'a.test' ? { ...v, host: 'shop.test', listeners: ['gw-2'] } : v)).sort(byHost);
    return { ...t, listeners, virtualHosts };
  }

  before(async () => {
    gatewayPort = await deadPort();
    ({ dir, alpha, gamma } = await twoIngresses());
    proxy = await startProxy(dir, { editTable: edit, dataplane: { bindAddress: '0.0.0.0' } });
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([alpha.close(), gamma.close()]);
    await removeDir(dir);
  });

  it('the wildcard socket closes a connection to the Gateway\'s address: another tenant\'s routes are not served through it', async () => {
    const own = Number(new URL(proxy.http).port);
    assert.deepEqual(await get('127.0.0.2', gatewayPort, 'shop.test', '/gw'), { status: 200, body: 'alpha GET /gw' });
    const before = gamma.seen.length;
    const outcome = await get('127.0.0.2', own, 'c.test', '/through-the-gateway-address').then((r) => `${r.status} ${r.body}`, (err: NodeJS.ErrnoException) => err.code ?? String(err));
    assert.match(outcome, /^(ECONNRESET|EPIPE|socket hang up)$/, `the wildcard socket answered a connection to 127.0.0.2: ${outcome}`);
    assert.equal(gamma.seen.length, before, 'the Ingress\'s upstream saw nothing of it');
    // Every other address of the host still reaches the wildcard socket's listeners.
    assert.deepEqual(await get('127.0.0.1', own, 'c.test', '/w'), { status: 200, body: 'gamma GET /w' });
    assert.deepEqual(await get('127.0.0.3', own, 'c.test', '/w3'), { status: 200, body: 'gamma GET /w3' });
  });
});

describe('TCP and UDP ports and listener addresses', { timeout: 30_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let echo: NetServer;
  let echoed = 0;
  let udpEcho: DgramSocket;
  const ports = { own: 0, shared: 0, udp: 0 };

  /** tcp-<own> and udp-<udp> get the address 127.0.0.2 of their own; tcp-<shared> keeps none (the bind address, 0.0.0.0). */
  function edit(t: RoutingTable): RoutingTable {
    const addressed = new Set([`tcp-${ports.own}`, `udp-${ports.udp}`]);
    return { ...t, listeners: t.listeners.map((l) => (addressed.has(l.name) ? { ...l, address: '127.0.0.2' } : l)) };
  }

  /** Connects to `address:port`, sends a line and resolves with what came back before the close, or the error code. */
  async function roundTrip(address: string, port: number): Promise<string> {
    const socket = netConnect({ port, host: address });
    let got = '';
    socket.setEncoding('utf8').on('data', (c: string) => (got += c));
    return new Promise((resolve) => {
      socket.once('connect', () => socket.write('ping\n'));
      socket.on('data', () => got.includes('\n') && socket.destroy());
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      socket.once('close', () => resolve(got === '' ? 'closed' : got.trim()));
    });
  }

  /** A datagram to `address` on the UDP port, from a connected socket: the reply, or the error (ECONNREFUSED: nothing bound there). */
  async function udpAsk(address: string): Promise<string> {
    const socket = createDgramSocket('udp4');
    try {
      await new Promise<void>((resolve) => socket.connect(ports.udp, address, resolve));
      return await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('no answer'), 2_000);
        socket.once('message', (msg: Buffer) => {
          clearTimeout(timer);
          resolve(msg.toString());
        });
        socket.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          resolve(err.code ?? 'error');
        });
        socket.send('ping');
      });
    } finally {
      socket.close();
    }
  }

  before(async () => {
    echo = createNetServer((s) => {
      echoed++;
      s.pipe(s);
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    udpEcho = createDgramSocket('udp4');
    udpEcho.on('message', (msg, from) => udpEcho.send(`pong ${msg.toString()}`, from.port, from.address));
    await new Promise<void>((resolve) => udpEcho.bind(0, '127.0.0.1', resolve));
    ports.own = await deadPort();
    ports.shared = await deadPort();
    ports.udp = await deadPort();
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ...serviceWithEndpoints('echo', [{ port: (echo.address() as AddressInfo).port }]),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'dns', namespace: 'default' }, spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'dns-0', namespace: 'default', labels: { 'kubernetes.io/service-name': 'dns' } }, addressType: 'IPv4', ports: [{ name: 'dns', port: udpEcho.address().port, protocol: 'UDP' }], endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }] },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tcp-services', namespace: 'ingress' }, data: { [String(ports.own)]: 'default/echo:80', [String(ports.shared)]: 'default/echo:80' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'udp-services', namespace: 'ingress' }, data: { [String(ports.udp)]: 'default/dns:53' } },
    ]);
    proxy = await startProxy(dir, { editTable: edit, compile: { tcpServicesConfigMap: 'ingress/tcp-services', udpServicesConfigMap: 'ingress/udp-services' }, dataplane: { bindAddress: '0.0.0.0' } });
  });
  after(async () => {
    await proxy.stop();
    echo.close();
    udpEcho.close();
    await removeDir(dir);
  });

  it('a TCP listener with an address is bound to it alone; one without takes no connection made to another listener\'s address', async () => {
    assert.equal(await roundTrip('127.0.0.2', ports.own), 'ping');
    assert.equal(await roundTrip('127.0.0.1', ports.own), 'ECONNREFUSED', 'only its own address is bound');
    const before = echoed;
    assert.match(await roundTrip('127.0.0.2', ports.shared), /^(closed|ECONNRESET)$/, 'the shared port closes a connection made to 127.0.0.2');
    assert.equal(echoed, before, 'the upstream saw nothing of it');
    assert.ok(await metric(proxy, new RegExp(`signalbox_stream_refused_total\\{listener="tcp-${ports.shared}",reason="other-address"\\} (\\d+)`)) >= 1);
    assert.equal(await roundTrip('127.0.0.1', ports.shared), 'ping');
  });

  it('a UDP listener with an address is bound to it alone: its datagrams are relayed there, and nothing listens on the port at another address', async () => {
    assert.equal(await udpAsk('127.0.0.2'), 'pong ping');
    assert.equal(await udpAsk('127.0.0.1'), 'ECONNREFUSED');
  });
});
