import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { PROBE_USER_AGENT, probe } from '../../src/health/probe.ts';
import { closedPort, healthCheck, startProbeServer, within } from './builders.ts';

test('a probe is a GET of the path with Host, User-Agent and Connection: close, on a connection of its own', async (t) => {
  const server = await startProbeServer(t);
  const check = healthCheck({ path: '/ready?full=1', timeoutMs: 1_000 });
  assert.deepEqual(await probe({ address: '127.0.0.1', port: server.port, check }), { pass: true, status: 200, reason: 'status 200' });
  await probe({ address: '127.0.0.1', port: server.port, check });
  const [first, second] = server.seen;
  assert.equal(first?.method, 'GET');
  assert.equal(first?.url, '/ready?full=1');
  assert.equal(first?.headers.host, `127.0.0.1:${server.port}`);
  assert.equal(first?.headers['user-agent'], PROBE_USER_AGENT);
  assert.equal(first?.headers.connection, 'close');
  assert.ok(second);
  assert.notEqual(first?.remotePort, second.remotePort, 'each probe opens its own connection');
});

test('an IPv6 endpoint is probed with the address in brackets in the Host header', async (t) => {
  let host: string | undefined;
  const v6 = createServer((req, res) => {
    host = req.headers.host;
    res.end();
  });
  const listening = await new Promise<boolean>((resolve) => {
    v6.once('error', () => resolve(false));
    v6.listen(0, '::1', () => resolve(true));
  });
  if (!listening) return t.skip('no IPv6 loopback here');
  t.after(() => new Promise((resolve) => v6.close(resolve)));
  const port = (v6.address() as AddressInfo).port;
  const outcome = await probe({ address: '::1', port, check: healthCheck({ timeoutMs: 1_000 }) });
  assert.equal(outcome.pass, true);
  assert.equal(host, `[::1]:${port}`);
});

test('statuses pass only inside the expected ranges', async (t) => {
  const server = await startProbeServer(t);
  const check = healthCheck({ timeoutMs: 1_000, expectedStatuses: [[200, 204], [404, 404]] });
  const target = { address: '127.0.0.1', port: server.port, check };
  const verdicts: Record<number, boolean> = {};
  for (const status of [200, 204, 205, 302, 403, 404, 405, 500, 503]) {
    server.status = status;
    verdicts[status] = (await probe(target)).pass;
  }
  assert.deepEqual(verdicts, { 200: true, 204: true, 205: false, 302: false, 403: false, 404: true, 405: false, 500: false, 503: false });
  server.status = 503;
  assert.deepEqual(await probe(target), { pass: false, status: 503, reason: 'status 503' });
});

test('a response that does not come within timeoutMs fails as a timeout, and its connection is closed', async (t) => {
  const server = await startProbeServer(t);
  server.handler = () => {}; // never answers
  const started = performance.now();
  const outcome = await probe({ address: '127.0.0.1', port: server.port, check: healthCheck({ timeoutMs: 60 }) });
  const took = performance.now() - started;
  assert.deepEqual(outcome, { pass: false, status: null, reason: 'timeout' });
  assert.ok(took >= 55 && took < 1_000, `took ${took} ms`);
  await server.closed(1, 1_000);
});

test('a refused connection is a failure with its error code', async () => {
  const port = await closedPort();
  assert.deepEqual(await probe({ address: '127.0.0.1', port, check: healthCheck({ timeoutMs: 1_000 }) }), { pass: false, status: null, reason: 'ECONNREFUSED' });
});

test('an endless body is read up to 64 KiB only: the probe passes without waiting for its timeout', async (t) => {
  const server = await startProbeServer(t);
  const chunk = Buffer.alloc(16 * 1024, 'x');
  server.handler = (_req, res) => {
    res.writeHead(200);
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  };
  const started = performance.now();
  const outcome = await probe({ address: '127.0.0.1', port: server.port, check: healthCheck({ timeoutMs: 5_000 }) });
  assert.deepEqual(outcome, { pass: true, status: 200, reason: 'status 200' });
  assert.ok(performance.now() - started < 2_000);
  await server.closed(1, 1_000);
});

test('a connection reset in the middle of the body is a failure', async (t) => {
  const server = await startProbeServer(t);
  server.handler = (_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('partial', () => res.destroy());
  };
  const outcome = await probe({ address: '127.0.0.1', port: server.port, check: healthCheck({ timeoutMs: 1_000 }) });
  assert.equal(outcome.pass, false);
  assert.equal(outcome.status, 200);
});

test('aborting the signal ends a probe at once', async (t) => {
  const server = await startProbeServer(t);
  server.handler = () => {};
  const controller = new AbortController();
  const pending = probe({ address: '127.0.0.1', port: server.port, check: healthCheck({ timeoutMs: 10_000 }) }, controller.signal);
  await server.requests(1);
  controller.abort();
  const outcome = await within(1_000, 'the aborted probe', pending);
  assert.equal(outcome.pass, false);
});

test('a path Node cannot send is a failure, not an exception', async () => {
  const outcome = await probe({ address: '127.0.0.1', port: 9, check: healthCheck({ path: '/with space' }) });
  assert.deepEqual(outcome, { pass: false, status: null, reason: 'ERR_UNESCAPED_CHARACTERS' });
});
