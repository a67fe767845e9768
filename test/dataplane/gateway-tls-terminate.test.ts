/**
 * Gateway API TLS listeners in Terminate mode on real sockets: a TLS client (verifying the
 * listener's certificate against the test CA) reaches a plain TCP echo upstream through a TLSRoute;
 * the upstream's own log shows it got the client's bytes in clear text, with no TLS record in
 * front. On the same port a Passthrough listener of another Gateway still relays undecrypted, and a
 * name no route takes is closed without reaching anyone. One Gateway with listeners of both modes
 * on one port (TLSRouteModeMixed) serves both: each connection's SNI name chooses.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { GATEWAY_CLASS, ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki } from '../helpers/test-ca.ts';
import { deadPort } from '../helpers/upstreams.ts';

const GW = 'gateway.networking.k8s.io/v1';

/** A TCP (or, given a TLS server, TLS) upstream answering each line with `<name> <line>`, logging every byte it received per connection. */
async function lineEcho(name: string, server: Server = createNetServer(), event: 'connection' | 'secureConnection' = 'connection'): Promise<{ server: Server; port: number; log: Buffer[] }> {
  const log: Buffer[] = [];
  server.on(event, (socket: Socket) => {
    const index = log.push(Buffer.alloc(0)) - 1;
    socket.on('data', (chunk: Buffer) => {
      log[index] = Buffer.concat([log[index]!, chunk]);
      for (const line of chunk.toString('latin1').split('\n').filter((l) => l !== '')) socket.write(`${name} ${line}\n`);
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, log };
}

/** Connects with TLS for `servername`, sends `line` and resolves with the first line back (or the error). */
async function ask(port: number, servername: string, ca: string, line: string): Promise<{ answer: string; peer: string } | { error: string }> {
  const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, servername, ca });
  try {
    await once(socket, 'secureConnect');
    const peer = String(socket.getPeerCertificate().subject?.CN ?? '');
    socket.write(`${line}\n`);
    let got = '';
    for await (const chunk of socket) {
      got += (chunk as Buffer).toString();
      if (got.includes('\n')) break;
    }
    return { answer: got.trim(), peer };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    socket.destroy();
  }
}

/** The subject CN of the certificate `port` presents for `servername` (unverified), or the handshake's error. */
async function presented(port: number, servername: string): Promise<string> {
  const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  try {
    await once(socket, 'secureConnect');
    return `CN=${String(socket.getPeerCertificate().subject?.CN ?? '')}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  } finally {
    socket.destroy();
  }
}

describe('Gateway TLS listeners in Terminate mode', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let mixedPort: number;
  const listenerPki = makeTestPki('db.example.com');
  const backendPki = makeTestPki('vault.example.com');
  const shopPki = makeTestPki('shop.example.com');
  let plain: Awaited<ReturnType<typeof lineEcho>>;
  let passthrough: Awaited<ReturnType<typeof lineEcho>>;

  before(async () => {
    plain = await lineEcho('plain');
    passthrough = await lineEcho('vault', createTlsServer({ cert: backendPki.certPem, key: backendPki.keyPem }), 'secureConnection');
    port = await deadPort();
    mixedPort = await deadPort();
    dir = await tempManifestDir();
    const gateway = (name: string, ...listeners: object[]): object => ({ apiVersion: GW, kind: 'Gateway', metadata: { name, namespace: 'app' }, spec: { gatewayClassName: 'signalbox', listeners } });
    const route = (name: string, parent: string, hostname: string, service: string): object => ({ apiVersion: GW, kind: 'TLSRoute', metadata: { name, namespace: 'app' }, spec: { parentRefs: [{ name: parent }], hostnames: [hostname], rules: [{ backendRefs: [{ name: service, port: 80 }] }] } });
    await writeManifests(dir, 'gateway.yaml', [
      GATEWAY_CLASS,
      gateway('terminating', { name: 'db', port, protocol: 'TLS', hostname: 'db.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'db-tls' }] } }),
      gateway('passing', { name: 'vault', port, protocol: 'TLS', hostname: 'vault.example.com', tls: { mode: 'Passthrough' } }),
      route('db', 'terminating', 'db.example.com', 'plain'),
      route('vault', 'passing', 'vault.example.com', 'vault'),
      gateway(
        'mixed',
        { name: 'tls-terminate', port: mixedPort, protocol: 'TLS', hostname: 'db.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'db-tls' }] } },
        { name: 'tls-passthrough', port: mixedPort, protocol: 'TLS', hostname: 'vault.example.com', tls: { mode: 'Passthrough' } },
      ),
      route('mixed-db', 'mixed', 'db.example.com', 'plain'),
      route('mixed-vault', 'mixed', 'vault.example.com', 'vault'),
      tlsSecret('db-tls', listenerPki.certPem, listenerPki.keyPem, 'app'),
      ...serviceWithEndpoints('plain', [{ port: plain.port }], 'app'),
      ...serviceWithEndpoints('vault', [{ port: passthrough.port }], 'app'),
      // An Ingress with TLS, served on the data plane's own HTTPS port.
      ingressClass(),
      ...serviceWithEndpoints('shop', [{ port: plain.port }]),
      tlsSecret('shop-tls', shopPki.certPem, shopPki.keyPem),
      ingress('shop', 'shop.example.com', [{ path: '/', service: 'shop' }], { tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }] }),
    ]);
    proxy = await startProxy(dir);
  });

  after(async () => {
    await proxy?.stop();
    plain?.server.close();
    passthrough?.server.close();
    await removeDir(dir);
  });

  it('terminates with the listener\'s certificate and relays the plain stream to the TCP upstream', async () => {
    assert.deepEqual(await ask(port, 'db.example.com', listenerPki.caPem, 'PING'), { answer: 'plain PING', peer: 'db.example.com' });
    // What reached the upstream is the client's line itself: no TLS record (0x16) in front of it.
    assert.deepEqual(plain.log.map((b) => b.toString('latin1')), ['PING\n']);
  });

  it('keeps passing another Gateway\'s TLS listener on the same port through undecrypted', async () => {
    assert.deepEqual(await ask(port, 'vault.example.com', backendPki.caPem, 'PING'), { answer: 'vault PING', peer: 'vault.example.com' });
  });

  it('closes a connection for a name no TLSRoute takes, reaching no upstream', async () => {
    const before = plain.log.length;
    const result = await ask(port, 'other.example.com', listenerPki.caPem, 'PING');
    assert.ok('error' in result, `expected the handshake to fail, got ${JSON.stringify(result)}`);
    assert.equal(plain.log.length, before);
  });

  it('offers the listener\'s certificate only on its port: not on the own HTTPS port, which keeps the Ingress\'s', async () => {
    const own = Number(new URL(proxy.https).port);
    assert.equal(await presented(port, 'db.example.com'), 'CN=db.example.com');
    assert.equal(await presented(own, 'shop.example.com'), 'CN=shop.example.com', 'the Ingress\'s certificate, on the own port');
    assert.notEqual(await presented(own, 'db.example.com'), 'CN=db.example.com', 'the Gateway listener\'s certificate does not answer on the own port');
  });

  it('one Gateway with both modes on one port: the SNI name chooses, terminated to the plain upstream or passed through', async () => {
    assert.deepEqual(proxy.current()!.diagnostics.filter((d) => d.name === 'mixed'), [], 'no listener of the mixed Gateway is in conflict');
    const before = plain.log.length;
    assert.deepEqual(await ask(mixedPort, 'db.example.com', listenerPki.caPem, 'MIXED'), { answer: 'plain MIXED', peer: 'db.example.com' });
    assert.deepEqual(plain.log.slice(before).map((b) => b.toString('latin1')), ['MIXED\n'], 'the terminated stream arrives in clear text');
    assert.deepEqual(await ask(mixedPort, 'vault.example.com', backendPki.caPem, 'MIXED'), { answer: 'vault MIXED', peer: 'vault.example.com' });
  });
});
