/** Sends hand-written HTTP/1.1 bytes on a raw socket: for requests no client library would send. */
import { connect } from 'node:net';

/** A parsed raw response: status, lower-cased headers, and everything after the head. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly raw: string;
}

/**
 * Writes `text` to `port` on 127.0.0.1 and collects the reply until the server closes the
 * connection, `Connection: close` is honoured, or `timeoutMs` passes (then whatever arrived).
 */
export function rawRequest(port: number, text: string, timeoutMs = 3_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => {
      if (chunks.length === 0) reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve(parseRawResponse(raw));
    });
    socket.write(text);
  });
}

/**
 * The fields of a message head (the lines after its start line), names lower-cased, repeated fields
 * joined with `, ` as RFC 9110 §5.3 allows.
 */
export function headFields(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const field of lines) {
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    const name = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

/** Parses the first response in `raw`. Status 0 when nothing came back. */
export function parseRawResponse(raw: string): RawResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = headEnd === -1 ? raw : raw.slice(0, headEnd);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: headEnd === -1 ? '' : raw.slice(headEnd + 4), raw };
}
