/**
 * The TCP probe: a connect, closed at once, that passes when the endpoint accepts within the
 * timeout — nothing is written, so it suits any protocol — and fails with the connect's error.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { PROBE_CONNECTED, probe } from '../../src/health/probe.ts';
import { closedPort, healthCheck } from './builders.ts';

const tcp = healthCheck({ kind: 'tcp', path: '', timeoutMs: 1_000 });

test('a TCP probe passes when the endpoint accepts, and sends it nothing', async (t) => {
  const received: Buffer[] = [];
  const closed: Promise<unknown>[] = [];
  const server = createServer((socket: Socket) => {
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    closed.push(once(socket, 'close'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  assert.deepEqual(await probe({ address: '127.0.0.1', port, check: tcp }), { pass: true, status: null, reason: PROBE_CONNECTED });
  // An HTTPS-looking transport changes nothing: no ClientHello either.
  assert.equal((await probe({ address: '127.0.0.1', port, check: tcp, transport: { protocol: 'https', tls: null } })).pass, true);
  await Promise.all(closed);
  assert.equal(closed.length, 2, 'one connection per probe');
  assert.equal(Buffer.concat(received).length, 0, 'not a byte written');
});

test('a TCP probe of a closed port fails with the refusal', async () => {
  const port = await closedPort();
  assert.deepEqual(await probe({ address: '127.0.0.1', port, check: tcp }), { pass: false, status: null, reason: 'ECONNREFUSED' });
});

test('an aborted TCP probe does not pass, even where a connect would', async (t) => {
  const server = createServer((socket: Socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const before = new AbortController();
  before.abort();
  assert.deepEqual(await probe({ address: '127.0.0.1', port, check: tcp }, before.signal), { pass: false, status: null, reason: 'aborted' });
  const during = new AbortController();
  const outcome = probe({ address: '127.0.0.1', port, check: tcp }, during.signal);
  during.abort();
  assert.deepEqual(await outcome, { pass: false, status: null, reason: 'aborted' });
});
