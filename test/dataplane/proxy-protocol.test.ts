import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as h2connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { encodeHeader } from '../../src/dataplane/proxy-protocol/header.ts';
import { ingress, removeDir, routeScript, tempManifestDir } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { parseRawResponse, type RawResponse } from '../helpers/raw-http.ts';
import { startScripted, type ScriptedEnv } from '../helpers/scripted.ts';

const V1_TCP4 = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 51000 80\r\n', 'latin1');
const V2_TCP4 = encodeHeader('v2', { sourceAddress: '198.51.100.9', sourcePort: 40000, destinationAddress: '10.0.0.1', destinationPort: 80 });
const V1_TCP6 = Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 51000 443\r\n', 'latin1');
const V2_TCP6 = encodeHeader('v2', { sourceAddress: '2001:db8:0:0:1::5', sourcePort: 40000, destinationAddress: '2001:db8::1', destinationPort: 443 });

/** What a raw connection got: a response, or closed without one. */
type Outcome = RawResponse | 'closed';

/** Connects (from `localAddress`), writes `prefix` then `request`, and reads until the proxy closes. */
function exchange(socket: Socket, prefix: Buffer, request: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      try {
        resolve(text === '' ? 'closed' : parseRawResponse(text));
      } catch (err) {
        reject(err as Error);
      }
    });
    socket.write(Buffer.concat([prefix, Buffer.from(request, 'latin1')]));
  });
}

function plain(port: number, prefix: Buffer, localAddress = '127.0.0.1'): Promise<Outcome> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  return exchange(socket, prefix, 'GET /who HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
}

/** A PROXY header on the TCP connection, then TLS over it, then an HTTP/1.1 request. */
function overTls(port: number, prefix: Buffer): Promise<Outcome> {
  const tcp = connect({ host: '127.0.0.1', port });
  tcp.write(prefix);
  const socket = tlsConnect({ socket: tcp, servername: 'app.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => exchange(socket as unknown as Socket, Buffer.alloc(0), 'GET /who HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n').then(resolve, reject));
    socket.once('error', () => resolve('closed'));
  });
}

describe('accepting the PROXY protocol from trusted proxies (--proxy-protocol)', () => {
  let env: ScriptedEnv;
  let logDir: string;
  before(async () => {
    logDir = await tempManifestDir();
    env = await startScripted({
      upstreams: { app: null },
      objects: () => [
        ingress('app', 'app.test', [{ path: '/', service: 'app' }]),
        routeScript('who', {
          targetRefs: [{ kind: 'Ingress', name: 'app', path: '/' }],
          code: `export function onRequest(req) { return { setHeaders: { 'x-script-client': req.clientIp } }; }`,
        }),
      ],
      proxy: { dataplane: { trustedProxies: ['127.0.0.1'], proxyProtocol: true, accessLog: join(logDir, 'access.log') } },
    });
  });
  after(async () => {
    await env?.close();
    await removeDir(logDir);
  });

  const port = (): number => Number(new URL(env.proxy.http).port);
  const tlsPort = (): number => Number(new URL(env.proxy.https).port);
  const lastSeen = (): Record<string, unknown> => env.ups.app!.seen.at(-1)!.headers;

  for (const [name, header, client] of [['v1 TCP4', V1_TCP4, '203.0.113.7'], ['v2 TCP4', V2_TCP4, '198.51.100.9'], ['v1 TCP6', V1_TCP6, '2001:db8::7'], ['v2 TCP6', V2_TCP6, '2001:db8::1:0:0:5']] as const) {
    it(`takes the client address from a ${name} header: forwarding headers and the script's clientIp agree`, async () => {
      const res = await plain(port(), header);
      assert.notEqual(res, 'closed');
      assert.equal((res as RawResponse).status, 200);
      const seen = lastSeen();
      assert.equal(seen['x-forwarded-for'], client);
      assert.equal(seen['x-real-ip'], client);
      assert.equal(seen['x-script-client'], client);
    });
  }

  it('keeps the bytes after the header: the request in the same packet is served', async () => {
    // One write holds the header and the whole request: nothing of it may be lost to the header read.
    const socket = connect({ host: '127.0.0.1', port: port() });
    const res = await exchange(socket, V1_TCP4, 'GET /same HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    assert.equal((res as RawResponse).status, 200);
    assert.equal(env.ups.app!.seen.at(-1)!.url, '/same');
  });

  it('reads the header before the TLS handshake on the HTTPS listener', async () => {
    const res = await overTls(tlsPort(), V2_TCP4);
    assert.notEqual(res, 'closed');
    assert.equal((res as RawResponse).status, 200);
    assert.equal(lastSeen()['x-forwarded-for'], '198.51.100.9');
    assert.equal(lastSeen()['x-forwarded-proto'], 'https');
  });

  it('gives HTTP/2 requests over the HTTPS listener the header\'s client address', async () => {
    const session = h2connect(env.proxy.https, {
      createConnection: () => {
        const tcp = connect({ host: '127.0.0.1', port: tlsPort() });
        tcp.write(V1_TCP6);
        return tlsConnect({ socket: tcp, servername: 'app.test', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
      },
    });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/h2', ':authority': 'app.test' });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
        stream.end();
      });
      assert.equal(status, 200);
      assert.equal(env.ups.app!.seen.at(-1)!.url, '/h2');
      assert.equal(lastSeen()['x-forwarded-for'], '2001:db8::7');
      assert.equal(lastSeen()['x-script-client'], '2001:db8::7');
    } finally {
      session.close();
    }
  });

  it('closes the connection of a trusted peer that sends no header, on both listeners', async () => {
    const before = env.ups.app!.seen.length;
    assert.equal(await plain(port(), Buffer.alloc(0)), 'closed');
    assert.equal(await overTls(tlsPort(), Buffer.alloc(0)), 'closed');
    assert.equal(env.ups.app!.seen.length, before, 'nothing reached the upstream');
    assert.equal(await metric(env.proxy, /signalbox_proxy_protocol_refused_total\{listener="http",reason="missing"\} (\d+)/), 1);
    assert.equal(await metric(env.proxy, /signalbox_proxy_protocol_refused_total\{listener="https",reason="missing"\} (\d+)/), 1);
  });

  it('refuses a header from a peer that is not a trusted proxy, and serves that peer without one', async () => {
    const before = env.ups.app!.seen.length;
    assert.equal(await plain(port(), V1_TCP4, '127.0.0.2'), 'closed');
    assert.equal(await plain(port(), V2_TCP4, '127.0.0.2'), 'closed');
    assert.equal(env.ups.app!.seen.length, before, 'nothing reached the upstream');
    assert.equal(await metric(env.proxy, /signalbox_proxy_protocol_refused_total\{listener="http",reason="untrusted"\} (\d+)/), 2);
    const res = await plain(port(), Buffer.alloc(0), '127.0.0.2');
    assert.equal((res as RawResponse).status, 200);
    assert.equal(lastSeen()['x-forwarded-for'], '127.0.0.2');
  });

  it('closes a malformed or oversized header and counts it', async () => {
    const before = env.ups.app!.seen.length;
    const bad = [
      'PROXY TCP4 1.2.3 10.0.0.1 1 80\r\n',
      'PROXY TCP4 203.0.113.7 10.0.0.1 99999 80\r\n',
      'PROXY TCP5 203.0.113.7 10.0.0.1 1 80\r\n',
      `PROXY TCP4 ${'1'.repeat(120)}\r\n`,
    ].map((s) => Buffer.from(s, 'latin1'));
    const v2BadVersion = Buffer.from(V2_TCP4);
    v2BadVersion[12] = 0x11;
    const v2Short = Buffer.from(V2_TCP4);
    v2Short.writeUInt16BE(4, 14);
    for (const header of [...bad, v2BadVersion, v2Short]) assert.equal(await plain(port(), header), 'closed', header.toString('latin1'));
    assert.equal(env.ups.app!.seen.length, before, 'nothing reached the upstream');
    assert.equal(await metric(env.proxy, /signalbox_proxy_protocol_refused_total\{listener="http",reason="malformed"\} (\d+)/), 6);
  });

  it('writes the header\'s client address to the access log', async () => {
    await plain(port(), V1_TCP6);
    await env.close();
    const lines = (await readFile(join(logDir, 'access.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { client: string });
    assert.equal(lines.at(-1)!.client, '2001:db8::7');
    assert.ok(lines.every((l) => l.client !== '127.0.0.1'), 'no request is logged with the balancer\'s address');
  });
});
