import { STATUS_CODES } from 'node:http';
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
  /** The route's backend for this request did not resolve (or the route has none) and no filter answered. */
  | 'no-backend'
  /** The route's ClientAddress filter refuses the client's address (denied, or not allowed). */
  | 'client-address'
  /** The route's HeaderDeny filter matches the request (ingress-nginx's block-user-agents, block-referers). */
  | 'header-denied'
  /** The request body is larger than the route's BodyLimit (declared, or counted as it streamed). */
  | 'body-too-large'
  | 'not-ready'
  | 'upstream-refused'
  | 'upstream-reset'
  | 'upstream-connect-timeout'
  | 'upstream-timeout'
  | 'upstream-protocol-error'
  /** The endpoint's TLS certificate failed verification (unknown CA, wrong name, expired) or the handshake failed. */
  | 'upstream-tls'
  | 'internal-error'
  | 'circuit-open'
  /** A RouteScript failed and its failure policy is `reject` (the status is the RouteScript's). */
  | 'script-failed'
  /** An ExternalAuth service could not be asked, timed out, or answered neither 2xx, 401 nor 403. */
  | 'auth-failed'
  /** BasicAuth: no credentials, or not those of a user of the route (the answer carries the challenge). */
  | 'unauthorized'
  /** BasicAuth whose credentials could not be read (an auth Secret missing or unusable): the route fails closed. */
  | 'auth-unavailable'
  /** A pause gate's queue was full (requests or body bytes). */
  | 'pause-queue-full'
  /** A held request reached its maximum wait. */
  | 'pause-expired'
  /** An upgrade (WebSocket) to a paused route: a connection cannot be held, the client should retry. */
  | 'paused'
  /**
   * HTTP/2 only: the worker's open streams are at `--http2-max-streams-per-worker`. Sent as
   * RST_STREAM REFUSED_STREAM, not as a response: the client knows nothing was processed and retries.
   */
  | 'stream-refused'
  /** The worker holds as many client connections as `--max-connections` allows, so this one is refused. */
  | 'too-many-connections'
  /** The client address is over a rate of the route's RateLimit filter (the status is the filter's `rateStatus`). */
  | 'rate-limited'
  /** The client address has the RateLimit filter's `connections` requests in flight already (the status is its `connectionStatus`). */
  | 'connection-limited'
  /** The host checks client certificates and the connection sent none, where one is required. */
  | 'client-certificate-required'
  /** The host checks client certificates and the one the connection sent did not verify (CA, dates, CRL, depth). */
  | 'client-certificate-invalid'
  /** The client certificate's subject does not match the host's `matchCN`. */
  | 'client-certificate-unauthorized'
  /**
   * The host checks client certificates and the connection's handshake was not for it (another SNI
   * name, or under a CA the host no longer trusts): the client should open a connection for this
   * host (RFC 9110 §15.5.20).
   */
  | 'misdirected-request';

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
  'no-backend': { status: 500, body: 'the route has no backend for this request' },
  'client-address': { status: 403, body: 'the client address is not allowed on this route' },
  'header-denied': { status: 403, body: 'the request is blocked on this route' },
  'body-too-large': { status: 413, body: 'request body too large' },
  'not-ready': { status: 503, body: 'proxy not ready: no routing table yet' },
  'upstream-refused': { status: 502, body: 'upstream refused the connection' },
  'upstream-reset': { status: 502, body: 'upstream closed the connection' },
  'upstream-connect-timeout': { status: 504, body: 'upstream connect timeout' },
  'upstream-timeout': { status: 504, body: 'upstream response timeout' },
  'upstream-protocol-error': { status: 502, body: 'upstream sent an invalid response' },
  'upstream-tls': { status: 502, body: 'upstream TLS certificate not trusted or handshake failed' },
  'internal-error': { status: 500, body: 'internal error in the proxy' },
  'circuit-open': { status: 503, body: 'too many requests to this service: circuit breaker open' },
  'script-failed': { status: 503, body: 'the route script failed' },
  'auth-failed': { status: 500, body: 'the authentication service failed' },
  'unauthorized': { status: 401, body: 'authorization required' },
  'auth-unavailable': { status: 503, body: 'the route\'s credentials could not be read: it is closed' },
  'pause-queue-full': { status: 503, body: 'the service is paused and its queue is full; retry later' },
  'pause-expired': { status: 503, body: 'the service is paused; the request waited as long as it may' },
  'paused': { status: 503, body: 'the service is paused; retry later' },
  'stream-refused': { status: 503, body: 'too many HTTP/2 streams open in the proxy; retry' },
  'too-many-connections': { status: 503, body: 'the proxy has too many connections open; retry later' },
  'rate-limited': { status: 503, body: 'too many requests from this address; slow down' },
  'connection-limited': { status: 503, body: 'too many requests from this address at once' },
  // nginx's own words for its 400s, which clients and runbooks know.
  'client-certificate-required': { status: 400, body: 'No required SSL certificate was sent' },
  'client-certificate-invalid': { status: 400, body: 'The SSL certificate error' },
  'client-certificate-unauthorized': { status: 403, body: 'client certificate unauthorized' },
  'misdirected-request': { status: 421, body: 'this host needs a connection of its own: its TLS handshake was for another name' },
};

/** Reasons whose response asks the client to retry (RFC 9110 §10.2.3): the pause is expected to end. */
const RETRY_AFTER_SECONDS: Partial<Record<ErrorReason, number>> = { 'pause-queue-full': 1, 'pause-expired': 1, paused: 1, 'too-many-connections': 1 };

/**
 * Reasons answered without the request body, which is not read to its end to keep the connection
 * (a client may declare gigabytes): HTTP/1.1 closes the connection after the answer, HTTP/2 resets
 * the stream with NO_ERROR once the answer is out (RFC 9113 §8.1).
 */
const REFUSES_BODY: ReadonlySet<ErrorReason> = new Set(['body-too-large']);

/** Whether signalbox's answer for `reason` leaves the request body unread (see REFUSES_BODY). */
export function refusesBody(reason: ErrorReason | undefined): boolean {
  return reason !== undefined && REFUSES_BODY.has(reason);
}

/** The status code signalbox answers with for `reason`. */
export function statusFor(reason: ErrorReason): number {
  return SPECS[reason].status;
}

/** Minimal shape shared by HTTP/1 and HTTP/2 server responses. */
interface WritableResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body: string): unknown;
  /** The request answered (Node's ServerResponse and Http2ServerResponse both have it). */
  readonly req?: { readonly headers: Readonly<Record<string, string | string[] | undefined>> };
  /** The HTTP/2 stream of an Http2ServerResponse. */
  readonly stream?: { respond(headers: Record<string, string | number>, options: { endStream: boolean }): void };
}

/**
 * The gRPC status for an HTTP status signalbox answers with (the mapping gRPC's own HTTP-to-gRPC
 * table uses, grpc/doc/http-grpc-status-mapping.md): what a gRPC client can act on — 14
 * UNAVAILABLE is retried by gRPC clients, 4 DEADLINE_EXCEEDED is not.
 */
export function grpcStatusFor(status: number): number {
  switch (status) {
    case 400: return 13; // INTERNAL
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 12; // UNIMPLEMENTED
    case 408: case 504: return 4; // DEADLINE_EXCEEDED
    case 429: return 8; // RESOURCE_EXHAUSTED
    case 502: case 503: return 14; // UNAVAILABLE
    default: return status >= 500 ? 13 : 2; // INTERNAL, UNKNOWN
  }
}

/** Whether a request is a gRPC call (`content-type: application/grpc`, `+proto`, `+json`…). */
export function isGrpcRequest(headers: Readonly<Record<string, string | string[] | undefined>> | undefined): boolean {
  const type = headers?.['content-type'];
  return typeof type === 'string' && type.startsWith('application/grpc');
}

/**
 * Writes the error response for `reason`; returns the number of body bytes.
 * @param status replaces the reason's usual status (a RouteScript's `rejectStatus`).
 */
export function writeError(res: WritableResponse, reason: ErrorReason, close = false, status = SPECS[reason].status): number {
  if (isGrpcRequest(res.req?.headers)) return writeGrpcError(res, reason, status);
  const { headers, body } = errorAnswer(reason, status);
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
  return body.length;
}

/**
 * Answers a gRPC call signalbox could not forward as gRPC clients expect (see {@link grpcErrorAnswer}):
 * on HTTP/2 one HEADERS frame that ends the stream.
 */
function writeGrpcError(res: WritableResponse, reason: ErrorReason, status: number): number {
  const { headers } = grpcErrorAnswer(reason, status);
  if (res.stream !== undefined) res.stream.respond({ ':status': 200, ...headers }, { endStream: true });
  else {
    res.writeHead(200, { ...headers, 'content-length': 0 });
    res.end('');
  }
  return 0;
}

/**
 * signalbox's error for `reason` in the shape of a gRPC answer: HTTP 200 with `grpc-status` (the
 * gRPC status for the HTTP `status`) and `grpc-message` (percent-encoded) in a Trailers-Only
 * response, no body, and `x-signalbox-error` naming the reason as usual. A gRPC client reads a
 * plain HTTP error as a status of its own guessing (grpc-js: UNAVAILABLE for a 504, which it may
 * retry; UNKNOWN for a 500), without the proxy's message.
 */
export function grpcErrorAnswer(reason: ErrorReason, status = SPECS[reason].status): { status: 200; headers: Record<string, string | number>; body: '' } {
  const headers: Record<string, string | number> = {
    'content-type': 'application/grpc',
    'grpc-status': grpcStatusFor(status),
    'grpc-message': encodeURIComponent(`${status} ${SPECS[reason].body}`),
    server: 'signalbox',
    'x-signalbox-error': reason,
  };
  return { status: 200, headers, body: '' };
}

/**
 * The answer signalbox gives for `reason` to the request whose fields are `requestHeaders`, before
 * a route's response filters see it: {@link grpcErrorAnswer} for a gRPC call, {@link errorAnswer}
 * with its status otherwise. A route's filters may add to a gRPC answer, not make it a plain one.
 */
export function ownErrorAnswer(requestHeaders: Readonly<Record<string, string | string[] | undefined>>, reason: ErrorReason, status = SPECS[reason].status): { status: number; headers: Record<string, string | number>; body: string } {
  if (isGrpcRequest(requestHeaders)) return grpcErrorAnswer(reason, status);
  return { status, ...errorAnswer(reason, status) };
}

/** The fields and body of signalbox's error response for `reason` (framing included). */
export function errorAnswer(reason: ErrorReason, status = SPECS[reason].status): { headers: Record<string, string | number>; body: string } {
  const body = `${status} ${SPECS[reason].body}\n`;
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    server: 'signalbox',
    'x-signalbox-error': reason,
    'cache-control': 'no-store',
  };
  const retryAfter = RETRY_AFTER_SECONDS[reason];
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  return { headers, body };
}

/** Writes an error response straight onto a raw socket (upgrade requests, parse errors) and closes it. */
export function writeRawError(socket: Duplex, reason: ErrorReason, status = SPECS[reason].status): void {
  const body = `${status} ${SPECS[reason].body}\n`;
  const retryAfter = RETRY_AFTER_SECONDS[reason];
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', server: 'signalbox', 'x-signalbox-error': reason };
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  writeRawResponse(socket, status, headers, body);
}

/**
 * Writes a whole HTTP/1.1 response onto a raw socket and closes it: for upgrade requests, which
 * have no ServerResponse. `headers` must be valid field names and values (framing is added here).
 */
export function writeRawResponse(socket: Duplex, status: number, headers: Readonly<Record<string, string>>, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  socket.end(`${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** The standard reason phrase (any text is allowed there; clients ignore it). */
function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Status';
}

/** OpenSSL's verification failures, as Node reports them in `err.code`. */
const TLS_FAILURES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

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
      if (TLS_FAILURES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'upstream-tls';
      if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INFO') return 'upstream-protocol-error';
      return 'upstream-reset';
  }
}
