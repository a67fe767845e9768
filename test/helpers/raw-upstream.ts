/**
 * An upstream on a bare TCP socket that keeps its own log of every byte it received, connection by
 * connection: what a proxy really sent, including anything it should not have (requests smuggled
 * into a connection, bytes sent ahead of a protocol switch). It parses request heads (and
 * Content-Length bodies) until it switches protocols, then echoes what it receives.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { headFields } from './raw-http.ts';

/** A request head as the upstream parsed it off the wire. */
export interface RawUpstreamRequest {
  /** The connection it came on (1, 2, … in the order they were accepted). */
  readonly conn: number;
  readonly method: string;
  readonly target: string;
  /** Lower-cased names; repeated fields joined with `, `. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One accepted connection. */
export interface RawUpstreamConnection {
  readonly id: number;
  /** Every byte received, in latin1. */
  received: string;
  /** Bytes that arrived after a switching request's head and before the upstream wrote its 101. */
  beforeSwitch: string;
  /** Bytes received after the 101 (echoed back as they come). */
  tunnelled: string;
}

/** How the upstream answers one request. */
export interface RawAnswer {
  /** The whole response, written as it is. */
  readonly response: string;
  /** True when the response is a 101 after which the connection carries another protocol. */
  readonly switches?: boolean;
  /** Waits this long before answering, so that anything sent ahead of the answer shows. */
  readonly delayMs?: number;
}

/** A running raw upstream. */
export interface RawUpstream {
  readonly port: number;
  /** The requests parsed, in arrival order. */
  readonly requests: RawUpstreamRequest[];
  readonly connections: RawUpstreamConnection[];
  /** Resolves once `n` requests arrived. */
  requestCount(n: number): Promise<void>;
  /** Resolves once connection `id` has tunnelled at least `n` bytes. */
  tunnelledBytes(id: number, n: number): Promise<void>;
  close(): Promise<void>;
}

/** `200 OK` with `body` and a Content-Length, keeping the connection open. */
export function okResponse(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/** Starts a raw upstream on 127.0.0.1:0 that answers each request with `answer(request)`. */
export async function startRawUpstream(answer: (req: RawUpstreamRequest) => RawAnswer): Promise<RawUpstream> {
  const requests: RawUpstreamRequest[] = [];
  const connections: RawUpstreamConnection[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  const changed = (): void => {
    for (const w of [...waiters]) w();
  };
  const until = (done: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const conn: RawUpstreamConnection = { id: connections.length + 1, received: '', beforeSwitch: '', tunnelled: '' };
    connections.push(conn);
    let buffered = '';
    /** Set after a 101 is written: the connection carries another protocol, echoed. */
    let tunnel = false;
    /** Set while an answer is delayed: nothing more is parsed until it is out. */
    let holding = false;
    /** Set from a switching request's head until its 101 is written. */
    let switching = false;
    const echo = (text: string): void => {
      conn.tunnelled += text;
      socket.write(`echo:${text}`, 'latin1');
      changed();
    };
    const parse = (): void => {
      while (!tunnel && !holding) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const [line = '', ...fields] = buffered.slice(0, end).split('\r\n');
        const headers = headFields(fields);
        const length = Number(headers['content-length'] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.slice(end + 4, end + 4 + length);
        buffered = buffered.slice(end + 4 + length);
        const [method = '', target = ''] = line.split(' ');
        const request = { conn: conn.id, method, target, headers, body };
        requests.push(request);
        changed();
        const a = answer(request);
        if (a.switches === true) {
          switching = true;
          // What came with the head, after it, came before the 101 too.
          conn.beforeSwitch += buffered;
        }
        const respond = (): void => {
          holding = false;
          socket.write(a.response, 'latin1');
          if (!switching) return;
          switching = false;
          tunnel = true;
          if (buffered !== '') echo(buffered);
          buffered = '';
        };
        if (a.delayMs === undefined) respond();
        else {
          holding = true;
          setTimeout(() => {
            respond();
            parse();
          }, a.delayMs);
        }
      }
    };
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      conn.received += text;
      if (tunnel) return echo(text);
      if (switching) conn.beforeSwitch += text;
      buffered += text;
      parse();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    connections,
    requestCount: (n) => until(() => requests.length >= n),
    tunnelledBytes: (id, n) => until(() => (connections[id - 1]?.tunnelled.length ?? 0) >= n),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
