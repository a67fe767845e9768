import type { Duplex } from 'node:stream';

/**
 * The responses signalbox writes itself. Each has a short plain-text body, `Server: signalbox`, and
 * `X-Signalbox-Error: <reason>` so that a user can tell "no route" from "no endpoint" from "upstream
 * refused" without reading logs. The reason is also the `reason` label of the proxy-errors metric.
 */

/** Why signalbox answered instead of an upstream. */
export type ErrorReason =
  | 'bad-request'
  | 'headers-too-large'
  | 'request-timeout'
  | 'no-route'
  | 'no-endpoint'
  | 'not-ready'
  | 'upstream-refused'
  | 'upstream-reset'
  | 'upstream-connect-timeout'
  | 'upstream-timeout'
  | 'upstream-protocol-error'
  | 'internal-error'
  | 'circuit-open';

interface ErrorSpec {
  readonly status: number;
  readonly body: string;
}

const SPECS: Record<ErrorReason, ErrorSpec> = {
  'bad-request': { status: 400, body: 'bad request' },
  'headers-too-large': { status: 431, body: 'request headers too large' },
  'request-timeout': { status: 408, body: 'request timeout' },
  'no-route': { status: 404, body: 'no route for this host and path' },
  'no-endpoint': { status: 503, body: 'no ready endpoint for this route' },
  'not-ready': { status: 503, body: 'proxy not ready: no routing table yet' },
  'upstream-refused': { status: 502, body: 'upstream refused the connection' },
  'upstream-reset': { status: 502, body: 'upstream closed the connection' },
  'upstream-connect-timeout': { status: 504, body: 'upstream connect timeout' },
  'upstream-timeout': { status: 504, body: 'upstream response timeout' },
  'upstream-protocol-error': { status: 502, body: 'upstream sent an invalid response' },
  'internal-error': { status: 500, body: 'internal error in the proxy' },
  'circuit-open': { status: 503, body: 'too many requests to this service: circuit breaker open' },
};

/** The status code signalbox answers with for `reason`. */
export function statusFor(reason: ErrorReason): number {
  return SPECS[reason].status;
}

/** Minimal shape shared by HTTP/1 and HTTP/2 server responses. */
interface WritableResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body: string): unknown;
}

/** Writes the error response for `reason`; returns the number of body bytes. */
export function writeError(res: WritableResponse, reason: ErrorReason, close = false): number {
  const spec = SPECS[reason];
  const body = `${spec.status} ${spec.body}\n`;
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    server: 'signalbox',
    'x-signalbox-error': reason,
    'cache-control': 'no-store',
  };
  if (close) headers.connection = 'close';
  res.writeHead(spec.status, headers);
  res.end(body);
  return body.length;
}

/** Writes an error response straight onto a raw socket (upgrade requests, parse errors) and closes it. */
export function writeRawError(socket: Duplex, reason: ErrorReason): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const spec = SPECS[reason];
  const body = `${spec.status} ${spec.body}\n`;
  socket.end(
    `HTTP/1.1 ${spec.status} ${reasonPhrase(spec.status)}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${body.length}\r\nserver: signalbox\r\nx-signalbox-error: ${reason}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function reasonPhrase(status: number): string {
  switch (status) {
    case 400: return 'Bad Request';
    case 404: return 'Not Found';
    case 500: return 'Internal Server Error';
    case 408: return 'Request Timeout';
    case 431: return 'Request Header Fields Too Large';
    case 502: return 'Bad Gateway';
    case 503: return 'Service Unavailable';
    case 504: return 'Gateway Timeout';
    default: return 'Error';
  }
}

/** Maps an upstream failure (undici error or socket error) to the reason a user sees. */
export function reasonForUpstreamError(err: unknown): ErrorReason {
  const code = (err as { code?: string } | null)?.code ?? '';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'upstream-connect-timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'upstream-timeout';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'upstream-refused';
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return 'bad-request';
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INFO') return 'upstream-protocol-error';
      return 'upstream-reset';
  }
}
