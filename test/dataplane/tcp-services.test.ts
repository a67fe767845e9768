/**
 * TCP services from `--tcp-services-configmap`: real echo servers behind a ConfigMap port, large
 * transfers through backpressure, half-close, the idle timeout, a dead endpoint skipped for a live
 * one, ports opened and closed by hot swaps, and an invalid entry reported while the others serve.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { deadPort } from '../helpers/upstreams.ts';
import { metric } from '../helpers/metrics.ts';

function tcpServices(data: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tcp-services', namespace: 'ingress' }, data };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Connects, sends `payload`, half-closes, and resolves with everything received until close. */
async function roundTrip(port: number, payload: Buffer | string): Promise<Buffer> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  await once(socket, 'connect');
  socket.end(payload);
  await once(socket, 'end');
  socket.end();
  return Buffer.concat(chunks);
}

describe('TCP services', () => {
  let dir: string;
  let proxy: TestProxy;
  let echo: Server;
  let counter: Server;
  let echoConnections = 0;
  let echoPort: number;
  let counterPort: number;
  let dead: number;
  let p1: number;
  let p2: number;
  let p3: number;

  before(async () => {
    // Echo: every byte back, and half-close answered with a half-close.
    echo = createServer({ allowHalfOpen: true }, (s) => {
      echoConnections++;
      s.pipe(s);
      s.on('error', () => {});
    });
    // Counter: answers only once the client has finished sending (needs half-close to work).
    counter = createServer({ allowHalfOpen: true }, (s) => {
      let n = 0;
      s.on('data', (d: Buffer) => (n += d.length));
      s.on('end', () => s.end(`got ${n} bytes`));
      s.on('error', () => {});
    });
    echoPort = await listen(echo);
    counterPort = await listen(counter);
    dead = await deadPort();
    [p1, p2, p3] = [await deadPort(), await deadPort(), await deadPort()];
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      // The dead endpoint first: every connection that picks it must go on to the live one.
      ...serviceWithEndpoints('echo', [{ port: dead }, { port: echoPort }]),
      ...serviceWithEndpoints('counter', [{ port: counterPort }]),
      tcpServices({ [String(p1)]: 'default/echo:80', [String(p2)]: 'default/counter:http', '99999': 'default/echo:80', [String(p3)]: 'default/echo' }),
    ]);
    proxy = await startProxy(dir, { compile: { tcpServicesConfigMap: 'ingress/tcp-services' }, timeouts: { streamIdleMs: 300 } });
  });
  after(async () => {
    await proxy.stop();
    echo.close();
    counter.close();
    await removeDir(dir);
  });

  it('relays bytes both ways, skipping an endpoint that refuses', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await roundTrip(p1, `hello ${i}`)).toString(), `hello ${i}`);
    assert.ok(await metric(proxy, /signalbox_stream_connect_failures_total\{cluster="default\/echo:80"\} (\d+)/) >= 1, 'no connect ever went to the dead endpoint');
  });

  it('moves 16 MiB each way intact through backpressure', async () => {
    const payload = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4096) payload.writeUInt32BE(i, i);
    const back = await roundTrip(p1, payload);
    assert.equal(back.length, payload.length);
    assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(payload).digest('hex'));
  });

  it('passes a half-close on: the backend answers after the client finished sending', async () => {
    assert.equal((await roundTrip(p2, Buffer.alloc(100_000, 7))).toString(), 'got 100000 bytes');
  });

  it('closes a connection silent past the idle timeout', async () => {
    const socket: Socket = connect({ port: p1, host: '127.0.0.1' });
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('x');
    await once(socket, 'data');
    await once(socket, 'close');
    assert.ok(await metric(proxy, /signalbox_stream_idle_closes_total\{listener="tcp-\d+"\} (\d+)/) >= 1);
  });

  it('reports invalid entries and serves the valid ones', () => {
    const codes = (proxy.current()?.diagnostics ?? []).map((d) => `${d.code} ${d.path ?? ''}`);
    assert.ok(codes.includes('StreamServiceEntryInvalid ConfigMap/ingress/tcp-services/data/99999'), codes.join('\n'));
    assert.ok(codes.includes(`StreamServiceEntryInvalid ConfigMap/ingress/tcp-services/data/${p3}`), codes.join('\n'));
  });

  it('opens and closes ports on hot swaps', async () => {
    const p4 = await deadPort();
    const next = proxy.nextTable();
    await writeManifests(dir, 'a.yaml', [
      ...serviceWithEndpoints('echo', [{ port: echoPort }]),
      ...serviceWithEndpoints('counter', [{ port: counterPort }]),
      tcpServices({ [String(p4)]: 'default/echo:80', [String(p2)]: 'default/counter:80' }),
    ]);
    await next;
    assert.equal((await roundTrip(p4, 'new port')).toString(), 'new port');
    assert.equal((await roundTrip(p2, 'abc')).toString(), 'got 3 bytes');
    const refused = connect({ port: p1, host: '127.0.0.1' });
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED');
  });
});

describe('TCP services under --max-connections', () => {
  let dir: string;
  let proxy: TestProxy;
  let echo: Server;
  let port: number;

  before(async () => {
    echo = createServer((s) => {
      s.pipe(s);
      s.on('error', () => {});
    });
    const echoPort = await listen(echo);
    port = await deadPort();
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [...serviceWithEndpoints('echo', [{ port: echoPort }]), tcpServices({ [String(port)]: 'default/echo:80' })]);
    proxy = await startProxy(dir, { compile: { tcpServicesConfigMap: 'ingress/tcp-services' }, limits: { maxConnections: 2 } });
  });
  after(async () => {
    await proxy.stop();
    echo.close();
    await removeDir(dir);
  });

  it('counts TCP service connections against the same cap as HTTP ones', async () => {
    // One HTTP keep-alive connection and one TCP service connection fill the cap of 2.
    const http = connect({ port: Number(new URL(proxy.http).port), host: '127.0.0.1' });
    http.on('error', () => {});
    await once(http, 'connect');
    http.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(http, 'data');
    const held = connect({ port, host: '127.0.0.1' });
    held.on('error', () => {});
    await once(held, 'connect');
    held.write('held');
    assert.equal(((await once(held, 'data')) as [Buffer])[0].toString(), 'held');
    const third = connect({ port, host: '127.0.0.1' });
    third.on('error', () => {});
    await once(third, 'close');
    assert.equal(await metric(proxy, /signalbox_stream_refused_total\{listener="tcp-\d+",reason="connection-limit"\} (\d+)/), 1);
    // Once the HTTP connection goes, a TCP one fits again.
    http.destroy();
    await once(http, 'close');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await roundTrip(port, 'fits')).toString(), 'fits');
    held.destroy();
  });
});
