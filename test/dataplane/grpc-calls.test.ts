/**
 * gRPC through the proxy with a real grpc-js client and server (testdata/grpc/echo.proto): the four
 * kinds of call over h2c (client → proxy → upstream in cleartext) and over TLS (both hops), custom
 * metadata and trailers both ways, an error status passing through, a deadline the proxy enforces
 * (DEADLINE_EXCEEDED from signalbox, the upstream call cancelled), and UNAVAILABLE for a Service
 * without endpoints.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import { echoClient, startEchoServer, unary, type EchoClient, type EchoServer, type Note } from '../helpers/grpc-echo.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki } from '../helpers/test-ca.ts';

const H2C_HOST = 'grpc.test';
const TLS_HOST = 'grpcs.test';
const UPSTREAM_NAME = 'echo.upstream.test';

function caSecret(name: string, caPem: string): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, stringData: { 'ca.crt': caPem } };
}

/** Collects a stream's messages and resolves with them and the call's status. */
async function drain(call: grpc.ClientReadableStream<Note> | grpc.ClientDuplexStream<Note, Note>): Promise<{ notes: Note[]; status: grpc.StatusObject }> {
  const notes: Note[] = [];
  call.on('data', (note: Note) => notes.push(note));
  call.on('error', () => {}); // the status says it
  const [status] = (await once(call, 'status')) as [grpc.StatusObject];
  return { notes, status };
}

describe('gRPC calls through the proxy (grpc-js client and server)', { timeout: 60_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let plainUp: EchoServer;
  let tlsUp: EchoServer;
  const clients: EchoClient[] = [];
  const variants: { name: string; client: () => EchoClient; upstream: () => EchoServer }[] = [];

  before(async () => {
    const frontPki = makeTestPki(TLS_HOST);
    const backPki = makeTestPki(UPSTREAM_NAME);
    plainUp = await startEchoServer('plain');
    tlsUp = await startEchoServer('tls', {}, backPki);
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      caSecret('echo-ca', backPki.caPem),
      tlsSecret('grpcs-cert', frontPki.certPem, frontPki.keyPem),
      ...serviceWithEndpoints('echo', [{ port: plainUp.port }], 'default', { 'signalbox.dev/backend-protocol': 'GRPC' }),
      ...serviceWithEndpoints('echo-tls', [{ port: tlsUp.port }], 'default', {
        'signalbox.dev/backend-protocol': 'GRPCS',
        'signalbox.dev/backend-tls-ca': 'secret/echo-ca',
        'signalbox.dev/backend-tls-server-name': UPSTREAM_NAME,
      }),
      ...serviceWithEndpoints('nobody', [], 'default', { 'signalbox.dev/backend-protocol': 'GRPC', 'signalbox.dev/pause-max-wait': '0' }),
      ingress('echo', H2C_HOST, [{ path: '/', service: 'echo' }]),
      ingress('echo-tls', TLS_HOST, [{ path: '/', service: 'echo-tls' }], { tls: [{ hosts: [TLS_HOST], secretName: 'grpcs-cert' }] }),
      ingress('nobody', 'nobody.test', [{ path: '/', service: 'nobody' }]),
    ]);
    proxy = await startProxy(dir);
    const httpPort = new URL(proxy.http).port;
    const httpsPort = new URL(proxy.https).port;
    const h2c = echoClient(`127.0.0.1:${httpPort}`, grpc.credentials.createInsecure(), H2C_HOST);
    const tls = echoClient(`127.0.0.1:${httpsPort}`, grpc.credentials.createSsl(Buffer.from(frontPki.caPem)), TLS_HOST, { 'grpc.ssl_target_name_override': TLS_HOST });
    clients.push(h2c, tls);
    variants.push({ name: 'h2c', client: () => h2c, upstream: () => plainUp }, { name: 'TLS', client: () => tls, upstream: () => tlsUp });
  });
  after(async () => {
    for (const c of clients) c.close();
    await proxy?.stop();
    plainUp?.close();
    tlsUp?.close();
    await removeDir(dir);
  });

  for (const v of [{ name: 'h2c' }, { name: 'TLS' }]) {
    const variant = () => variants.find((x) => x.name === v.name)!;

    describe(`over ${v.name}`, () => {
      it('serves a unary call: the reply, custom metadata both ways, headers and trailers', async () => {
        const md = new grpc.Metadata();
        md.set('x-echo', `hello-${v.name}`);
        const { reply, headers, status } = await unary(variant().client(), 'Say', { text: 'hi' }, md);
        assert.equal(status.code, grpc.status.OK, status.details);
        assert.deepEqual({ text: reply?.text, servedBy: reply?.servedBy }, { text: 'hi', servedBy: variant().upstream().name });
        assert.equal(headers?.get('x-echo-header')[0], `hello-${v.name}`, 'response headers reach the client');
        assert.equal(status.metadata.get('x-echo-trailer')[0], `hello-${v.name}`, 'trailers reach the client');
        const seen = variant().upstream().log.at(-1)!;
        assert.equal(seen.method, 'Say');
        assert.equal(seen.metadata['x-echo'], `hello-${v.name}`, 'the request metadata reached the upstream');
      });

      it('serves a server-streaming call: every message, then the status and its trailers', async () => {
        const md = new grpc.Metadata();
        md.set('x-echo', 'count');
        const { notes, status } = await drain(variant().client().Count({ text: 'n', times: 5 }, md));
        assert.equal(status.code, grpc.status.OK, status.details);
        assert.deepEqual(notes.map((n) => n.text), ['n 1', 'n 2', 'n 3', 'n 4', 'n 5']);
        assert.equal(status.metadata.get('x-echo-trailer')[0], 'count');
      });

      it('serves a client-streaming call: every message the client sent reached the upstream', async () => {
        const { reply, status } = await new Promise<{ reply: Note | null; status: grpc.StatusObject }>((resolve) => {
          let reply: Note | null = null;
          const call = variant().client().Join((_err: unknown, value?: Note) => (reply = value ?? null)) as grpc.ClientWritableStream<Note>;
          call.on('status', (status: grpc.StatusObject) => setImmediate(() => resolve({ reply, status })));
          for (const text of ['one', 'two', 'three']) call.write({ text });
          call.end();
        });
        assert.equal(status.code, grpc.status.OK, status.details);
        assert.equal(reply?.text, 'one two three');
        assert.equal(variant().upstream().log.at(-1)?.text, 'one two three', 'the upstream read the three messages');
      });

      it('serves a bidirectional call: each message answered while the client still sends', async () => {
        const call = variant().client().Chat() as grpc.ClientDuplexStream<Note, Note>;
        const result = drain(call);
        // The second message is written only once the first one's echo came back: the two
        // directions are interleaved through the proxy, neither buffered to its end.
        call.write({ text: 'ping' });
        const [first] = (await once(call, 'data')) as [Note];
        assert.equal(first.text, 'echo ping');
        call.write({ text: 'pong' });
        call.end();
        const { notes, status } = await result;
        assert.equal(status.code, grpc.status.OK, status.details);
        assert.deepEqual(notes.map((n) => n.text), ['echo ping', 'echo pong']);
      });

      it("passes the upstream's error status, message and trailers through", async () => {
        const md = new grpc.Metadata();
        md.set('x-echo', 'failing');
        const { status } = await unary(variant().client(), 'Say', { text: 'x', failCode: grpc.status.NOT_FOUND }, md);
        assert.equal(status.code, grpc.status.NOT_FOUND);
        assert.equal(status.details, `${variant().upstream().name} says NOT_FOUND`);
        assert.equal(status.metadata.get('x-echo-trailer')[0], 'failing');
      });

      it("carries the client's deadline to the upstream (grpc-timeout)", async () => {
        const { status } = await unary(variant().client(), 'Say', { text: 'timed' }, new grpc.Metadata(), { deadline: Date.now() + 10_000 });
        assert.equal(status.code, grpc.status.OK, status.details);
        assert.equal(variant().upstream().log.at(-1)?.deadline, true);
      });
    });
  }

  it('answers DEADLINE_EXCEEDED itself when the upstream is slower than grpc-timeout, and cancels the upstream call', async () => {
    // A raw HTTP/2 client with no deadline of its own: the answer can only be the proxy's.
    const session = h2connect(proxy.http);
    session.on('error', () => {});
    try {
      const message = echoMessage({ text: 'slow', delayMs: 5_000 });
      const cancelled = plainUp.nextCancel();
      const started = performance.now();
      const stream = session.request({ ':method': 'POST', ':path': '/signalbox.test.Echo/Say', ':authority': H2C_HOST, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '300m' });
      stream.end(message);
      const [headers] = (await once(stream, 'response')) as [Record<string, string>];
      const elapsed = performance.now() - started;
      stream.resume();
      assert.equal(headers[':status'], 200);
      assert.equal(headers['grpc-status'], String(grpc.status.DEADLINE_EXCEEDED), 'a trailers-only DEADLINE_EXCEEDED');
      assert.equal(headers['x-signalbox-error'], 'upstream-timeout');
      assert.ok(elapsed >= 250 && elapsed < 4_000, `answered at the deadline, not the upstream's 5s (${Math.round(elapsed)}ms)`);
      const call = await cancelled;
      assert.equal(call.text, 'slow', 'the slow call is cancelled upstream, not left running');
    } finally {
      session.destroy();
    }
  });

  it('answers UNAVAILABLE for a Service without endpoints', async () => {
    const client = echoClient(`127.0.0.1:${new URL(proxy.http).port}`, grpc.credentials.createInsecure(), 'nobody.test');
    clients.push(client);
    const { status } = await unary(client, 'Say', { text: 'anyone?' });
    assert.equal(status.code, grpc.status.UNAVAILABLE);
    assert.match(status.details, /no ready endpoint/);
  });
});

/** One length-prefixed gRPC message holding `note` as protobuf (text = 1, delay_ms = 3). */
function echoMessage(note: { text: string; delayMs: number }): Buffer {
  const text = Buffer.from(note.text);
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const body = Buffer.from([0x0a, ...varint(text.length), ...text, 0x18, ...varint(note.delayMs)]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}
