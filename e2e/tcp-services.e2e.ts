/**
 * TCP services under `signalbox controller` against a real kube-apiserver: an entry of the
 * `--tcp-services-configmap` ConfigMap opens its port and relays to the Service's endpoint (a real
 * TCP echo server on loopback), and an edit of the ConfigMap moves it — the new port relays to
 * the Service it now names, the old one is closed.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { deadPort } from '../test/helpers/upstreams.ts';
import { startCluster, type TestCluster } from './harness/cluster.ts';
import { startController, type RunningController } from './harness/controller.ts';
import { apply, createServiceWithEndpoints, waitFor } from './harness/objects.ts';

/** A TCP server that answers each connection's bytes with `name:` and the bytes, and logs what it received. */
interface TcpEcho {
  readonly server: Server;
  readonly port: number;
  /** What each connection sent, in order. */
  readonly received: string[];
}

async function startTcpEcho(name: string): Promise<TcpEcho> {
  const received: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => {
      received.push(text);
      socket.end(`${name}:${text}`);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

/**
 * Sends `text` to 127.0.0.1:`port`, half-closes, and resolves with the whole answer; null when the
 * connection is refused or reset (the port is not open, or not relaying yet).
 */
function exchange(port: number, text: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('connect', () => socket.end(text));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', () => resolve(null));
    socket.on('close', () => resolve(null));
  });
}

function tcpServices(data: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tcp-services', namespace: 'default' }, data };
}

describe('TCP services from a ConfigMap, under the controller', () => {
  let cluster: TestCluster;
  let controller: RunningController;
  let first: TcpEcho;
  let second: TcpEcho;

  before(async () => {
    cluster = await startCluster();
    first = await startTcpEcho('first');
    second = await startTcpEcho('second');
    await createServiceWithEndpoints(cluster, 'first', first.port, { portName: 'tcp' });
    await createServiceWithEndpoints(cluster, 'second', second.port, { portName: 'tcp' });
    controller = await startController(cluster.kubeconfigPath, ['--tcp-services-configmap', 'default/tcp-services', '--election-namespace', 'default']);
    await waitFor(() => controller.ready(), { timeoutMs: 30_000, what: 'the controller to be ready' });
  }, { timeout: 240_000 });

  after(async () => {
    await controller?.stop();
    await cluster?.stop();
    for (const echo of [first, second]) echo?.server.close();
  });

  test('an entry opens its port and relays to the Service; an edit moves it to another port and Service', async () => {
    const [oldPort, newPort] = [await deadPort(), await deadPort()];
    await apply(cluster, [tcpServices({ [String(oldPort)]: 'default/first:80' })]);
    const answer = await waitFor(() => exchange(oldPort, 'hello'), { timeoutMs: 15_000, what: `port ${oldPort} to relay` });
    assert.equal(answer, 'first:hello');
    assert.equal(first.received.at(-1), 'hello', 'the bytes reached the Service\'s endpoint');

    await apply(cluster, [tcpServices({ [String(newPort)]: 'default/second:80' })]);
    const moved = await waitFor(() => exchange(newPort, 'moved'), { timeoutMs: 15_000, what: `port ${newPort} to relay` });
    assert.equal(moved, 'second:moved');
    assert.equal(second.received.at(-1), 'moved', 'the bytes reached the Service the entry names now');
    await waitFor(async () => (await exchange(oldPort, 'gone')) === null, { timeoutMs: 15_000, what: `port ${oldPort} to close` });
    assert.ok(!first.received.includes('gone'), 'nothing reached the old Service through the old port');
  });
});
