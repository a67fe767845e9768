/**
 * The client certificate a cluster presents to its endpoints (mTLS), shared by the pools, the
 * PROXY-protocol pools and the active health probes, so that all three connect the same way.
 */
import { createHash } from 'node:crypto';
import type { BackendTlsPolicy } from '../../model/policy.ts';

/** The code of {@link UnusableClientCertificateError}; classified as `upstream-tls` (ERR_TLS_ prefix). */
export const CLIENT_CERTIFICATE_UNUSABLE = 'ERR_TLS_CLIENT_CERTIFICATE_UNUSABLE';

/**
 * A connection refused before it is made: the Service names a client certificate whose Secret is
 * missing or unusable. Going out without it would hide the mistake, so the request fails with 502
 * `upstream-tls`, and the endpoints are not blamed for it (no outlier ejection).
 */
export class UnusableClientCertificateError extends Error {
  readonly code = CLIENT_CERTIFICATE_UNUSABLE;
  constructor(secret: string, problem: string) {
    super(`client certificate Secret ${secret} is unusable: ${problem}`);
  }
}

/**
 * The `cert` and `key` options of a TLS connection for `tls`, `{}` when the cluster presents no
 * certificate, or the error to fail the connection with when its Secret is unusable.
 */
export function clientCertificateOptions(tls: BackendTlsPolicy): { cert?: string; key?: string } | UnusableClientCertificateError {
  const client = tls.clientCertificate;
  if (client === null) return {};
  if (client.problem !== null) return new UnusableClientCertificateError(client.secret, client.problem);
  return { cert: client.certPem, key: client.keyPem };
}

/**
 * The part of a pool's key the client certificate decides: a digest of the certificate and key (a
 * rotated Secret gets fresh connections, which present the new certificate), `!` for an unusable one.
 */
export function clientCertificateKey(tls: BackendTlsPolicy): string {
  const client = tls.clientCertificate;
  if (client === null) return '';
  if (client.problem !== null) return '!';
  return createHash('sha256').update(client.certPem).update('\0').update(client.keyPem).digest('hex').slice(0, 16);
}

/**
 * Keeps a TLS alert the endpoint sends after the handshake as the error of the connection. In TLS
 * 1.3 a server checks the client's certificate after the client has finished its handshake, so a
 * refused (or missing) certificate shows up as an alert on the first read — `certificate required`,
 * `unknown ca` — immediately followed by the end of the stream, which undici would report as a
 * plain reset (`other side closed`). With the end dropped once such an error has been seen, the
 * connection closes with the alert, and the request fails as `upstream-tls`, which is what it is.
 *
 * The socket is destroyed once every listener has seen the alert: Node emits it without closing
 * the socket, and an HTTP/2 session on it (undici's) is destroyed but stays its client's until the
 * socket closes — each later request would fail on the dead session as a reset instead of
 * connecting again and meeting the alert itself.
 */
export function keepTlsAlert(socket: NodeJS.EventEmitter & { destroy(): unknown }): void {
  let alerted = false;
  socket.prependOnceListener('error', (err: NodeJS.ErrnoException) => {
    alerted = typeof err.code === 'string' && err.code.startsWith('ERR_SSL_');
    if (alerted) process.nextTick(() => socket.destroy());
  });
  const emit = socket.emit.bind(socket);
  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => (alerted && event === 'end' ? false : emit(event, ...args))) as typeof socket.emit;
}
