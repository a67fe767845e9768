import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { errors, type Dispatcher } from 'undici';
import { subjectAltNameCheck } from '../../model/backend-identity.ts';
import type { BackendTlsPolicy } from '../../model/policy.ts';
import { tlsParameterOptions } from '../../model/tls-parameters.ts';
import { clientCertificateOptions, keepTlsAlert } from './client-certificate.ts';
import { H1Connection, type ConnectionOwner, type H1Handler, type H1Request } from './h1-connection.ts';

/** How an {@link H1Pool} reaches its endpoint. */
export interface H1PoolOptions {
  readonly address: string;
  readonly port: number;
  /** TLS with the cluster's certificate checks; null for cleartext. */
  readonly tls: BackendTlsPolicy | null;
  readonly connectMs: number;
  /** At most this many connections (0: no limit); further requests queue. */
  readonly connections: number;
  /** Idle time a kept-alive connection is kept without a `Keep-Alive` hint (undici's 4 s). */
  readonly keepAliveMs?: number;
  readonly keepAliveMaxMs?: number;
  /** Seconds each successful connect (TCP and TLS) took. */
  readonly onConnected?: (seconds: number) => void;
}

/** A controller for a request that never got a connection: there is nothing to pause or abort. */
const DETACHED: Dispatcher.DispatchController = { aborted: false, paused: false, reason: null, pause() {}, resume() {}, abort() {} };

/**
 * The keep-alive HTTP/1.1 connections of one endpoint of an `http1` or `https` cluster: the
 * `dispatch(options, handler)` contract of undici's Pool, for the hot path. Idle connections are
 * reused most recent first (the warmest, and the least likely to have been closed by the
 * upstream's own idle timer); with all connections busy and the limit reached, requests wait in
 * order. `close()` lets requests in flight and queued finish; `destroy()` fails them.
 */
export class H1Pool implements ConnectionOwner {
  readonly #options: H1PoolOptions;
  readonly keepAliveMs: number;
  readonly keepAliveMaxMs: number;
  readonly #idle: H1Connection[] = [];
  readonly #all = new Set<H1Connection>();
  #connecting = 0;
  readonly #queue: H1Request[] = [];
  #closed = false;
  #destroyed = false;
  #whenClosed: (() => void) | null = null;
  /** The last TLS session, offered to the next handshake to save a round trip. */
  #session: Buffer | undefined;

  constructor(options: H1PoolOptions) {
    this.#options = options;
    this.keepAliveMs = options.keepAliveMs ?? 4_000;
    this.keepAliveMaxMs = options.keepAliveMaxMs ?? 600_000;
  }

  /** Connections open or opening. */
  get size(): number {
    return this.#all.size + this.#connecting;
  }

  /** Sends a request; its outcome goes to `handler`. False when the pool is closed (the handler is told). */
  dispatch(options: Dispatcher.DispatchOptions, handler: H1Handler): boolean {
    if (this.#closed) {
      const err = this.#destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError();
      queueMicrotask(() => handler.onResponseError?.(DETACHED, err));
      return false;
    }
    this.#queue.push({ options, handler, replayed: false, lost: null });
    this.#drain();
    return true;
  }

  /** Stops taking requests; resolves once those in flight and queued are done. */
  close(): Promise<void> {
    this.#closed = true;
    return new Promise((resolve) => {
      this.#whenClosed = resolve;
      this.#settle();
    });
  }

  /** Fails every queued and in-flight request and closes every connection. */
  async destroy(): Promise<void> {
    this.#closed = this.#destroyed = true;
    const err = new errors.ClientDestroyedError();
    for (const req of this.#queue.splice(0)) req.handler.onResponseError?.(DETACHED, err);
    for (const conn of [...this.#all]) conn.destroy(err);
    this.#settle();
  }

  released(conn: H1Connection): void {
    const next = this.#queue.shift();
    if (next !== undefined) return conn.run(next);
    if (this.#closed) return conn.destroy();
    this.#idle.push(conn);
    conn.idle(this.keepAliveMs);
    this.#settle();
  }

  closed(conn: H1Connection, replay: H1Request | null): void {
    this.#all.delete(conn);
    const at = this.#idle.indexOf(conn);
    if (at >= 0) this.#idle.splice(at, 1);
    if (replay !== null) {
      // Sent again on a connection of its own: an idle one may be as stale as the one just lost.
      this.#queue.unshift(replay);
      this.#open();
      return;
    }
    this.#drain();
    this.#settle();
  }

  #drain(): void {
    const queue = this.#queue;
    while (queue.length > 0) {
      const conn = this.#idle.pop();
      if (conn === undefined) break;
      if (!conn.usable) {
        conn.destroy();
        continue;
      }
      conn.run(queue.shift()!);
    }
    const limit = this.#options.connections;
    while (queue.length > this.#connecting && (limit <= 0 || this.size < limit)) this.#open();
  }

  #open(): void {
    if (this.#destroyed) return;
    this.#connecting++;
    const started = performance.now();
    this.#connect((err, socket) => {
      this.#connecting--;
      if (err !== null) {
        // The request this connection was opened for fails: the exchange may try another endpoint.
        const req = this.#queue.shift();
        if (req !== undefined) req.handler.onResponseError?.(DETACHED, req.lost ?? err);
        this.#drain();
        this.#settle();
        return;
      }
      this.#options.onConnected?.((performance.now() - started) / 1000);
      const conn = new H1Connection(socket!, this);
      this.#all.add(conn);
      if (this.#destroyed) return conn.destroy();
      this.released(conn);
    });
  }

  #connect(callback: (err: Error | null, socket: Socket | null) => void): void {
    const { address, port, tls, connectMs } = this.#options;
    const client = tls === null ? {} : clientCertificateOptions(tls);
    // A Service naming an unusable client certificate never connects without it (see client-certificate.ts).
    if (client instanceof Error) return void queueMicrotask(() => callback(client, null));
    let done = false;
    const finish = (err: Error | null, socket: Socket | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      callback(err, socket);
    };
    let socket: Socket;
    if (tls === null) {
      socket = netConnect({ host: address, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
      socket.once('connect', () => finish(null, socket));
    } else {
      // The name to verify is the Service's, else the endpoint's address; SNI never carries an IP.
      const name = tls.serverName ?? address;
      const identity = subjectAltNameCheck(tls);
      const secure: TLSSocket = tlsConnect({
        host: address,
        port,
        ...(isIP(name) === 0 ? { servername: name } : {}),
        ...(tls.caPem === null ? {} : { ca: tls.caPem }),
        rejectUnauthorized: tls.verify,
        ...tlsParameterOptions(tls),
        ...(identity === undefined ? {} : { checkServerIdentity: identity }),
        ...client,
        ALPNProtocols: ['http/1.1'],
        session: this.#session,
        noDelay: true,
        keepAlive: true,
        keepAliveInitialDelay: 60_000,
      } as ConnectionOptions);
      secure.on('session', (s: Buffer) => (this.#session = s));
      secure.once('secureConnect', () => {
        keepTlsAlert(secure);
        finish(null, secure);
      });
      socket = secure;
    }
    socket.once('error', (err) => {
      if (tls !== null) this.#session = undefined;
      finish(err, null);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      finish(new errors.ConnectTimeoutError(), null);
    }, connectMs > 0 ? connectMs : 10_000);
  }

  /** Resolves close() once nothing is left to do, closing the idle connections. */
  #settle(): void {
    if (!this.#closed || this.#whenClosed === null) return;
    if (this.#queue.length > 0 || this.#connecting > 0) return;
    for (const conn of this.#all) if (!this.#idle.includes(conn)) return;
    // Taken first: closing the idle connections below comes back here through closed().
    const resolve = this.#whenClosed;
    this.#whenClosed = null;
    for (const conn of this.#idle.splice(0)) conn.destroy();
    resolve();
  }
}
