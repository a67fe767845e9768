import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REFUSED_REQUEST_MS, REFUSED_WAITING_MAX } from '../../src/dataplane/server/connection-limit.ts';
import { removeDir, tempManifestDir } from '../helpers/manifests.ts';
import { metric, waitForMetric } from '../helpers/metrics.ts';
import { parseRawResponse, rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { startSingleRoute, type SingleRoute } from '../helpers/single-route.ts';

/** A kept-alive HTTP/1.1 connection that sends GETs one at a time. */
class KeptAlive {
  readonly socket: Socket;
  #buffer = '';

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('error', () => {});
  }

  /** One GET on this connection; resolves with its response once its body is complete. */
  async get(path: string): Promise<RawResponse> {
    this.socket.write(`GET ${path} HTTP/1.1\r\nhost: cap.test\r\n\r\n`);
    for (;;) {
      const res = parseRawResponse(this.#buffer);
      const length = res.headers['content-length'];
      const whole = length === undefined ? res.body.endsWith('0\r\n\r\n') : res.body.length >= Number(length);
      if (res.status !== 0 && whole) {
        this.#buffer = '';
        return res;
      }
      const [chunk] = (await Promise.race([once(this.socket, 'data'), once(this.socket, 'close').then(() => [null])])) as [string | null];
      if (chunk === null) throw new Error(`the connection closed: ${JSON.stringify(this.#buffer)}`);
      this.#buffer += chunk;
    }
  }

  async close(): Promise<void> {
    this.socket.end();
    if (!this.socket.closed) await once(this.socket, 'close');
  }
}

async function h2Session(env: SingleRoute): Promise<ClientHttp2Session> {
  const session = h2connect(env.proxy.https, { rejectUnauthorized: false });
  session.on('error', () => {});
  await once(session, 'connect');
  return session;
}

/** One GET on an HTTP/2 session: status and body. */
async function h2Get(session: ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  const stream = session.request({ ':path': path, host: 'cap.test' });
  stream.end();
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  let body = '';
  for await (const c of stream) body += c;
  return { status: Number(headers[':status']), body };
}

describe('--max-connections per worker', () => {
  const MAX = 3;
  let env: SingleRoute;
  const refused = (listener: string): RegExp => new RegExp(`signalbox_connections_refused_total\\{listener="${listener}"\\} (\\d+)`);
  const active = (listener: string, n: number): RegExp => new RegExp(`signalbox_active_connections\\{listener="${listener}"\\} ${n}\\b`);

  let logDir: string;
  let stopped = false;

  before(async () => {
    logDir = await tempManifestDir();
    env = await startSingleRoute('cap', undefined, { limits: { maxConnections: MAX }, dataplane: { accessLog: join(logDir, 'access.log') } });
  });
  after(async () => {
    if (!stopped) await env.close();
    await removeDir(logDir);
  });

  it('refuses the HTTP connection past the cap with a 503, keeps serving the others, and accepts again once one closes', async () => {
    const open = Array.from({ length: MAX }, () => new KeptAlive(env.port));
    for (const c of open) assert.equal((await c.get('/first')).status, 200);

    const over = await rawRequest(env.port, 'GET /over HTTP/1.1\r\nhost: cap.test\r\n\r\n');
    assert.equal(over.status, 503, over.raw);
    assert.equal(over.headers['x-signalbox-error'], 'too-many-connections');
    assert.equal(over.headers.connection, 'close');
    assert.equal(over.headers['retry-after'], '1');
    assert.equal(await metric(env.proxy, refused('http')), 1);
    assert.ok((await metric(env.proxy, /signalbox_proxy_errors_total\{reason="too-many-connections"\} (\d+)/)) >= 1);

    for (const c of open) assert.equal((await c.get('/again')).status, 200, 'the connections within the cap keep working');
    assert.ok(env.up.seen.every((r) => r.url !== '/over'), 'the refused request never reached the upstream');

    await open.pop()!.close();
    await waitForMetric(env.proxy, active('http', MAX - 1));
    const back = await rawRequest(env.port, 'GET /back HTTP/1.1\r\nhost: cap.test\r\nconnection: close\r\n\r\n');
    assert.equal(back.status, 200, back.raw);
    await Promise.all(open.map((c) => c.close()));
    await waitForMetric(env.proxy, active('http', 0));
  });

  it('counts an HTTP/2 connection once whatever its streams, and closes an HTTPS connection past the cap before TLS', async () => {
    const http = Array.from({ length: MAX - 1 }, () => new KeptAlive(env.port));
    for (const c of http) assert.equal((await c.get('/h1')).status, 200);
    const session = await h2Session(env);
    // Many streams at once on the one connection that fills the cap.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => h2Get(session, `/h2/${i}`)));
    assert.deepEqual(answers.map((a) => a.status), Array(8).fill(200));

    const before = await metric(env.proxy, refused('https'));
    const over = h2connect(env.proxy.https, { rejectUnauthorized: false });
    const outcome = await new Promise<string>((resolve) => {
      over.once('connect', () => resolve('connected'));
      over.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      over.once('close', () => resolve('closed'));
    });
    over.destroy();
    assert.notEqual(outcome, 'connected', 'the connection past the cap is not served');
    assert.equal(await metric(env.proxy, refused('https')), before + 1);
    // A plain-HTTP connection is refused too: the cap is the worker's, both listeners together.
    assert.equal((await rawRequest(env.port, 'GET /over HTTP/1.1\r\nhost: cap.test\r\n\r\n')).status, 503);

    assert.equal((await h2Get(session, '/h2/still')).status, 200, 'the HTTP/2 connection within the cap keeps working');
    session.close();
    await once(session, 'close');
    await waitForMetric(env.proxy, active('https', 0));
    const again = await h2Session(env);
    assert.equal((await h2Get(again, '/h2/again')).status, 200, 'a new HTTPS connection is accepted once one closed');
    again.close();
    await Promise.all(http.map((c) => c.close()));
  });

  it('closes a refused HTTP connection that sends no request, soon', async () => {
    const open = Array.from({ length: MAX }, () => new KeptAlive(env.port));
    for (const c of open) assert.equal((await c.get('/fill')).status, 200);
    const silent = connect(env.port, '127.0.0.1');
    silent.on('error', () => {});
    const started = performance.now();
    await once(silent, 'close');
    const held = performance.now() - started;
    assert.ok(held < 3_000, `closed after ${Math.round(held)} ms, not held until a timeout of the request head`);
    await Promise.all(open.map((c) => c.close()));
  });

  it('closes a flood of refused HTTP connections at once past the ones waiting for their 503', async () => {
    const open = Array.from({ length: MAX }, () => new KeptAlive(env.port));
    for (const c of open) assert.equal((await c.get('/fill')).status, 200);
    const before = await metric(env.proxy, refused('http'));
    const FLOOD = REFUSED_WAITING_MAX + 100;
    // In batches, so that the kernel's accept queue never overflows (a dropped SYN is retried 1 s later).
    const closings: Promise<number>[] = [];
    for (let i = 0; i < FLOOD; i += 100) {
      const batch = Array.from({ length: Math.min(100, FLOOD - i) }, () => connect(env.port, '127.0.0.1'));
      for (const socket of batch) {
        socket.on('error', () => {});
        closings.push(once(socket, 'connect').then(() => {
          const connected = performance.now();
          return once(socket, 'close').then(() => performance.now() - connected);
        }));
      }
      await Promise.all(batch.map((socket) => (socket.connecting ? once(socket, 'connect') : null)));
    }
    const heldFor = await Promise.all(closings);
    const atOnce = heldFor.filter((ms) => ms < REFUSED_REQUEST_MS / 2).length;
    assert.ok(atOnce >= 50, `connections past the ${REFUSED_WAITING_MAX} waiting were closed at once (${atOnce} within ${REFUSED_REQUEST_MS / 2} ms)`);
    assert.equal(await metric(env.proxy, refused('http')), before + FLOOD);
    for (const c of open) assert.equal((await c.get('/still')).status, 200, 'the connections within the cap keep working');
    await Promise.all(open.map((c) => c.close()));
  });

  it('logs each refused request in the access log', async () => {
    await env.close(); // stopping flushes the access log
    stopped = true;
    const lines = (await readFile(join(logDir, 'access.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; status: number; error?: string });
    const over = lines.filter((l) => l.path === '/over');
    assert.equal(over.length, 2);
    assert.ok(over.every((l) => l.status === 503 && l.error === 'too-many-connections'), JSON.stringify(over));
  });
});
