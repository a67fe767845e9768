/**
 * UDP services from `--udp-services-configmap`: datagrams relayed both ways to a real UDP server,
 * one session (one upstream socket) per client address, the idle timeout ending a session, the
 * session limit, and a port of a Service without endpoints dropping datagrams, counted.
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric, waitForMetric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { deadPort } from '../helpers/upstreams.ts';

/** A Service with one UDP port 53 and an EndpointSlice listing `ports` on loopback. */
function udpService(name: string, ports: readonly number[]): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
    ...ports.map((port, i) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-${i}`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'dns', port, protocol: 'UDP' }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    })),
  ];
}

/** Sends `text` from `client` to `port` and resolves with the first datagram back (or null after `ms`). */
async function ask(client: Socket, port: number, text: string, ms = 2_000): Promise<string | null> {
  const reply = new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      resolve(null);
    }, ms);
    const onMessage = (msg: Buffer): void => {
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(msg.toString());
    };
    client.on('message', onMessage);
  });
  client.send(text, port, '127.0.0.1');
  return reply;
}

async function client(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

describe('UDP services', () => {
  let dir: string;
  let proxy: TestProxy;
  let upstream: Socket;
  let upstreamPort: number;
  /** Every datagram the upstream got: from which source port, what. */
  const seen: { from: number; text: string }[] = [];
  let dnsPort: number;
  let emptyPort: number;
  const clients: Socket[] = [];

  before(async () => {
    upstream = createSocket('udp4');
    upstream.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      seen.push({ from: rinfo.port, text: msg.toString() });
      upstream.send(`echo:${msg.toString()}`, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
    upstreamPort = upstream.address().port;
    // Below the ephemeral range (deadPort), where no client socket of a test alongside is handed them.
    [dnsPort, emptyPort] = [await deadPort(), await deadPort()];
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ...udpService('dns', [upstreamPort]),
      ...udpService('empty', []),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'udp-services', namespace: 'ingress' }, data: { [String(dnsPort)]: 'default/dns:53', [String(emptyPort)]: 'default/empty:53' } },
    ]);
    proxy = await startProxy(dir, { compile: { udpServicesConfigMap: 'ingress/udp-services' }, timeouts: { udpIdleMs: 400 }, limits: { maxUdpSessions: 2 } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await proxy.stop();
    upstream.close();
    await removeDir(dir);
  });

  it('relays datagrams both ways, one upstream socket per client address', async () => {
    const [a, b] = [await client(), await client()];
    clients.push(a, b);
    const from = seen.length;
    assert.equal(await ask(a, dnsPort, 'a1'), 'echo:a1');
    assert.equal(await ask(a, dnsPort, 'a2'), 'echo:a2');
    assert.equal(await ask(b, dnsPort, 'b1'), 'echo:b1');
    const got = seen.slice(from);
    assert.deepEqual(got.map((s) => s.text), ['a1', 'a2', 'b1']);
    assert.equal(got[0]!.from, got[1]!.from, 'one client keeps one session');
    assert.notEqual(got[0]!.from, got[2]!.from, 'another client has its own');
    assert.ok(await metric(proxy, /signalbox_stream_bytes_total\{listener="udp-\d+",direction="upstream"\} (\d+)/) >= 6);
  });

  it('refuses clients past the session limit and ends idle sessions', async () => {
    // Two sessions are open from the test above (until they go idle): a third client is dropped.
    const c = await client();
    clients.push(c);
    const from = seen.length;
    assert.equal(await ask(c, dnsPort, 'c1', 200), null);
    assert.deepEqual(seen.slice(from), [], 'the datagram never reached the upstream');
    assert.ok(await metric(proxy, /signalbox_stream_refused_total\{listener="udp-\d+",reason="session-limit"\} (\d+)/) >= 1);
    await waitForMetric(proxy, /signalbox_stream_idle_closes_total\{listener="udp-\d+"\} ([2-9]|\d\d+)/);
    assert.equal(await ask(c, dnsPort, 'c2'), 'echo:c2');
  });

  it('drops datagrams for a Service without endpoints, counted', async () => {
    const d = await client();
    clients.push(d);
    const from = seen.length;
    assert.equal(await ask(d, emptyPort, 'x', 200), null);
    assert.deepEqual(seen.slice(from), []);
    assert.ok(await metric(proxy, /signalbox_stream_refused_total\{listener="udp-\d+",reason="no-endpoint"\} (\d+)/) >= 1);
  });
});
