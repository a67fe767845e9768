import { request, type ClientRequest } from 'node:http';
import { connect as http2Connect, constants as h2 } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as tcpConnect, isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { subjectAltNameCheck } from '../model/backend-identity.ts';
import { DEFAULT_BACKEND_TLS, type BackendProtocol, type BackendTlsPolicy, type HealthCheckPolicy } from '../model/policy.ts';
import { tlsParameterOptions, type TlsVersion } from '../model/tls-parameters.ts';

/** The User-Agent of every probe, so that upstream access logs can tell probes from traffic. */
export const PROBE_USER_AGENT = 'signalbox-health-check';

/**
 * How much of a response body a probe reads before it stops and closes the connection. The verdict
 * comes from the status; the body is read only so that a well-behaved upstream sees a complete
 * exchange, and the cap keeps an endless body from holding the probe until its timeout.
 */
export const PROBE_BODY_LIMIT = 64 * 1024;

/** The protocol a probe speaks: the cluster's own, so that a probe fails when traffic would. */
export interface ProbeTransport {
  readonly protocol: BackendProtocol;
  /** Certificate checks for `https` and `h2`; null otherwise. */
  readonly tls: BackendTlsPolicy | null;
}

/** Plain HTTP/1.1: what a cluster without a protocol of its own is probed with. */
export const HTTP1_PROBE: ProbeTransport = Object.freeze({ protocol: 'http1', tls: null });

/** Where and how to probe. */
export interface ProbeTarget {
  /** IPv4 or IPv6 address, without brackets. */
  readonly address: string;
  readonly port: number;
  readonly check: Pick<HealthCheckPolicy, 'kind' | 'path' | 'timeoutMs' | 'expectedStatuses'>;
  /** Absent: plain HTTP/1.1. */
  readonly transport?: ProbeTransport;
}

/** The result of one probe. */
export interface ProbeOutcome {
  readonly pass: boolean;
  /** The response status, or null when no response arrived. */
  readonly status: number | null;
  /**
   * Why, as a short stable token for logs: `status 503`, `timeout`, or the error's code
   * (`ECONNREFUSED`, `ECONNRESET`, `HPE_INVALID_CONSTANT`…).
   */
  readonly reason: string;
}

/** The outcome of a probe whose signal was aborted (its verdict is not wanted). */
const ABORTED: ProbeOutcome = Object.freeze({ pass: false, status: null, reason: 'aborted' });

/** `address:port`, with an IPv6 address in brackets: the Host header and the `endpoint` label. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** True when `status` lies in one of the inclusive `ranges`. */
export function statusExpected(status: number, ranges: HealthCheckPolicy['expectedStatuses']): boolean {
  for (const [low, high] of ranges) if (status >= low && status <= high) return true;
  return false;
}

/**
 * One HTTP/1.1 `GET path` to the target on a connection of its own, closed afterwards
 * (`Connection: close`). The whole exchange — connect, headers and body up to
 * {@link PROBE_BODY_LIMIT} — must finish within `timeoutMs`. Never rejects: every failure is an
 * outcome. Aborting `signal` ends the probe at once (its outcome is then meaningless).
 *
 * The socket is unref'd: a probe never keeps the process alive.
 */
export function probe(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeOutcome> {
  // An abort listener added now would never run: a probe whose signal is already aborted does not
  // start, in any protocol (HTTP/2 would otherwise go on to a verdict).
  if (signal?.aborted === true) return Promise.resolve(ABORTED);
  if (target.check.kind === 'tcp') return probeTcp(target, signal);
  const protocol = target.transport?.protocol ?? 'http1';
  if (protocol === 'h2' || protocol === 'h2c') return probeHttp2(target, signal);
  const { address, port, check } = target;
  const tls = protocol === 'https' ? (target.transport?.tls ?? DEFAULT_BACKEND_TLS) : null;
  if (tls?.clientCertificate?.problem != null) return Promise.resolve({ pass: false, status: null, reason: PROBE_CLIENT_CERTIFICATE_UNUSABLE });
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest;
    try {
      const options = {
        host: address,
        port,
        path: check.path,
        method: 'GET',
        // A one-shot agent: no pooling, the socket is closed when the exchange ends.
        agent: false,
        headers: { Host: hostPort(address, port), 'User-Agent': PROBE_USER_AGENT, Accept: '*/*', Connection: 'close' },
        signal,
      } as const;
      req = tls === null ? request(options) : httpsRequest({ ...options, ...tlsOptions(address, tls) });
    } catch (err) {
      // A path the compiler should have refused (ERR_UNESCAPED_CHARACTERS): a failure, not a crash.
      resolve({ pass: false, status: null, reason: (err as NodeJS.ErrnoException).code ?? 'ERR_INVALID_REQUEST' });
      return;
    }
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    const fail = (reason: string, status: number | null = null): void => finish({ pass: false, status, reason });
    const timer = setTimeout(() => fail('timeout'), check.timeoutMs);
    timer.unref();

    req.on('socket', (socket) => socket.unref());
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.name));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      judgeBody(res, status, check, finish);
      // The connection broke in the middle of the body: traffic would have failed too.
      res.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.name, status));
      res.on('close', () => {
        if (!res.complete) fail('ECONNRESET', status);
      });
    });
    req.end();
  });
}

/** The reason of a passing TCP probe. */
export const PROBE_CONNECTED = 'connected';

/**
 * A TCP connect to the target, closed as soon as it succeeds: it passes when the connection opens
 * within `timeoutMs`, whatever the protocol above it (nothing is sent, not even a TLS ClientHello).
 * The natural probe of a layer-4 backend, and a cheap one for a server that has no health path.
 */
function probeTcp(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeOutcome> {
  const { address, port, check } = target;
  return new Promise((resolve) => {
    let settled = false;
    const socket = tcpConnect({ host: address, port });
    socket.unref();
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ pass: false, status: null, reason: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish({ pass: false, status: null, reason: 'timeout' }), check.timeoutMs);
    timer.unref();
    socket.once('connect', () => finish({ pass: true, status: null, reason: PROBE_CONNECTED }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ pass: false, status: null, reason: err.code ?? err.name }));
  });
}

/**
 * The reason a probe of a cluster whose client certificate Secret is unusable fails with, without
 * connecting: traffic fails the same way (502 upstream-tls), and never goes out without it.
 */
export const PROBE_CLIENT_CERTIFICATE_UNUSABLE = 'ERR_TLS_CLIENT_CERTIFICATE_UNUSABLE';

/**
 * The TLS options of a probe: the name to verify (and send as SNI unless it is an address), the CA,
 * verification, the versions and ciphers, and the client certificate the cluster presents to its endpoints (mTLS).
 */
function tlsOptions(address: string, tls: BackendTlsPolicy): { servername?: string; ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean; minVersion?: TlsVersion; maxVersion?: TlsVersion; ciphers?: string; checkServerIdentity?: (host: string, cert: import('node:tls').PeerCertificate) => Error | undefined } {
  const name = tls.serverName ?? address;
  const client = tls.clientCertificate;
  return {
    ...(isIP(name) === 0 ? { servername: name } : {}),
    ...(tls.caPem === null ? {} : { ca: tls.caPem }),
    ...(client === null || client.problem !== null ? {} : { cert: client.certPem, key: client.keyPem }),
    rejectUnauthorized: tls.verify,
    // The versions and ciphers of traffic: an endpoint that cannot speak them fails its probes too.
    ...tlsParameterOptions(tls),
    // The name checked is the Service's server name, as for traffic, not the address dialled; or,
    // when the policy names subject alternative names, one of them.
    checkServerIdentity: subjectAltNameCheck(tls) ?? ((_host, cert) => checkServerIdentity(name, cert)),
  };
}

/**
 * One HTTP/2 `GET path` on a session of its own (over TLS with ALPN `h2`, or cleartext with prior
 * knowledge), closed afterwards; the same verdict and limits as the HTTP/1.1 probe.
 */
function probeHttp2(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeOutcome> {
  const { address, port, check } = target;
  const tls = target.transport?.protocol === 'h2' ? (target.transport.tls ?? DEFAULT_BACKEND_TLS) : null;
  const authority = hostPort(address, port);
  if (tls?.clientCertificate?.problem != null) return Promise.resolve({ pass: false, status: null, reason: PROBE_CLIENT_CERTIFICATE_UNUSABLE });
  return new Promise((resolve) => {
    let settled = false;
    const session = tls === null
      ? http2Connect(`http://${authority}`)
      : http2Connect(`https://${authority}`, { ...tlsOptions(address, tls), ALPNProtocols: ['h2'] });
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      session.destroy();
      resolve(outcome);
    };
    const fail = (reason: string, status: number | null = null): void => finish({ pass: false, status, reason });
    const onAbort = (): void => fail('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => fail('timeout'), check.timeoutMs);
    timer.unref();
    session.on('connect', () => session.unref());
    session.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.name));
    let stream;
    try {
      stream = session.request({ [h2.HTTP2_HEADER_PATH]: check.path, [h2.HTTP2_HEADER_METHOD]: 'GET', 'user-agent': PROBE_USER_AGENT, accept: '*/*' }, { endStream: true });
    } catch (err) {
      fail((err as NodeJS.ErrnoException).code ?? 'ERR_INVALID_REQUEST');
      return;
    }
    stream.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.name));
    stream.on('response', (headers) => {
      judgeBody(stream, Number(headers[h2.HTTP2_HEADER_STATUS] ?? 0), check, finish);
    });
    stream.on('close', () => fail('ECONNRESET'));
  });
}

/**
 * The verdict of a response with `status`, given once its body has ended or once
 * {@link PROBE_BODY_LIMIT} of it has been read.
 */
function judgeBody(body: NodeJS.EventEmitter, status: number, check: ProbeTarget['check'], finish: (outcome: ProbeOutcome) => void): void {
  const verdict: ProbeOutcome = { pass: statusExpected(status, check.expectedStatuses), status, reason: `status ${status}` };
  let read = 0;
  body.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read >= PROBE_BODY_LIMIT) finish(verdict);
  });
  body.on('end', () => finish(verdict));
}
