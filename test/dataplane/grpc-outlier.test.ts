/**
 * Passive outlier detection of gRPC calls, with real grpc-js servers behind the proxy: an endpoint
 * that answers every call UNAVAILABLE (Trailers-Only, HTTP 200) is ejected after the Service's
 * consecutive failures and the other endpoint takes the calls; one that answers NOT_FOUND, a
 * status that blames the caller, stays in rotation; one whose streamed calls end UNAVAILABLE in
 * their trailers, after a message, is ejected too.
 */
import assert from 'node:assert/strict';
import { createServer as createH2cServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import { echoClient, startEchoServer, unary, type EchoClient, type EchoServer } from '../helpers/grpc-echo.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';

const HOST = 'outlier.grpc.test';

/**
 * An h2c gRPC endpoint that answers every call with one (empty) message and then UNAVAILABLE in
 * its trailers: the status comes after the head, which says 200. Logs each call's path.
 */
async function startStreamThenFail(): Promise<{ server: Http2Server; port: number; calls: string[] }> {
  const calls: string[] = [];
  const server = createH2cServer();
  server.on('stream', (stream, headers) => {
    calls.push(String(headers[':path']));
    stream.resume();
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '14', 'grpc-message': 'gone away' }));
    // One length-prefixed message of zero bytes: an empty Note.
    stream.end(Buffer.alloc(5));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, calls };
}

/** A proxy in front of a gRPC Service of `servers`, ejecting after 3 failures in a row. */
async function grpcServiceBehindProxy(servers: readonly { readonly port: number }[]): Promise<{ proxy: TestProxy; client: EchoClient; close: () => Promise<void> }> {
  const dir = await tempManifestDir();
  await writeManifests(dir, 'a.yaml', [
    ingressClass(),
    ...serviceWithEndpoints('echo', servers.map((s) => ({ port: s.port })), 'default', {
      'signalbox.dev/backend-protocol': 'GRPC',
      'signalbox.dev/outlier-consecutive-failures': '3',
      'signalbox.dev/outlier-base-ejection-time': '1m',
      'signalbox.dev/retries': '0',
    }),
    ingress('echo', HOST, [{ path: '/', service: 'echo' }]),
  ]);
  const proxy = await startProxy(dir);
  const client = echoClient(`127.0.0.1:${new URL(proxy.http).port}`, grpc.credentials.createInsecure(), HOST);
  return {
    proxy,
    client,
    close: async () => {
      client.close();
      await proxy.stop();
      await removeDir(dir);
    },
  };
}

/** Makes `n` unary calls one after another; resolves with their status codes. */
async function calls(client: EchoClient, n: number, text: string): Promise<grpc.status[]> {
  const codes: grpc.status[] = [];
  for (let i = 0; i < n; i++) codes.push((await unary(client, 'Say', { text: `${text} ${i}` })).status.code);
  return codes;
}

describe('passive outlier detection of gRPC calls', { timeout: 30_000 }, () => {
  const servers: EchoServer[] = [];
  after(() => {
    for (const s of servers) s.close();
  });
  const server = async (name: string, failWith?: grpc.status): Promise<EchoServer> => {
    const s = await startEchoServer(name, failWith === undefined ? {} : { failWith });
    servers.push(s);
    return s;
  };

  it('ejects an endpoint that answers UNAVAILABLE (Trailers-Only) after the consecutive failures', async () => {
    const sick = await server('sick', grpc.status.UNAVAILABLE);
    const well = await server('well');
    const env = await grpcServiceBehindProxy([sick, well]);
    try {
      const first = await calls(env.client, 6, 'before');
      assert.equal(first.filter((c) => c === grpc.status.UNAVAILABLE).length, 3, `round robin until the third failure: ${first.join(',')}`);
      assert.equal(sick.log.length, 3);
      const during = await calls(env.client, 10, 'during');
      assert.deepEqual(during, Array(10).fill(grpc.status.OK), 'every call after the ejection is served');
      assert.equal(sick.log.length, 3, 'no call reached the ejected endpoint');
      assert.equal(well.log.filter((c) => c.text.startsWith('during')).length, 10, 'the other endpoint took them all');
      assert.equal(await metric(env.proxy, /signalbox_outlier_ejections_total\{cluster="default\/echo:80"\} (\d+)/), 1);
    } finally {
      await env.close();
    }
  });

  it('keeps an endpoint whose calls end NOT_FOUND: the caller is wrong, not the endpoint', async () => {
    const picky = await server('picky', grpc.status.NOT_FOUND);
    const well = await server('well-2');
    const env = await grpcServiceBehindProxy([picky, well]);
    try {
      const codes = await calls(env.client, 12, 'call');
      assert.equal(codes.filter((c) => c === grpc.status.NOT_FOUND).length, 6, `round robin throughout: ${codes.join(',')}`);
      assert.equal(picky.log.length, 6, 'the endpoint kept its share of the calls');
      assert.equal(await metric(env.proxy, /signalbox_outlier_ejections_total\{cluster="default\/echo:80"\} (\d+)/), 0);
    } finally {
      await env.close();
    }
  });

  it('ejects an endpoint whose calls end UNAVAILABLE in their trailers, after a message', async () => {
    const failing = await startStreamThenFail();
    const well = await server('well-3');
    const env = await grpcServiceBehindProxy([failing, well]);
    try {
      const first = await calls(env.client, 6, 'before');
      assert.equal(first.filter((c) => c === grpc.status.UNAVAILABLE).length, 3, `round robin until the third failure: ${first.join(',')}`);
      assert.equal(failing.calls.length, 3);
      const during = await calls(env.client, 6, 'during');
      assert.deepEqual(during, Array(6).fill(grpc.status.OK), 'every call after the ejection is served');
      assert.equal(failing.calls.length, 3, 'no call reached the ejected endpoint');
      assert.equal(well.log.filter((c) => c.text.startsWith('during')).length, 6);
    } finally {
      await env.close();
      failing.server.close();
    }
  });
});
