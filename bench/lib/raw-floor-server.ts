/**
 * The `raw-floor` target: h1-floor without `node:http` — the least a reverse proxy on signalbox's
 * own HTTP/1.1 client costs when its server side is built on raw sockets too. Each connection's
 * requests are parsed by Node's llhttp binding (the parser `node:http` uses, strict mode), one at a
 * time; each goes to the upstream through H1Pool with the same header work as h1-floor, and the
 * response is written back as a head string and the body's chunks (chunked when the upstream sent
 * no length). What it leaves out — timeouts, limits, 100-continue, upgrades, pipelined requests
 * answered in order, request bodies streamed rather than held, error answers beyond 502/400 — is
 * what a production server on this design would add: a measuring device for what such a server
 * side could save, not a proxy to deploy. Run as a child process by lib/floors.ts.
 *
 *   node bench/lib/raw-floor-server.ts --port N --upstream-port N
 */
import { createRequire } from 'node:module';
import { createServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Dispatcher } from 'undici';
import { H1Pool } from '../../src/dataplane/upstream/h1-pool.ts';

const HOST = '127.0.0.1';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect']);

interface Parser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  [key: number]: unknown;
}
interface ParserClass {
  new (): Parser;
  readonly REQUEST: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}
const common = createRequire(import.meta.url)('node:_http_common') as { HTTPParser: ParserClass; methods: string[] };
const { HTTPParser, methods } = common;

const { values } = parseArgs({ options: { port: { type: 'string' }, 'upstream-port': { type: 'string' } } });
const port = Number(values.port);
const upstreamPort = Number(values['upstream-port']);
if (!Number.isInteger(port) || !Number.isInteger(upstreamPort)) throw new Error('usage: node bench/lib/raw-floor-server.ts --port N --upstream-port N');

const pool = new H1Pool({ address: HOST, port: upstreamPort, tls: null, connectMs: 10_000, connections: 0 });

/** One request parsed off a client connection. */
interface Pending {
  method: string;
  url: string;
  headers: string[];
  keepAlive: boolean;
  body: Buffer[];
}

/** Streams one upstream response to the client socket, then lets the connection go on. */
class Forward implements Dispatcher.DispatchHandler {
  readonly #conn: Connection;
  readonly #keepAlive: boolean;
  #chunked = false;

  constructor(conn: Connection, keepAlive: boolean) {
    this.#conn = conn;
    this.#keepAlive = keepAlive;
  }

  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusText: string): void {
    if (statusCode < 200) return;
    let head = `HTTP/1.1 ${statusCode} ${statusText}\r\n`;
    let length = false;
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      if (name === 'content-length') length = true;
      if (typeof value === 'string') head += `${name}: ${value}\r\n`;
      else for (const v of value) head += `${name}: ${v}\r\n`;
    }
    this.#chunked = !length && statusCode !== 204 && statusCode !== 304;
    if (this.#chunked) head += 'transfer-encoding: chunked\r\n';
    head += this.#keepAlive ? '\r\n' : 'connection: close\r\n\r\n';
    this.#conn.socket.cork();
    this.#conn.socket.write(head, 'latin1');
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    const socket = this.#conn.socket;
    if (this.#chunked) socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    if (this.#chunked) socket.write('\r\n', 'latin1');
  }

  onResponseEnd(): void {
    const socket = this.#conn.socket;
    if (this.#chunked) socket.write('0\r\n\r\n', 'latin1');
    socket.uncork();
    this.#conn.done(this.#keepAlive);
  }

  onResponseError(_c: Dispatcher.DispatchController, _err: Error): void {
    const socket = this.#conn.socket;
    if (socket.writableCorked > 0) return void socket.destroy();
    socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: 12\r\nconnection: close\r\n\r\nbad gateway\n', 'latin1');
  }
}

/** A client connection: its parser, and its requests, answered one at a time in order. */
class Connection {
  readonly socket: Socket;
  readonly #parser = new HTTPParser();
  readonly #queue: Pending[] = [];
  #current: Pending | null = null;
  #busy = false;

  constructor(socket: Socket) {
    this.socket = socket;
    const parser = this.#parser;
    parser.initialize(HTTPParser.REQUEST, {}, 16 * 1024, HTTPParser.kLenientNone);
    parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[], method: number, url: string, _s: unknown, _t: unknown, _upgrade: boolean, keepAlive: boolean) => {
      this.#current = { method: methods[method]!, url, headers, keepAlive, body: [] };
      return 0;
    };
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => this.#current?.body.push(Buffer.from(chunk));
    parser[HTTPParser.kOnMessageComplete] = () => {
      const request = this.#current;
      this.#current = null;
      if (request === null) return;
      this.#queue.push(request);
      this.#next();
    };
    socket.on('data', (data: Buffer) => {
      const result = parser.execute(data);
      if (result instanceof Error) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n', 'latin1');
    });
    socket.on('error', () => {});
  }

  /** The current response ended: the next request, or the end of the connection. */
  done(keepAlive: boolean): void {
    this.#busy = false;
    if (!keepAlive) return void this.socket.end();
    this.#next();
  }

  #next(): void {
    if (this.#busy) return;
    const request = this.#queue.shift();
    if (request === undefined) return;
    this.#busy = true;
    const raw = request.headers;
    const headers: string[] = [];
    let host = '';
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) continue;
      if (lower === 'host') host = raw[i + 1]!;
      headers.push(name, raw[i + 1]!);
    }
    const peer = this.socket.remoteAddress ?? '';
    headers.push('x-forwarded-for', peer, 'x-forwarded-proto', 'http', 'x-forwarded-host', host, 'x-forwarded-port', String(port), 'x-real-ip', peer);
    const body = request.body.length === 0 ? null : Buffer.concat(request.body);
    if (body !== null) headers.push('content-length', String(body.length));
    pool.dispatch({ path: request.url, method: request.method as Dispatcher.HttpMethod, headers, body: body === null ? null : Readable.from([body]) }, new Forward(this, request.keepAlive));
  }
}

createServer({ noDelay: true }, (socket) => new Connection(socket)).listen(port, HOST);
