/**
 * A probe whose signal is aborted before it starts (the prober stopped, a table swap dropped the
 * cluster) does not pass and opens no connection, in every protocol a cluster is probed in — an
 * endpoint that would answer 200 included.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createSecureServer, createServer as createH2cServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { probe, type ProbeTransport } from '../../src/health/probe.ts';
import { makeTestPki } from '../helpers/test-ca.ts';
import { healthCheck } from './builders.ts';

const NAME = 'api.internal.test';
const check = healthCheck({ timeoutMs: 2_000 });

describe('a probe aborted before it starts', () => {
  const pki = makeTestPki(NAME);
  const tls: ProbeTransport['tls'] = { serverName: NAME, caPem: pki.caPem, verify: true, clientCertificate: null };
  const answer = (_req: unknown, res: { end(body: string): void }): void => res.end('ok');
  const servers: Record<'http1' | 'https' | 'h2' | 'h2c', Server> = {
    http1: createHttpServer(answer),
    https: createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, answer),
    h2: createSecureServer({ cert: pki.certPem, key: pki.keyPem }, answer),
    h2c: createH2cServer(answer),
  };
  /** TCP connections each server accepted. */
  const connections: Record<string, number> = { http1: 0, https: 0, h2: 0, h2c: 0 };

  before(async () => {
    for (const [protocol, server] of Object.entries(servers)) {
      server.on('connection', () => connections[protocol]!++);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
  });
  after(async () => {
    for (const server of Object.values(servers)) await new Promise((resolve) => server.close(resolve));
  });

  for (const protocol of ['http1', 'https', 'h2', 'h2c'] as const) {
    it(`${protocol}: fails as aborted without connecting, where a live probe passes`, async () => {
      const target = { address: '127.0.0.1', port: (servers[protocol].address() as AddressInfo).port, check, transport: { protocol, tls: protocol === 'https' || protocol === 'h2' ? tls : null } };
      const aborted = new AbortController();
      aborted.abort();
      assert.deepEqual(await probe(target, aborted.signal), { pass: false, status: null, reason: 'aborted' });
      // The live probe's connection comes after any the aborted one would have opened.
      assert.equal((await probe(target, new AbortController().signal)).pass, true, 'the endpoint is healthy');
      assert.equal(connections[protocol], 1, 'only the live probe connected');
    });
  }
});
