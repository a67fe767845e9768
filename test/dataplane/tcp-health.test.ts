/**
 * Active health checks by TCP connect: an HTTP Service that asks for them
 * (`signalbox.dev/health-check-kind: tcp`), and a Service behind `--tcp-services-configmap`, whose
 * endpoints are probed by a connect whatever its check says. An endpoint whose listener closes is
 * taken out of rotation, and comes back when it listens again; the probes write nothing.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { waitForMetric } from '../helpers/metrics.ts';
import { startProxy } from '../helpers/proxy.ts';
import { deadPort } from '../helpers/upstreams.ts';

const FAST_CHECKS = {
  'signalbox.dev/health-check-interval': '1s',
  'signalbox.dev/health-check-timeout': '500ms',
  'signalbox.dev/health-check-unhealthy-threshold': '1',
  'signalbox.dev/health-check-healthy-threshold': '1',
};

async function listenOn(server: Server | HttpServer, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Stops listening (connections already open are closed too). */
async function stopListening(server: HttpServer): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  server.closeAllConnections();
  await closed;
}

/** Polls `check` every 50 ms until it holds (bounded: then the test fails saying `what`). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not in ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const gauge = (cluster: string, port: number, value: 0 | 1): RegExp =>
  new RegExp(`signalbox_endpoint_healthy\\{cluster="${cluster.replaceAll('/', '\\/')}",endpoint="127\\.0\\.0\\.1:${port}"\\} ${value}`);

describe('TCP-connect health checks', { timeout: 60_000 }, () => {
  it('an HTTP Service with health-check-kind tcp: a closed listener is taken out of rotation and brought back, and no probe is an HTTP request', async () => {
    const seen: Record<string, string[]> = { one: [], two: [] };
    const named = (name: 'one' | 'two'): HttpServer => createHttpServer((req, res) => {
      seen[name]!.push(`${req.method} ${req.url} ${req.headers['user-agent'] ?? ''}`);
      res.writeHead(200, { 'x-upstream': name });
      res.end(name);
    });
    const one = named('one');
    const two = named('two');
    const onePort = await listenOn(one);
    const twoPort = await listenOn(two);
    const dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('app', [{ port: onePort }, { port: twoPort }], 'default', { 'signalbox.dev/health-check-kind': 'tcp', ...FAST_CHECKS }),
      ingress('app', 'app.test', [{ path: '/', service: 'app' }]),
    ]);
    const proxy = await startProxy(dir);
    const upstreamsOf = async (n: number): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const res = await request(`${proxy.http}/`, { headers: { host: 'app.test' }, reset: true });
        await res.body.text();
        out.push(String(res.headers['x-upstream'] ?? res.statusCode));
      }
      return out;
    };
    try {
      await waitForMetric(proxy, gauge('default/app:80', twoPort, 1));
      assert.deepEqual(new Set(await upstreamsOf(6)), new Set(['one', 'two']));

      await stopListening(two);
      await waitForMetric(proxy, gauge('default/app:80', twoPort, 0));
      // Out of rotation: no request even tries the closed endpoint (no connect failure, no retry).
      await until(async () => (await upstreamsOf(4)).every((u) => u === 'one'), 'every request served by the endpoint still listening');
      const before = await proxyRetries(proxy.admin);
      assert.deepEqual(new Set(await upstreamsOf(10)), new Set(['one']));
      assert.equal(await proxyRetries(proxy.admin), before, 'no request was sent to the closed endpoint first');

      await listenOn(two, twoPort);
      await waitForMetric(proxy, gauge('default/app:80', twoPort, 1));
      await until(async () => (await upstreamsOf(6)).includes('two'), 'the endpoint back in rotation');
      assert.ok([...seen.one!, ...seen.two!].every((line) => line === 'GET / '), `only the test's requests reached the endpoints: ${[...seen.one!, ...seen.two!].join('; ')}`);
    } finally {
      await proxy.stop();
      one.close();
      two.close();
      await removeDir(dir);
    }
  });

  it('a TCP service is probed by connect even when its Service sets an HTTP path, and follows its listener', async () => {
    const probeBytes: number[] = [];
    let connections = 0;
    // An echo server: an HTTP probe would get its own request echoed back, never a status.
    const echo = createServer((socket: Socket) => {
      connections++;
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        socket.write(chunk);
      });
      socket.on('close', () => probeBytes.push(bytes));
      socket.on('error', () => {});
    });
    const echoPort = await listenOn(echo);
    const listenerPort = await deadPort();
    const dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ...serviceWithEndpoints('echo', [{ port: echoPort }], 'default', { 'signalbox.dev/health-check-path': '/healthz', ...FAST_CHECKS }),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tcp-services', namespace: 'ingress' }, data: { [String(listenerPort)]: 'default/echo:80' } },
    ]);
    const proxy = await startProxy(dir, { compile: { tcpServicesConfigMap: 'ingress/tcp-services' } });
    const passes = new RegExp('signalbox_health_checks_total\\{cluster="default/echo:80",result="pass"\\} [2-9]');
    try {
      await waitForMetric(proxy, passes, 8_000);
      await waitForMetric(proxy, gauge('default/echo:80', echoPort, 1));
      assert.ok(connections >= 2 && probeBytes.every((b) => b === 0), `probes connect and write nothing (${probeBytes.join(',')})`);
      assert.equal(await roundTrip(listenerPort, 'ping'), 'ping');

      const closed = once(echo, 'close');
      echo.close();
      await closed;
      await waitForMetric(proxy, gauge('default/echo:80', echoPort, 0));

      await listenOn(echo, echoPort);
      await waitForMetric(proxy, gauge('default/echo:80', echoPort, 1));
      assert.equal(await roundTrip(listenerPort, 'pong'), 'pong', 'the endpoint serves again');
    } finally {
      await proxy.stop();
      echo.close();
      await removeDir(dir);
    }
  });
});

/** The proxy's retries so far, of every reason. */
async function proxyRetries(admin: string): Promise<number> {
  const text = await (await request(`${admin}/metrics`)).body.text();
  let sum = 0;
  for (const m of text.matchAll(/^signalbox_retries_total\{[^}]*\} (\d+)/gm)) sum += Number(m[1]);
  return sum;
}

/** Sends `text` over the proxy's TCP port, half-closes, and resolves with what came back. */
async function roundTrip(port: number, text: string): Promise<string> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  await once(socket, 'connect');
  socket.write(text);
  // The echo comes back before the close: wait for it, then close.
  while (Buffer.concat(chunks).length < text.length) await once(socket, 'data');
  socket.destroy();
  return Buffer.concat(chunks).toString();
}
