/**
 * signalbox's own answers to gRPC calls on routes with response filters: the answer stays a gRPC
 * one (HTTP 200, `grpc-status` in a Trailers-Only response) whatever filters the route has, so that
 * a gRPC client sees the status it can act on (UNAVAILABLE, retried by gRPC clients) instead of a
 * plain HTTP error, which grpc-js reads as a status of its own guessing (UNAVAILABLE for a 504),
 * without the proxy's message. The filters still run: a header a ResponseHeaderModifier adds
 * reaches the client with the status; an error page (ingress-nginx's custom-http-errors) does not
 * replace it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import { echoClient, startEchoServer, unary, type EchoClient, type EchoServer } from '../helpers/grpc-echo.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';
import type { Filter, RoutingTable } from '../../src/model/table.ts';

const NO_ENDPOINT_HOST = 'nobody.grpc.test';
const REFUSED_HOST = 'refused.grpc.test';
const SLOW_HOST = 'slow.grpc.test';
const GRPC = { 'signalbox.dev/backend-protocol': 'GRPC', 'signalbox.dev/pause-max-wait': '0' };
const ADD_HEADER: Filter = { type: 'ResponseHeaderModifier', set: [], add: [{ name: 'x-route', value: 'filtered' }], remove: [] };

/**
 * Gives every route a ResponseHeaderModifier (no front end writes it on an Ingress), and the slow
 * host's route a time limit of 300 ms.
 */
function withHeaderFilter(table: RoutingTable): RoutingTable {
  return {
    ...table,
    virtualHosts: table.virtualHosts.map((v) => ({
      ...v,
      routes: v.routes.map((r) => ({ ...r, filters: [...r.filters, ADD_HEADER], ...(v.host === SLOW_HOST ? { timeouts: { requestMs: 300 } } : {}) })),
    })),
  };
}

describe('gRPC errors of the proxy on routes with response filters', { timeout: 30_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let slow: EchoServer;
  const clients: EchoClient[] = [];

  const client = (authority: string): EchoClient => {
    const c = echoClient(`127.0.0.1:${new URL(proxy.http).port}`, grpc.credentials.createInsecure(), authority);
    clients.push(c);
    return c;
  };

  before(async () => {
    slow = await startEchoServer('slow');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('nobody', [], 'default', GRPC),
      ...serviceWithEndpoints('refused', [{ port: await deadPort() }], 'default', GRPC),
      ingress('nobody', NO_ENDPOINT_HOST, [{ path: '/', service: 'nobody' }]),
      ...serviceWithEndpoints('slow', [{ port: slow.port }], 'default', GRPC),
      ingress('refused', REFUSED_HOST, [{ path: '/', service: 'refused' }]),
      ingress('slow', SLOW_HOST, [{ path: '/', service: 'slow' }]),
    ]);
    proxy = await startProxy(dir, { editTable: withHeaderFilter });
  });
  after(async () => {
    for (const c of clients) c.close();
    await proxy?.stop();
    slow?.close();
    await removeDir(dir);
  });

  it('answers UNAVAILABLE for a Service without endpoints, with the header the route adds', async () => {
    const { status } = await unary(client(NO_ENDPOINT_HOST), 'Say', { text: 'anyone?' });
    assert.equal(status.code, grpc.status.UNAVAILABLE, `${grpc.status[status.code]}: ${status.details}`);
    assert.match(status.details, /no ready endpoint/);
    assert.equal(status.metadata.get('x-signalbox-error')[0], 'no-endpoint');
    assert.equal(status.metadata.get('x-route')[0], 'filtered', 'the response filter ran on the answer');
  });

  it('answers UNAVAILABLE when the only endpoint refuses the connection, with the header the route adds', async () => {
    const { status } = await unary(client(REFUSED_HOST), 'Say', { text: 'anyone?' });
    assert.equal(status.code, grpc.status.UNAVAILABLE, `${grpc.status[status.code]}: ${status.details}`);
    assert.equal(status.metadata.get('x-signalbox-error')[0], 'upstream-refused');
    assert.equal(status.metadata.get('x-route')[0], 'filtered', 'the response filter ran on the answer');
  });

  it('answers DEADLINE_EXCEEDED when the route\'s time limit ends the call, with the header the route adds', async () => {
    const { status } = await unary(client(SLOW_HOST), 'Say', { text: 'late', delayMs: 5_000 });
    // As a plain 504, grpc-js would say UNAVAILABLE, and retry a call that already took too long.
    assert.equal(status.code, grpc.status.DEADLINE_EXCEEDED, `${grpc.status[status.code]}: ${status.details}`);
    assert.equal(status.metadata.get('x-signalbox-error')[0], 'upstream-timeout');
    assert.equal(status.metadata.get('x-route')[0], 'filtered', 'the response filter ran on the answer');
    assert.equal(slow.log.at(-1)?.text, 'late', 'the call reached the upstream');
  });
});

describe('gRPC errors of the proxy under ingress-nginx\'s custom-http-errors', { timeout: 30_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let pages: TestUpstream;
  let client: EchoClient;

  before(async () => {
    pages = await startUpstream('pages');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ...serviceWithEndpoints('pages', [{ port: pages.port }]),
      ...serviceWithEndpoints('refused', [{ port: await deadPort() }]),
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: {
          name: 'grpc',
          namespace: 'default',
          annotations: {
            'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC',
            'nginx.ingress.kubernetes.io/default-backend': 'pages',
            'nginx.ingress.kubernetes.io/custom-http-errors': '502,503',
          },
        },
        spec: { ingressClassName: 'nginx', rules: [{ host: REFUSED_HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'refused', port: { number: 80 } } } }] } }] },
      },
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    client = echoClient(`127.0.0.1:${new URL(proxy.http).port}`, grpc.credentials.createInsecure(), REFUSED_HOST);
  });
  after(async () => {
    client?.close();
    await proxy?.stop();
    await pages?.close();
    await removeDir(dir);
  });

  it('answers UNAVAILABLE, not the error page, when the endpoint refuses the call', async () => {
    const { status } = await unary(client, 'Say', { text: 'anyone?' });
    assert.equal(status.code, grpc.status.UNAVAILABLE, `${grpc.status[status.code]}: ${status.details}`);
    assert.equal(status.metadata.get('x-signalbox-error')[0], 'upstream-refused');
    assert.equal(pages.seen.length, 0, 'no error page was asked for');
  });
});
