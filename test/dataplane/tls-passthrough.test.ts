/**
 * TLS passthrough on the HTTPS port (`signalbox.dev/ssl-passthrough`): a real TLS upstream with a
 * certificate of the test CA; the client must see the upstream's own certificate, while other SNI
 * names (and none) are still terminated by signalbox. ClientHellos that cannot be read are closed
 * and never reach the upstream, which counts every TCP connection it gets.
 */
import assert from 'node:assert/strict';
import { connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki, type TestPki } from '../helpers/test-ca.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';
import { metric } from '../helpers/metrics.ts';

function passthroughIngress(name: string, host: string, service: string): object {
  const obj = ingress(name, host, [{ path: '/', service }]) as { metadata: Record<string, unknown> };
  obj.metadata['annotations'] = { 'signalbox.dev/ssl-passthrough': 'true' };
  return obj;
}

/** The raw ClientHello a TLS client sends for `servername`, captured by a plain TCP server. */
async function captureClientHello(servername: string): Promise<Buffer> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const got = once(server, 'connection') as Promise<[Socket]>;
  const client = tlsConnect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', servername });
  client.on('error', () => {});
  const [socket] = await got;
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  client.destroy();
  socket.destroy();
  server.close();
  return chunk;
}

/** Writes `bytes` raw and waits for the connection to close; resolves with what came back. */
async function rawExchange(port: number, bytes: Buffer[]): Promise<Buffer> {
  const socket = netConnect({ port, host: '127.0.0.1' });
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  // A close by reset is a close too: events.once would reject on the 'error' that precedes it.
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await Promise.race([once(socket, 'connect'), closed]);
  for (const b of bytes) {
    if (socket.destroyed) break;
    socket.write(b);
    await new Promise((r) => setImmediate(r));
  }
  await closed;
  return Buffer.concat(received);
}

describe('TLS passthrough by SNI on the HTTPS port', () => {
  let dir: string;
  let proxy: TestProxy;
  let http: TestUpstream;
  let pki: TestPki;
  let tls: TlsServer;
  let tlsConnections = 0;
  let port: number;

  before(async () => {
    pki = makeTestPki('vault.test');
    tls = createTlsServer({ cert: pki.certPem, key: pki.keyPem }, (socket) => {
      socket.on('data', (d: Buffer) => socket.write(`upstream got: ${d.toString()}`));
      socket.on('error', () => {});
    });
    tls.on('connection', () => tlsConnections++);
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    http = await startUpstream('web');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('vault', [{ port: (tls.address() as AddressInfo).port }]),
      ...serviceWithEndpoints('web', [{ port: http.port }]),
      passthroughIngress('vault', 'vault.test', 'vault'),
      ingress('web', 'web.test', [{ path: '/', service: 'web' }]),
    ]);
    proxy = await startProxy(dir, { timeouts: { requestHeadersMs: 500 } });
    port = Number(new URL(proxy.https).port);
  });
  after(async () => {
    await proxy.stop();
    await http.close();
    tls.close();
    await removeDir(dir);
  });

  it('relays a passed-through name to the upstream, whose own certificate the client verifies', async () => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'vault.test', ca: pki.caPem });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    assert.equal(socket.getPeerCertificate().subject.CN, 'vault.test');
    socket.write('ping');
    const [answer] = (await once(socket, 'data')) as [Buffer];
    assert.equal(answer.toString(), 'upstream got: ping');
    socket.end();
    assert.ok(await metric(proxy, /signalbox_stream_connections_total\{listener="tls-passthrough",cluster="default\/vault:80"\} (\d+)/) >= 1);
  });

  it('still terminates other names at signalbox', async () => {
    const res = await request(`${proxy.https}/`, { headers: { host: 'web.test' }, dispatcher: new (await import('undici')).Agent({ connect: { rejectUnauthorized: false, servername: 'web.test' } }) });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-upstream'], 'web');
    await res.body.text();
  });

  it('terminates a connection without SNI at signalbox', async () => {
    const before = tlsConnections;
    const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    assert.notEqual(socket.getPeerCertificate().subject?.CN, 'vault.test');
    socket.destroy();
    assert.equal(tlsConnections, before);
  });

  it('reassembles a ClientHello split over many segments', async () => {
    const hello = await captureClientHello('vault.test');
    const before = tlsConnections;
    const pieces: Buffer[] = [];
    for (let i = 0; i < hello.length; i += 7) pieces.push(hello.subarray(i, i + 7));
    const socket = netConnect({ port, host: '127.0.0.1' });
    await once(socket, 'connect');
    for (const p of pieces) {
      socket.write(p);
      await new Promise((r) => setImmediate(r));
    }
    // The upstream answers with its ServerHello: a TLS handshake record.
    const [first] = (await once(socket, 'data')) as [Buffer];
    assert.equal(first[0], 22);
    socket.destroy();
    assert.equal(tlsConnections, before + 1);
  });

  it('closes malformed, oversized and slow ClientHellos without reaching the upstream', async () => {
    const before = tlsConnections;
    assert.equal((await rawExchange(port, [Buffer.from('GET / HTTP/1.1\r\nHost: vault.test\r\n\r\n')])).length, 0);
    // A record that announces a 60 KiB handshake message, then keeps sending.
    const huge = Buffer.alloc(5 + 4 + 16_000);
    huge.set([22, 3, 1, 0x3e, 0x84, 1, 0x00, 0xf0, 0x00]);
    assert.equal((await rawExchange(port, [huge, Buffer.alloc(16_000, 1), Buffer.alloc(16_000, 1)])).length, 0);
    // A hello cut short and never finished: closed at the request-header timeout.
    const hello = await captureClientHello('vault.test');
    assert.equal((await rawExchange(port, [hello.subarray(0, 20)])).length, 0);
    // A server_name whose name has a byte no host name has.
    const bad = Buffer.from(hello);
    const at = bad.indexOf('vault.test');
    bad[at] = 0x2f;
    assert.equal((await rawExchange(port, [bad])).length, 0);
    assert.equal(tlsConnections, before, 'the upstream saw a connection');
    assert.ok(await metric(proxy, /signalbox_stream_refused_total\{listener="tls-passthrough",reason="timeout"\} (\d+)/) >= 1);
  });
});
