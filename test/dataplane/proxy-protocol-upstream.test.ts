/**
 * The PROXY protocol towards backends (`signalbox.dev/proxy-protocol`): each upstream connection
 * starts with a header naming the client connection it serves, and carries that client's requests
 * only. The upstream here reads the header off the raw connection itself and logs what it got.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { parseHeader } from '../../src/dataplane/proxy-protocol/header.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki, type TestPki } from '../helpers/test-ca.ts';

/** One upstream connection: the PROXY header's source (or `none`) and the requests it carried. */
interface SeenConnection {
  readonly header: string;
  readonly requests: string[];
}

/** An HTTP upstream that expects a PROXY header first on every connection and records it. */
async function proxyProtocolUpstream(tls?: TestPki): Promise<{ server: Server; port: number; connections: SeenConnection[] }> {
  const connections: SeenConnection[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    // Over TLS the request's socket wraps the raw one the header was read from.
    const raw = req.socket as Socket & { seen?: SeenConnection; _parent?: Socket & { seen?: SeenConnection } };
    const seen = (raw.seen ?? raw._parent?.seen)!;
    seen.requests.push(req.url ?? '');
    res.end(`${seen.header} ${req.url}${'encrypted' in req.socket ? ` over ${(req.socket as TLSSocket).getProtocol()}` : ''}`);
  };
  const http = tls === undefined ? createHttpServer(handler) : createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler);
  const server = createTcpServer((socket: Socket & { seen?: SeenConnection }) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const parsed = parseHeader(buffered);
      if (parsed.kind === 'more') return;
      socket.off('data', onData);
      const header = parsed.kind === 'header' ? (parsed.addresses === null ? 'local' : `${parsed.addresses.sourceAddress}:${parsed.addresses.sourcePort}`) : parsed.kind;
      const seen: SeenConnection = { header, requests: [] };
      connections.push(seen);
      socket.seen = seen;
      if (parsed.kind !== 'header') return void socket.destroy();
      socket.pause();
      // What came after the header (the request, or the TLS ClientHello) goes back to be read
      // again. TLS takes the put-back bytes when it wraps the socket and reads the rest from the
      // handle itself: resuming the socket would steal them from it.
      socket.unshift(buffered.subarray(parsed.length));
      http.emit('connection', socket);
      if (tls === undefined) socket.resume();
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections };
}

describe('the PROXY protocol to backends', () => {
  let dir: string;
  let proxy: TestProxy;
  let v1: Awaited<ReturnType<typeof proxyProtocolUpstream>>;
  let v2: Awaited<ReturnType<typeof proxyProtocolUpstream>>;
  let tlsUp: Awaited<ReturnType<typeof proxyProtocolUpstream>>;

  before(async () => {
    v1 = await proxyProtocolUpstream();
    v2 = await proxyProtocolUpstream();
    tlsUp = await proxyProtocolUpstream(makeTestPki('pp.internal.test'));
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('v1', [{ port: v1.port }], 'default', { 'signalbox.dev/proxy-protocol': 'v1' }),
      ...serviceWithEndpoints('v2', [{ port: v2.port }], 'default', { 'signalbox.dev/proxy-protocol': 'v2' }),
      ...serviceWithEndpoints('tls', [{ port: tlsUp.port }], 'default', { 'signalbox.dev/proxy-protocol': 'v2', 'signalbox.dev/backend-protocol': 'HTTPS', 'signalbox.dev/backend-tls-verify': 'false' }),
      ...serviceWithEndpoints('tls12', [{ port: tlsUp.port }], 'default', { 'signalbox.dev/proxy-protocol': 'v1', 'signalbox.dev/backend-protocol': 'HTTPS', 'signalbox.dev/backend-tls-verify': 'false', 'signalbox.dev/backend-tls-max-version': 'TLSv1.2' }),
      ingress('pp', 'pp.test', [{ path: '/v1', service: 'v1' }, { path: '/v2', service: 'v2' }, { path: '/tls', service: 'tls' }, { path: '/tls12', service: 'tls12' }]),
    ]);
    proxy = await startProxy(dir);
  });
  after(async () => {
    await proxy.stop();
    for (const up of [v1, v2, tlsUp]) await new Promise((resolve) => up.server.close(resolve));
    await removeDir(dir);
  });

  /** GETs `paths` in turn on one keep-alive client connection; returns its local port and the bodies. */
  async function onOneConnection(paths: string[]): Promise<{ port: number; bodies: string[] }> {
    let port = 0;
    const agent = new Agent({
      connections: 1,
      connect: (opts, cb) => {
        const socket = connect({ host: '127.0.0.1', port: Number(opts.port) }, () => {
          port = socket.localPort!;
          cb(null, socket);
        });
        socket.once('error', (err) => cb(err, null));
      },
    });
    const bodies: string[] = [];
    for (const path of paths) {
      const res = await request(`${proxy.http}${path}`, { headers: { host: 'pp.test' }, dispatcher: agent });
      bodies.push(await res.body.text());
    }
    await agent.close();
    return { port, bodies };
  }

  it('over TLS the header comes first, before the handshake', async () => {
    const { port, bodies } = await onOneConnection(['/tls/x']);
    assert.deepEqual(bodies, [`127.0.0.1:${port} /tls/x over TLSv1.3`]);
  });

  it('over TLS the Service\'s TLS versions hold on these connections too', async () => {
    const { port, bodies } = await onOneConnection(['/tls12/x']);
    assert.deepEqual(bodies, [`127.0.0.1:${port} /tls12/x over TLSv1.2`]);
  });

  for (const [version, up] of [['v1', () => v1], ['v2', () => v2]] as const) {
    it(`${version}: the header names the client's address and port; one client connection, one upstream connection`, async () => {
      const before = up().connections.length;
      const first = await onOneConnection([`/${version}/a`, `/${version}/b`]);
      assert.deepEqual(first.bodies, [`127.0.0.1:${first.port} /${version}/a`, `127.0.0.1:${first.port} /${version}/b`]);
      const second = await onOneConnection([`/${version}/c`]);
      assert.notEqual(second.port, first.port);
      assert.deepEqual(second.bodies, [`127.0.0.1:${second.port} /${version}/c`], 'another client connection gets a connection with its own header');
      const made = up().connections.slice(before);
      assert.deepEqual(made.map((c) => c.requests), [[`/${version}/a`, `/${version}/b`], [`/${version}/c`]], 'no upstream connection carried two clients');
    });
  }
});
