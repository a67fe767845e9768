/**
 * One client connection driven by hand: write any bytes (pipelined requests, an upgrade with bytes
 * after it), then read the responses one at a time, framed by their Content-Length or chunked
 * coding, and after a 101 the bytes of the other protocol.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { headFields } from './raw-http.ts';

/** A response as read off the connection. */
export interface ReadResponse {
  readonly status: number;
  /** Lower-cased names; repeated fields joined with `, `. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A client connection to 127.0.0.1. */
export interface Conversation {
  write(text: string): void;
  /** The next whole response; rejects if the connection closes first. */
  next(): Promise<ReadResponse>;
  /** After a 101: resolves with the next `n` bytes received. */
  bytes(n: number): Promise<string>;
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

/** Opens a connection to `port`; with `tls`, over TLS with that SNI name and ALPN `http/1.1` (any certificate). */
export async function converse(port: number, tls?: { servername: string }): Promise<Conversation> {
  const socket: Socket =
    tls === undefined ? connect(port, '127.0.0.1') : tlsConnect({ port, host: '127.0.0.1', servername: tls.servername, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once(tls === undefined ? 'connect' : 'secureConnect', resolve);
    socket.once('error', reject);
  });
  let buffered = '';
  let ended = false;
  let wake: (() => void) | null = null;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    wake?.();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    ended = true;
    wake?.();
  });
  /** Waits until `take` finds what it needs in the buffer (it returns null while it cannot). */
  const read = <T>(take: () => T | null, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const attempt = (): void => {
        const got = take();
        if (got !== null) {
          wake = null;
          resolve(got);
        } else if (ended) {
          wake = null;
          reject(new Error(`connection closed before ${what}; received: ${JSON.stringify(buffered)}`));
        }
      };
      wake = attempt;
      attempt();
    });
  return {
    write: (text) => socket.write(text, 'latin1'),
    next: () => read(() => takeResponse(), 'a whole response'),
    bytes: (n) =>
      read(() => {
        if (buffered.length < n) return null;
        const out = buffered.slice(0, n);
        buffered = buffered.slice(n);
        return out;
      }, `${n} bytes`),
    closed,
    close: () => socket.destroy(),
  };

  function takeResponse(): ReadResponse | null {
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const [line = '', ...fields] = buffered.slice(0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(line)?.[1] ?? 0);
    const headers = headFields(fields);
    let rest = buffered.slice(end + 4);
    let body = '';
    if (status === 101 || status === 204 || status === 304) {
      body = '';
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        if (lineEnd === -1) return null;
        const size = parseInt(rest.slice(0, lineEnd), 16);
        if (rest.length < lineEnd + 2 + size + 2) return null;
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        rest = rest.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (rest.length < length) return null;
      body = rest.slice(0, length);
      rest = rest.slice(length);
    } else {
      // Delimited by the end of the connection.
      if (!ended) return null;
      body = rest;
      rest = '';
    }
    buffered = rest;
    return { status, headers, body };
  }
}
