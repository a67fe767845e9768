import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect as h2connect, createSecureServer, createServer as createH2cServer, type ClientHttp2Session, type Http2SecureServer, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { makeTestPki } from '../helpers/test-ca.ts';

const HOST = 'protocols.example.com';
const UPSTREAM_NAME = 'upstream.test';

function caSecret(name: string, caPem: string): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, stringData: { 'ca.crt': caPem } };
}

async function listen<S extends HttpsServer | Http2SecureServer | Http2Server>(server: S): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A unary call in gRPC's framing: headers, one message, then trailers; collects all three. */
async function grpcCall(session: ClientHttp2Session, path: string, extra: Record<string, string> = {}): Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders; body: Buffer }> {
  const stream = session.request({ ':method': 'POST', ':path': path, ':authority': HOST, 'content-type': 'application/grpc', te: 'trailers', ...extra });
  const message = Buffer.from('hello');
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  stream.end(frame);
  let trailers: IncomingHttpHeaders = {};
  stream.on('trailers', (t) => (trailers = t));
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { headers, trailers, body: Buffer.concat(chunks) };
}

describe('protocols to backends', () => {
  let dir: string;
  let proxy: TestProxy;
  let client: ClientHttp2Session;
  const pki = makeTestPki(UPSTREAM_NAME);
  const otherPki = makeTestPki('other.test');
  const seen: { service: string; version: string; scheme: string | undefined }[] = [];
  const slowCalls: string[] = [];
  const https = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    seen.push({ service: 'https', version: req.httpVersion, scheme: undefined });
    res.end(`https ${req.httpVersion}`);
  });
  const h2 = createSecureServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    seen.push({ service: 'h2', version: req.httpVersion, scheme: req.headers[':scheme'] as string });
    res.end(`h2 ${req.httpVersion}`);
  });
  const h2c = createH2cServer((req, res) => {
    if (req.headers['content-type'] === 'application/grpc' && req.url.endsWith('/Slow')) {
      slowCalls.push(req.headers['grpc-timeout'] as string);
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/grpc' }).end(Buffer.alloc(5)), 3_000).unref();
      return;
    }
    if (req.headers['content-type'] === 'application/grpc' && req.url.endsWith('/Missing')) {
      // Trailers-Only: an error before any message, the status in the one HEADERS frame.
      req.resume();
      req.stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'missing' }, { endStream: true });
      return;
    }
    if (req.headers['content-type'] === 'application/grpc') {
      // A unary gRPC answer: one empty message, then the status in trailers.
      res.writeHead(200, { 'content-type': 'application/grpc' });
      res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'fine' });
      res.end(Buffer.alloc(5));
      return;
    }
    res.end(`h2c ${req.httpVersion} ${req.headers[':scheme'] as string}`);
  });

  before(async () => {
    const [httpsPort, h2Port, h2cPort] = [await listen(https), await listen(h2), await listen(h2c)];
    const tls = (extra: Record<string, string>): Record<string, string> => ({ 'signalbox.dev/backend-protocol': 'HTTPS', 'signalbox.dev/backend-tls-server-name': UPSTREAM_NAME, 'signalbox.dev/backend-tls-ca': 'secret/test-ca', ...extra });
    dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', [
      ingressClass(),
      caSecret('test-ca', pki.caPem),
      caSecret('other-ca', otherPki.caPem),
      ...serviceWithEndpoints('tls-ok', [{ port: httpsPort }], 'default', tls({})),
      ...serviceWithEndpoints('tls-wrong-ca', [{ port: httpsPort }], 'default', tls({ 'signalbox.dev/backend-tls-ca': 'other-ca' })),
      ...serviceWithEndpoints('tls-wrong-name', [{ port: httpsPort }], 'default', tls({ 'signalbox.dev/backend-tls-server-name': 'other.test' })),
      ...serviceWithEndpoints('tls-any', [{ port: httpsPort }], 'default', { 'signalbox.dev/backend-protocol': 'https', 'signalbox.dev/backend-tls-verify': 'false' }),
      ...serviceWithEndpoints('h2', [{ port: h2Port }], 'default', tls({ 'signalbox.dev/backend-protocol': 'h2' })),
      ...serviceWithEndpoints('h2c', [{ port: h2cPort }], 'default', { 'signalbox.dev/backend-protocol': 'h2c' }),
      ...serviceWithEndpoints('grpc', [{ port: h2cPort }], 'default', { 'signalbox.dev/backend-protocol': 'GRPC' }),
      ...serviceWithEndpoints('grpc-empty', [], 'default', { 'signalbox.dev/backend-protocol': 'GRPC', 'signalbox.dev/pause-max-wait': '0' }),
      ingress('protocols', HOST, ['tls-ok', 'tls-wrong-ca', 'tls-wrong-name', 'tls-any', 'h2', 'h2c', 'grpc', 'grpc-empty'].map((s) => ({ path: `/${s}`, service: s }))),
    ]);
    proxy = await startProxy(dir);
    client = h2connect(proxy.https, { rejectUnauthorized: false });
  });

  after(async () => {
    client?.close();
    await proxy?.stop();
    for (const s of [https, h2, h2c]) s.close();
    await removeDir(dir);
  });

  async function get(path: string): Promise<{ status: number; error: unknown; body: string }> {
    const res = await request(`${proxy.http}${path}`, { headers: { host: HOST } });
    return { status: res.statusCode, error: res.headers['x-signalbox-error'], body: await res.body.text() };
  }

  it('verifies an HTTPS upstream against the CA and name the Service names', async () => {
    assert.deepEqual(await get('/tls-ok'), { status: 200, error: undefined, body: 'https 1.1' });
  });

  it('refuses an upstream certificate from another CA or for another name with 502 upstream-tls, counted', async () => {
    assert.deepEqual(await get('/tls-wrong-ca'), { status: 502, error: 'upstream-tls', body: '502 upstream TLS certificate not trusted or handshake failed\n' });
    assert.equal((await get('/tls-wrong-name')).error, 'upstream-tls');
    assert.ok((await metric(proxy, /^signalbox_proxy_errors_total\{reason="upstream-tls"\} (\d+)/m)) >= 2);
  });

  it('accepts any certificate when verification is off', async () => {
    assert.deepEqual(await get('/tls-any'), { status: 200, error: undefined, body: 'https 1.1' });
  });

  it('speaks HTTP/2 over TLS to an h2 upstream', async () => {
    assert.equal((await get('/h2')).body, 'h2 2.0');
    assert.deepEqual(seen.filter((s) => s.service === 'h2').at(-1), { service: 'h2', version: '2.0', scheme: 'https' });
  });

  it('speaks cleartext HTTP/2 with prior knowledge to an h2c upstream', async () => {
    assert.equal((await get('/h2c')).body, 'h2c 2.0 http');
  });

  it('passes a gRPC unary call and its trailers through from an HTTP/2 client', async () => {
    const { headers, trailers, body } = await grpcCall(client, '/grpc/echo.Echo/Say');
    assert.equal(headers[':status'], 200);
    assert.equal(headers['content-type'], 'application/grpc');
    assert.equal(trailers['grpc-status'], '0');
    assert.equal(trailers['grpc-message'], 'fine');
    assert.equal(body.length, 5);
  });

  it('passes a Trailers-Only gRPC answer on as one HEADERS frame that ends the stream, where gRPC clients read its status', async () => {
    const stream = client.request({ ':method': 'POST', ':path': '/grpc/echo.Echo/Missing', ':authority': HOST, 'content-type': 'application/grpc', te: 'trailers' });
    stream.end(Buffer.alloc(5));
    const [headers, flags] = (await once(stream, 'response')) as [IncomingHttpHeaders, number];
    stream.resume();
    assert.equal(headers['grpc-status'], '5');
    assert.equal(headers['grpc-message'], 'missing');
    assert.equal(flags & 0x1, 0x1, 'END_STREAM on the HEADERS frame');
  });

  it('honours grpc-timeout: a call past its deadline is answered DEADLINE_EXCEEDED, not left to run', async () => {
    const { headers } = await grpcCall(client, '/grpc/echo.Echo/Slow', { 'grpc-timeout': '200m' });
    assert.equal(headers[':status'], 200);
    assert.equal(headers['grpc-status'], '4');
    assert.equal(headers['x-signalbox-error'], 'upstream-timeout');
    assert.deepEqual(slowCalls, ['200m'], 'the upstream got the call with its deadline');
  });

  it('answers a gRPC call it cannot forward as gRPC: 200, grpc-status 14, no body', async () => {
    const { headers, body } = await grpcCall(client, '/grpc-empty/echo.Echo/Say');
    assert.equal(headers[':status'], 200);
    assert.equal(headers['content-type'], 'application/grpc');
    assert.equal(headers['grpc-status'], '14');
    assert.match(decodeURIComponent(String(headers['grpc-message'])), /no ready endpoint/, 'grpc-message is percent-encoded, as the gRPC spec says');
    assert.equal(body.length, 0);
  });
});
