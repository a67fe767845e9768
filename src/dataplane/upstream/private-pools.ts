/**
 * Upstream connections that carry one client connection's requests only: for clusters whose
 * Service asks for the PROXY protocol (`signalbox.dev/proxy-protocol`), each upstream connection
 * starts with a header naming the client, so it can never be shared with another client (HAProxy
 * marks such connections private for the same reason). A client connection gets a pool per
 * endpoint, made on its first request there and closed when the client connection closes; it keeps
 * its connections alive between that client's requests, as the shared pools do.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { errors, Pool, type buildConnector, type Dispatcher } from 'undici';
import { clientAddress } from '../proxy-protocol/client-address.ts';
import { encodeHeader, type ProxyProtocolVersion } from '../proxy-protocol/header.ts';
import { subjectAltNameCheck } from '../../model/backend-identity.ts';
import type { BackendProtocol, BackendTlsPolicy } from '../../model/policy.ts';
import { tlsParameterOptions, tlsParametersKey } from '../../model/tls-parameters.ts';
import { clientCertificateKey, clientCertificateOptions, keepTlsAlert } from './client-certificate.ts';

/** What a private pool needs of its cluster and endpoint. */
export interface PrivateTarget {
  readonly address: string;
  readonly port: number;
  readonly connectMs: number;
  readonly protocol: BackendProtocol;
  readonly tls: BackendTlsPolicy | null;
  readonly version: ProxyProtocolVersion;
}

/** A client connection: its socket (HTTP/1.x), or its HTTP/2 session, whose streams share one socket. */
export interface ClientConnection {
  once(event: 'close', listener: () => void): unknown;
}

const byClient = new WeakMap<ClientConnection, Map<string, Pool>>();

/**
 * The pool of one client connection (`owner`, whose addresses `client` gives) to `target`: made on
 * first use, closed with the client connection.
 */
export function privatePool(owner: ClientConnection, client: Socket, target: PrivateTarget): Dispatcher {
  let pools = byClient.get(owner);
  if (pools === undefined) {
    const made = new Map<string, Pool>();
    pools = made;
    byClient.set(owner, made);
    owner.once('close', () => {
      for (const pool of made.values()) pool.close().catch(() => {});
      made.clear();
    });
  }
  const key = `${target.address}|${target.port}|${target.protocol}|${target.version}|${target.tls?.serverName ?? ''}|${target.tls === null ? '' : `${clientCertificateKey(target.tls)}|${tlsParametersKey(target.tls)}`}|${JSON.stringify(target.tls?.subjectAltNames ?? [])}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    const header = encodeHeader(target.version, {
      sourceAddress: clientAddress(client),
      sourcePort: client.remotePort ?? 0,
      destinationAddress: client.localAddress ?? '',
      destinationPort: client.localPort ?? 0,
    });
    const host = target.address.includes(':') ? `[${target.address}]` : target.address;
    pool = new Pool(`${target.tls === null ? 'http' : 'https'}://${host}:${target.port}`, {
      allowH2: target.protocol === 'h2' || target.protocol === 'h2c',
      ...(target.protocol === 'h2c' ? { useH2c: true } : {}),
      pipelining: 1,
      keepAliveTimeout: 4_000,
      maxHeaderSize: 64 * 1024,
      strictContentLength: true,
      connect: proxiedConnector(target, header),
    });
    pools.set(key, pool);
  }
  return pool;
}

/**
 * Connects to the endpoint, writes the PROXY header first thing on the TCP connection — before a
 * TLS handshake, as the protocol requires — and then, for a TLS protocol, runs the handshake with
 * the cluster's certificate checks.
 */
function proxiedConnector(target: PrivateTarget, header: Buffer): buildConnector.connector {
  return (_opts, callback) => {
    let done = false;
    const finish = (err: Error | null, socket: Socket | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err !== null) callback(err, null);
      else callback(null, socket!);
    };
    const client = target.tls === null ? {} : clientCertificateOptions(target.tls);
    if (client instanceof Error) return callback(client, null);
    const raw = netConnect({ host: target.address, port: target.port, noDelay: true });
    const timer = setTimeout(() => {
      raw.destroy();
      finish(new errors.ConnectTimeoutError(), null);
    }, target.connectMs);
    raw.once('error', (err) => finish(err, null));
    raw.once('connect', () => {
      raw.write(header);
      const tls = target.tls;
      if (tls === null) return finish(null, raw);
      const name = tls.serverName ?? undefined;
      const identity = subjectAltNameCheck(tls);
      const secure = tlsConnect({
        socket: raw,
        ...(name === undefined ? {} : { servername: name }),
        ...(tls.caPem === null ? {} : { ca: tls.caPem }),
        rejectUnauthorized: tls.verify,
        ...tlsParameterOptions(tls),
        ...(identity === undefined ? {} : { checkServerIdentity: identity }),
        ...client,
        ALPNProtocols: target.protocol === 'h2' ? ['h2'] : ['http/1.1'],
      });
      secure.once('secureConnect', () => {
        keepTlsAlert(secure);
        finish(null, secure);
      });
      secure.once('error', (err) => finish(err, null));
    });
  };
}
