/**
 * The `undici-floor` and `h1-floor` targets: the smallest reverse proxy on signalbox's stack (a
 * `node:http` server dispatching on one upstream client: undici's Pool, or signalbox's own HTTP/1.1
 * client, H1Pool, which its `http1` clusters use), to show what that stack costs with nothing of
 * signalbox on top. No routing, metrics, logging, timeouts or client-abort handling, and no flow
 * control (bodies in the benchmark are at most 1 KiB): a measuring device, not a proxy to deploy.
 * Run as a child process by lib/floors.ts; it runs on the main thread.
 *
 *   node bench/lib/floor-server.ts --port N --upstream-port N [--client undici|h1]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool, type Dispatcher } from 'undici';
import { H1Pool } from '../../src/dataplane/upstream/h1-pool.ts';

const HOST = '127.0.0.1';

/** Never forwarded in either direction; the same list is cheap to check on responses too. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect']);

const { values } = parseArgs({ options: { port: { type: 'string' }, 'upstream-port': { type: 'string' }, client: { type: 'string', default: 'undici' } } });
const port = Number(values.port);
const upstreamPort = Number(values['upstream-port']);
if (!Number.isInteger(port) || !Number.isInteger(upstreamPort)) {
  throw new Error('usage: node bench/lib/floor-server.ts --port N --upstream-port N [--client undici|h1]');
}
if (values.client !== 'undici' && values.client !== 'h1') throw new Error(`--client: undici or h1, not ${values.client}`);

const pool: { dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean } =
  values.client === 'h1'
    ? new H1Pool({ address: HOST, port: upstreamPort, tls: null, connectMs: 10_000, connections: 0 })
    : new Pool(`http://${HOST}:${upstreamPort}`, { pipelining: 1 });

/** Streams one upstream response into the client's response. */
class Forward implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: Node answers 100-continue to the client itself
    const out: string[] = [];
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      if (typeof value === 'string') out.push(name, value);
      else for (const v of value) out.push(name, v);
    }
    this.#res.writeHead(statusCode, out);
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#res.write(chunk);
  }

  onResponseEnd(): void {
    this.#res.end();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    const res = this.#res;
    if (res.headersSent) res.destroy(err);
    else res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
  }
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const raw = req.rawHeaders;
  const headers: string[] = [];
  let host = '';
  let body = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'transfer-encoding') body = true;
      continue;
    }
    if (lower === 'host') host = raw[i + 1]!;
    else if (lower === 'content-length' && raw[i + 1] !== '0') body = true;
    headers.push(name, raw[i + 1]!);
  }
  const peer = req.socket.remoteAddress ?? '';
  // The same forwarding headers nginx and signalbox set (X-Forwarded-Port included), so all three
  // proxies do comparable header work.
  headers.push('x-forwarded-for', peer, 'x-forwarded-proto', 'http', 'x-forwarded-host', host, 'x-forwarded-port', String(port), 'x-real-ip', peer);
  pool.dispatch({ path: req.url!, method: req.method as Dispatcher.HttpMethod, headers, body: body ? req : null }, new Forward(res));
}

createServer(handle).listen(port, HOST);
