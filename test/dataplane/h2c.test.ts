/**
 * HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) on the plain HTTP ports: what a gRPC client with
 * insecure credentials, `grpcurl -plaintext` or `curl --http2-prior-knowledge` sends. The same
 * port keeps serving HTTP/1.1 as before, the HTTP/2 limits and guards of the TLS port apply, a
 * port the table declares speaks it too and sends GOAWAY when it drains, and
 * `--no-http2-cleartext` gives the preface what it got before: a 400.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import { request } from 'undici';
import type { Listener, RoutingTable } from '../../src/model/table.ts';
import { CODE, FRAME, RawH2, SETTING, headersFrame, requestBlock } from '../helpers/h2-frames.ts';
import { holdingUpstream, type HoldingUpstream } from '../helpers/holding-upstream.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy, type TestProxyOptions } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

/** Messages as they are: the test service (de)serialises nothing. */
const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };

/** A gRPC service without a .proto: Say is unary, Count streams one message per count. */
const ECHO = {
  say: { path: '/test.Echo/Say', requestStream: false, responseStream: false, ...raw },
  count: { path: '/test.Echo/Count', requestStream: false, responseStream: true, ...raw },
} satisfies grpc.ServiceDefinition;

/** One call as the gRPC upstream logged it. */
interface UpstreamCall {
  readonly path: string;
  readonly forwardedProto: string;
}

/** A gRPC server on 127.0.0.1:0 without TLS (h2c), logging every call it serves. */
async function startGrpcUpstream(): Promise<{ port: number; log: UpstreamCall[]; server: grpc.Server }> {
  const log: UpstreamCall[] = [];
  const server = new grpc.Server();
  const logged = (call: grpc.ServerUnaryCall<Buffer, Buffer> | grpc.ServerWritableStream<Buffer, Buffer>): void => {
    log.push({ path: call.getPath(), forwardedProto: String(call.metadata.get('x-forwarded-proto')[0] ?? '') });
  };
  server.addService(ECHO, {
    say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      logged(call);
      const name = call.request.toString();
      const trailer = new grpc.Metadata();
      trailer.set('x-echo-trailer', `for ${name}`);
      if (name === 'nobody') return callback({ code: grpc.status.NOT_FOUND, details: 'nobody to greet', metadata: trailer });
      callback(null, Buffer.from(`hello ${name}`), trailer);
    },
    count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      logged(call);
      const n = Number(call.request.toString());
      for (let i = 1; i <= n; i++) call.write(Buffer.from(`#${i}`));
      const trailer = new grpc.Metadata();
      trailer.set('x-counted', String(n));
      call.end(trailer);
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, log, server };
}

/** A GET over HTTP/2 with prior knowledge on `session`: status, body, and the response headers. */
async function h2get(session: ClientHttp2Session, host: string, path: string): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  const stream = session.request({ ':method': 'GET', ':path': path, ':authority': host });
  stream.end();
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  let body = '';
  for await (const chunk of stream) body += String(chunk);
  return { status: Number(headers[':status']), body, headers };
}

/**
 * A TCP relay on a free port to `target`: writes `prefix` (a PROXY header) first, then the first
 * `trickle` bytes the client sends one TCP segment each — a slow client — then the rest as it comes.
 */
async function startRelay(target: number, options: { prefix?: Buffer; trickle?: number } = {}): Promise<{ port: number; server: NetServer; trickled: Promise<void> }> {
  let trickled!: () => void;
  const done = new Promise<void>((resolve) => (trickled = resolve));
  const server = createNetServer((client) => {
    const upstream = netConnect({ port: target, host: '127.0.0.1', noDelay: true });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.pipe(client);
    if (options.prefix !== undefined) upstream.write(options.prefix);
    let left = options.trickle ?? 0;
    if (left === 0) {
      trickled();
      client.pipe(upstream);
      return;
    }
    client.pause();
    const queue: Buffer[] = [];
    const pump = async (): Promise<void> => {
      while (left > 0) {
        if (queue.length === 0) {
          client.resume();
          await once(client, 'data');
          client.pause();
        }
        const chunk = queue.shift()!;
        queue.unshift(...(chunk.length > 1 ? [chunk.subarray(1)] : []));
        await new Promise<void>((resolve) => upstream.write(chunk.subarray(0, 1), () => resolve()));
        left--;
        // A segment of its own for each byte: the proxy sees each one in a read of its own.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      for (const rest of queue) upstream.write(rest);
      trickled();
      client.pipe(upstream);
      client.resume();
    };
    client.on('data', (chunk: Buffer) => {
      if (left > 0) queue.push(chunk);
    });
    void pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server, trickled: done };
}

/** Resolves with what a raw socket gets for `bytes`: the whole reply, or `closed` when the server closed it without one. */
function rawReply(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = netConnect({ port, host: '127.0.0.1' }, () => socket.end(bytes, 'latin1'));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => resolve(chunks.length === 0 ? 'closed' : Buffer.concat(chunks).toString('latin1')));
  });
}

describe('HTTP/2 with prior knowledge on the plain HTTP port', { timeout: 60_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let web: TestUpstream;
  let grpcUp: Awaited<ReturnType<typeof startGrpcUpstream>>;
  let port: number;
  let client: InstanceType<ReturnType<typeof grpc.makeGenericClientConstructor>>;
  const sessions: ClientHttp2Session[] = [];
  const relays: NetServer[] = [];

  before(async () => {
    web = await startUpstream('web');
    grpcUp = await startGrpcUpstream();
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('web', [{ port: web.port }]),
      ...serviceWithEndpoints('echo', [{ port: grpcUp.port }], 'default', { 'signalbox.dev/backend-protocol': 'GRPC' }),
      ingress('web', 'web.test', [{ path: '/', service: 'web' }]),
      ingress('echo', 'grpc.test', [{ path: '/', service: 'echo' }]),
    ]);
    proxy = await startProxy(dir, { dataplane: { accessLog: join(dir, 'access.log') } });
    port = Number(new URL(proxy.http).port);
    const Echo = grpc.makeGenericClientConstructor(ECHO, 'Echo');
    // The gRPC channel's authority picks the virtual host, as a client dialling grpc.test:80 would.
    client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.test' });
  });
  after(async () => {
    client?.close();
    for (const s of sessions) s.destroy();
    for (const r of relays) r.close();
    await proxy?.stop();
    await web?.close();
    grpcUp?.server.forceShutdown();
    await removeDir(dir);
  });
  const open = (url: string): ClientHttp2Session => {
    const session = h2connect(url);
    session.on('error', () => {});
    sessions.push(session);
    return session;
  };

  it('serves a unary gRPC call from a client with insecure credentials: message, status and trailers intact', async () => {
    const reply = await new Promise<{ message: Buffer; status: grpc.StatusObject }>((resolve, reject) => {
      let message: Buffer | undefined;
      const call = client.makeUnaryRequest('/test.Echo/Say', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('world'), (err, value) => {
        if (err) reject(err);
        message = value;
      });
      call.on('status', (status: grpc.StatusObject) => setImmediate(() => resolve({ message: message!, status })));
    });
    assert.equal(reply.message.toString(), 'hello world');
    assert.equal(reply.status.code, grpc.status.OK);
    assert.deepEqual(reply.status.metadata.get('x-echo-trailer'), ['for world']);
    assert.deepEqual(grpcUp.log.at(-1), { path: '/test.Echo/Say', forwardedProto: 'http' }, 'the upstream served the call, told it came over plain HTTP');
  });

  it('passes a gRPC error status and its trailers through', async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      client.makeUnaryRequest('/test.Echo/Say', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('nobody'), (e) => resolve(e!));
    });
    assert.equal(err.code, grpc.status.NOT_FOUND, err.details);
    assert.equal(err.details, 'nobody to greet');
    assert.deepEqual(err.metadata.get('x-echo-trailer'), ['for nobody']);
  });

  it('serves a server-streaming gRPC call: every message, then the status', async () => {
    const call = client.makeServerStreamRequest('/test.Echo/Count', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('5'));
    const messages: string[] = [];
    call.on('data', (m: Buffer) => messages.push(m.toString()));
    const [status] = (await once(call, 'status')) as [grpc.StatusObject];
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(messages, ['#1', '#2', '#3', '#4', '#5']);
    assert.deepEqual(status.metadata.get('x-counted'), ['5']);
    assert.equal(grpcUp.log.at(-1)?.path, '/test.Echo/Count');
  });

  it('proxies HTTP/2 with prior knowledge to an HTTP/1.1 upstream, X-Forwarded-Proto http', async () => {
    const session = open(proxy.http);
    const res = await h2get(session, 'web.test', '/over-h2c');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'web GET /over-h2c');
    assert.equal(web.seen.at(-1)?.headers['x-forwarded-proto'], 'http');
    // Several requests share the one connection.
    const more = await Promise.all([1, 2, 3].map((n) => h2get(session, 'web.test', `/many-${n}`)));
    assert.deepEqual(more.map((r) => r.status), [200, 200, 200]);
  });

  it('applies the header limits of HTTP/2 over TLS: more fields than --max-header-count is a 431', async () => {
    const session = open(proxy.http);
    // 97 fields and the 4 pseudo-headers: past the 100 allowed, within what nghttp2 lets through
    // (past that the stream is reset before any request exists, as over TLS too).
    const many = Object.fromEntries(Array.from({ length: 97 }, (_, i) => [`x-field-${i}`, 'v']));
    const stream = session.request({ ':method': 'GET', ':path': '/too-many-fields', ':authority': 'web.test', ...many });
    stream.end();
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    stream.resume();
    assert.equal(headers[':status'], 431);
    assert.equal(headers['x-signalbox-error'], 'headers-too-large');
    assert.ok(web.seen.every((r) => r.url !== '/too-many-fields'), 'it never reached the upstream');
  });

  it('keeps serving HTTP/1.1 on the same port, whatever the first bytes look like', async () => {
    const res = await request(`${proxy.http}/plain`, { headers: { host: 'web.test' } });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'web GET /plain');
    // Starts like the preface, but is an HTTP/1.1 request line: the HTTP/1.1 parser's 400.
    const pri = await rawRequest(port, 'PRI * HTTP/1.1\r\nHost: web.test\r\n\r\n');
    assert.equal(pri.status, 400);
    // The preface up to its last line, then something else: still HTTP/1.1, still 400.
    const almost = await rawRequest(port, 'PRI * HTTP/2.0\r\n\r\nSM\r\nX\r\n');
    assert.equal(almost.status, 400);
    assert.equal(almost.headers['x-signalbox-error'], 'bad-request');
    // A request whose method shares no byte with PRI, pipelined: both answered.
    const two = await rawRequest(port, 'GET /a HTTP/1.1\r\nHost: web.test\r\n\r\nGET /b HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n');
    assert.equal(two.status, 200);
    assert.match(two.raw, /web GET \/a[\s\S]*web GET \/b/);
  });

  it('waits for a preface sent byte by byte', async () => {
    const relay = await startRelay(port, { trickle: 30 });
    relays.push(relay.server);
    const session = open(`http://127.0.0.1:${relay.port}`);
    const res = await h2get(session, 'web.test', '/slowly');
    await relay.trickled;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'web GET /slowly');
  });

  it('refuses an upgrade to h2c as before: the request is served as HTTP/1.1', async () => {
    // A second request behind it, with Connection: close, so that the reply ends with the connection.
    const res = await rawRequest(port, 'GET /up HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\nGET /after HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    assert.doesNotMatch(res.raw, /101 Switching/);
    assert.match(res.raw, /web GET \/up[\s\S]*web GET \/after/);
    assert.equal(web.seen.find((r) => r.url === '/up')?.headers.upgrade, undefined, 'the upstream was not asked to upgrade');
  });

  it('counts an HTTP/2 connection once, and logs its requests as HTTP/2', async () => {
    const before = await metric(proxy, /^signalbox_connections_total\{listener="http"\} (\d+)/m);
    const session = open(proxy.http);
    await Promise.all([1, 2, 3, 4].map((n) => h2get(session, 'web.test', `/counted-${n}`)));
    assert.equal(await metric(proxy, /^signalbox_connections_total\{listener="http"\} (\d+)/m), before + 1);
    session.close();
    await proxy.stop();
    const lines = (await readFile(join(dir, 'access.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; protocol: string; status: number });
    assert.deepEqual(lines.filter((l) => l.path.startsWith('/counted-')).map((l) => [l.protocol, l.status]), [1, 2, 3, 4].map(() => ['2.0', 200]));
    assert.equal(lines.find((l) => l.path === '/plain')?.protocol, '1.1');
  });
});

describe('HTTP/2 with prior knowledge: limits, PROXY protocol, the flag', { timeout: 60_000 }, () => {
  let dir: string;
  let web: TestUpstream;
  let up: HoldingUpstream;
  let held: TestUpstream;
  let proxy: TestProxy | null = null;
  const conns: RawH2[] = [];
  const relays: NetServer[] = [];

  before(async () => {
    web = await startUpstream('web');
    up = holdingUpstream();
    held = await startUpstream('held', up.handler);
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('web', [{ port: web.port }]),
      ...serviceWithEndpoints('held', [{ port: held.port }]),
      ingress('web', 'web.test', [{ path: '/', service: 'web' }]),
      ingress('held', 'app.test', [{ path: '/', service: 'held' }]),
    ]);
  });
  afterEach(async () => {
    for (const c of conns.splice(0)) c.destroy();
    for (const r of relays.splice(0)) r.close();
    await proxy?.stop();
    proxy = null;
  });
  after(async () => {
    for (const r of up.log) r.answer();
    await web.close();
    await held.close();
    await removeDir(dir);
  });
  const start = async (options: TestProxyOptions = {}): Promise<number> => {
    proxy = await startProxy(dir, options);
    return Number(new URL(proxy.http).port);
  };
  const open = async (port: number, options: Parameters<typeof RawH2.open>[1] = {}): Promise<RawH2> => {
    const c = await RawH2.open(port, { cleartext: true, ...options });
    conns.push(c);
    await c.until(() => c.count(FRAME.SETTINGS) >= 1, 5_000, 'server SETTINGS');
    return c;
  };
  const get = (id: number, path: string): Buffer => headersFrame(id, requestBlock('app.test', path));

  it('bounds concurrent streams as over TLS: refused before the limit is known, GOAWAY after', async () => {
    const port = await start({ http2: { maxConcurrentStreams: 4 } });
    const early = await open(port, { ackSettings: false });
    assert.equal(early.serverSettings().get(SETTING.MAX_CONCURRENT_STREAMS), 4);
    early.write(...[1, 3, 5, 7, 9, 11].map((id) => get(id, `/early-${id}`)));
    await early.until(() => early.resetCode(9) !== null && early.resetCode(11) !== null);
    assert.equal(early.resetCode(9), CODE.REFUSED_STREAM);
    assert.equal(early.resetCode(11), CODE.REFUSED_STREAM);
    await up.arrival(4);
    const late = await open(port);
    await late.until(() => late.frames.some((f) => f.type === FRAME.SETTINGS && (f.flags & 1) === 1), 5_000, 'SETTINGS ACK');
    late.write(...[1, 3, 5, 7, 9].map((id) => get(id, `/late-${id}`)));
    const goaway = await late.goawayOrClose();
    assert.equal(goaway?.code, CODE.PROTOCOL_ERROR);
    assert.equal(await metric(proxy!, /signalbox_http2_abuse_total\{kind="too-many-streams"\} (\d+)/), 1);
    assert.ok(up.log.filter((r) => r.url.startsWith('/late')).length <= 4);
    for (const r of up.log) r.answer();
  });

  it('counts its streams with those over TLS against --http2-max-streams-per-worker', async () => {
    const port = await start({ http2: { maxStreamsPerWorker: 2 } });
    const before = up.log.length;
    const tls = await RawH2.open(Number(new URL(proxy!.https).port));
    conns.push(tls);
    await tls.until(() => tls.count(FRAME.SETTINGS) >= 1, 5_000, 'server SETTINGS');
    const plain = await open(port);
    tls.write(get(1, '/over-tls'));
    await up.arrival(before + 1);
    plain.write(get(1, '/over-h2c'));
    await up.arrival(before + 2);
    plain.write(get(3, '/one-too-many'));
    await plain.until(() => plain.resetCode(3) !== null);
    assert.equal(plain.resetCode(3), CODE.REFUSED_STREAM);
    assert.deepEqual(up.log.slice(before).map((r) => r.url), ['/over-tls', '/over-h2c'], 'the refused stream never reached the upstream');
    for (const r of up.log) r.answer();
  });

  it('ends a rapid-reset loop with GOAWAY ENHANCE_YOUR_CALM, as over TLS', async () => {
    const port = await start({ http2: { maxResets: 20 } });
    const c = await open(port);
    const rst = (id: number): Buffer => {
      const b = Buffer.alloc(13);
      b.writeUIntBE(4, 0, 3);
      b[3] = FRAME.RST_STREAM;
      b.writeUInt32BE(id, 5);
      b.writeUInt32BE(CODE.CANCEL, 9);
      return b;
    };
    for (let id = 1; id < 2_000 && c.write(get(id, `/reset-${id}`), rst(id)); id += 2);
    const goaway = await c.goawayOrClose();
    assert.equal(goaway?.code, CODE.ENHANCE_YOUR_CALM);
    assert.equal(await metric(proxy!, /signalbox_http2_abuse_total\{kind="rapid-reset"\} (\d+)/), 1);
    for (const r of up.log) r.answer();
  });

  it('looks for the preface after the PROXY protocol header, and forwards the client it names', async () => {
    const port = await start({ dataplane: { trustedProxies: ['127.0.0.1'], proxyProtocol: true } });
    const relay = await startRelay(port, { prefix: Buffer.from('PROXY TCP4 203.0.113.9 10.0.0.1 4711 80\r\n', 'latin1') });
    relays.push(relay.server);
    const session = h2connect(`http://127.0.0.1:${relay.port}`);
    session.on('error', () => {});
    try {
      const res = await h2get(session, 'web.test', '/behind-a-balancer');
      assert.equal(res.status, 200);
      assert.equal(web.seen.at(-1)?.headers['x-forwarded-for'], '203.0.113.9');
    } finally {
      session.destroy();
    }
  });

  it('answers a preface that stops half-way 408 after the request-header timeout, as HTTP/1.1 does', async () => {
    const port = await start({ timeouts: { requestHeadersMs: 300 } });
    const socket = netConnect({ port, host: '127.0.0.1' });
    socket.write(PREFACE.slice(0, 10));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'close');
    assert.match(Buffer.concat(chunks).toString('latin1'), /^HTTP\/1\.1 408 /);
  });

  it('counts an h2c connection against --max-connections; one past it that sends the preface is closed, as over TLS', async () => {
    const port = await start({ limits: { maxConnections: 1 } });
    const first = await open(port);
    first.write(get(1, '/fast-in'));
    await first.until(() => first.frames.some((f) => f.type === FRAME.HEADERS && f.streamId === 1), 5_000, 'response HEADERS');
    assert.equal(await rawReply(port, PREFACE), 'closed');
    assert.equal(await metric(proxy!, /signalbox_connections_refused_total\{listener="http"\} (\d+)/), 1);
    // An HTTP/1.1 request past the cap still gets its 503, as before.
    const over = await rawRequest(port, 'GET /over HTTP/1.1\r\nHost: web.test\r\n\r\n');
    assert.equal(over.status, 503);
    assert.equal(over.headers['x-signalbox-error'], 'too-many-connections');
  });

  it('with --no-http2-cleartext, the preface gets what HTTP/1.1 gives it: 400', async () => {
    const port = await start({ dataplane: { http2Cleartext: false } });
    const reply = await rawReply(port, `${PREFACE}\x00\x00\x00\x04\x00\x00\x00\x00\x00`);
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.match(reply, /x-signalbox-error: bad-request/i);
    const res = await request(`${proxy!.http}/still-http1`, { headers: { host: 'web.test' } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  });
});

describe('HTTP/2 with prior knowledge on a port the table declares', { timeout: 60_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let up: HoldingUpstream;
  let held: TestUpstream;
  let declared = 0;
  let declare = true;
  let triggers = 0;

  const edit = (t: RoutingTable): RoutingTable => {
    const gw: Listener = { name: 'gw-h', protocol: 'HTTP', port: declared, hostname: null, tls: null, defaultRoute: false, provenance: 'Gateway/default/edge/listener/gw-h' };
    if (!declare) return t;
    const listeners = [...t.listeners, gw].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { ...t, listeners, virtualHosts: t.virtualHosts.map((v) => (v.host === 'app.test' ? { ...v, listeners: ['gw-h'] } : v)) };
  };

  before(async () => {
    up = holdingUpstream();
    held = await startUpstream('held', up.handler);
    declared = await deadPort();
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('held', [{ port: held.port }]), ingress('held', 'app.test', [{ path: '/', service: 'held' }])]);
    proxy = await startProxy(dir, { editTable: edit });
  });
  after(async () => {
    for (const r of up.log) r.answer();
    await proxy.stop();
    await held.close();
    await removeDir(dir);
  });

  it('speaks h2c there, and a drain of the port sends its HTTP/2 clients GOAWAY while their requests finish', async () => {
    const session = h2connect(`http://127.0.0.1:${declared}`);
    session.on('error', () => {});
    const fast = await h2get(session, 'app.test', '/fast-one');
    assert.equal(fast.status, 200);
    assert.equal(fast.body, 'fast /fast-one');
    const slow = h2get(session, 'app.test', '/slow');
    const request = await up.arrival(1);
    const goaway = once(session, 'goaway');
    // The table drops the port: it drains.
    declare = false;
    const next = proxy.nextTable();
    await writeManifests(dir, 'trigger.yaml', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trigger', namespace: 'default' }, data: { n: String(++triggers) } }]);
    await next;
    const [code] = (await goaway) as [number];
    assert.equal(code, CODE.NO_ERROR);
    request.answer();
    const res = await slow;
    assert.equal(res.status, 200, 'the request in flight finished');
    assert.match(res.body, /\/slow/);
    await once(session, 'close');
  });

  it('on shutdown, tells an h2c client on the own port GOAWAY and lets its request finish', async () => {
    const session = h2connect(proxy.http);
    session.on('error', () => {});
    const slow = h2get(session, 'app.test', '/slow-at-shutdown');
    const arrived = await up.arrival(up.log.length + 1);
    const goaway = once(session, 'goaway');
    const stopped = proxy.stop();
    const [code] = (await goaway) as [number];
    assert.equal(code, CODE.NO_ERROR);
    arrived.answer();
    const res = await slow;
    assert.equal(res.status, 200);
    assert.match(res.body, /\/slow-at-shutdown/);
    await stopped;
  });
});
