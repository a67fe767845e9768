import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';
import { addWebSocketEcho } from '../helpers/websocket-echo.ts';
import { waitForMetric } from '../helpers/metrics.ts';

describe('WebSocket and other upgrades', () => {
  let dir: string;
  let proxy: TestProxy;
  let up: TestUpstream;
  const upgrades: IncomingMessage[] = [];

  before(async () => {
    up = await startUpstream('ws');
    addWebSocketEcho(up.server, upgrades);
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('ws', [{ port: up.port }]),
      ...serviceWithEndpoints('gone', [{ port: 1, ready: false, serving: false }]),
      ingress('ws', null, [{ path: '/ws', service: 'ws' }, { path: '/gone', service: 'gone' }]),
    ]);
    proxy = await startProxy(dir);
  });
  after(async () => {
    await proxy.stop();
    await up.close();
    await removeDir(dir);
  });

  it('tunnels a WebSocket conversation between a real client and the upstream', async () => {
    const ws = new WebSocket(`${proxy.http.replace('http:', 'ws:')}/ws/chat?room=1`);
    const replies: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.onopen = () => {
        ws.send('hello');
        ws.send('world');
      };
      ws.onmessage = (event) => {
        replies.push(String(event.data));
        if (replies.length === 2) ws.close();
      };
      ws.onclose = () => resolve();
      ws.onerror = () => reject(new Error('websocket error'));
    });
    await done;
    assert.deepEqual(replies, ['echo: hello', 'echo: world']);
    const head = upgrades.at(-1)!;
    assert.equal(head.url, '/ws/chat?room=1');
    assert.equal(head.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(head.headers.upgrade, 'websocket');

    // The finished tunnel is accounted like a request: status 101 on its route.
    await waitForMetric(proxy, /signalbox_http_requests_total\{route="Ingress\/default\/ws\/rule\/0\/path\/0",cluster="default\/ws:80",code="101"\} 1/);
  });

  it('ends the tunnel when the client goes away, even if the upstream would stay half open', async () => {
    const lingering = await startUpstream('lingering');
    let upstreamSawEnd = false;
    const sockets: import('node:stream').Duplex[] = [];
    lingering.server.on('upgrade', (_req: IncomingMessage, socket: import('node:stream').Duplex) => {
      sockets.push(socket);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.on('end', () => (upstreamSawEnd = true)); // and never ends its own side
      socket.on('error', () => {});
    });
    await writeManifests(dir, 'b.yaml', [...serviceWithEndpoints('lingering', [{ port: lingering.port }]), ingress('lingering', 'linger.test', [{ path: '/', service: 'lingering' }])]);
    await proxy.nextTable();
    const port = Number(new URL(proxy.http).port);
    const reply = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: linger.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 300);
    assert.equal(reply.status, 101);
    // The tunnel is accounted when it closes on the proxy's side: that is the proof it did.
    await waitForMetric(proxy, /signalbox_http_requests_total\{route="Ingress\/default\/lingering\/rule\/0\/path\/0",cluster="default\/lingering:80",code="101"\} 1/);
    assert.ok(upstreamSawEnd);
    for (const socket of sockets) socket.destroy();
    await lingering.close();
  });

  it('answers an upgrade with no route or no endpoint with the same errors as plain requests', async () => {
    const port = Number(new URL(proxy.http).port);
    const upgrade = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const noRoute = await rawRequest(port, upgrade('/nowhere'));
    assert.equal(noRoute.status, 404);
    assert.equal(noRoute.headers['x-signalbox-error'], 'no-route');
    const noEndpoint = await rawRequest(port, upgrade('/gone'));
    assert.equal(noEndpoint.status, 503);
    assert.equal(noEndpoint.headers['x-signalbox-error'], 'no-endpoint');
  });
});
