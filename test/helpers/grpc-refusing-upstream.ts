/**
 * An HTTP/2 cleartext upstream that never serves a gRPC call: it refuses each stream the way a
 * server at its limit or shutting down does, or answers it UNAVAILABLE after a delay, and logs
 * every call it saw (its `x-call` metadata and `grpc-timeout`). What the proxy does next is the
 * subject of the tests.
 */
import { once } from 'node:events';
import { constants, createServer, type Http2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { FRAME, frame, settingsFrame } from './h2-frames.ts';

/**
 * - `refuse`: RST_STREAM with REFUSED_STREAM (RFC 9113 §8.7: the stream was not processed).
 * - `goaway`: GOAWAY whose last stream id is below the call's, then the connection is closed (the
 *   stream was not processed). Spoken in raw frames: node:http2 raises a GOAWAY's last stream id
 *   to the last stream it received. Its calls are logged without metadata (HPACK is not decoded).
 * - `unavailable`: after `delayMs`, a Trailers-Only response with grpc-status 14.
 */
export type RefusalMode = { readonly kind: 'refuse' } | { readonly kind: 'goaway' } | { readonly kind: 'unavailable'; readonly delayMs: number };

/** A call as the refusing upstream saw it. */
export interface RefusedCall {
  readonly call: string;
  readonly grpcTimeout: string | undefined;
}

/** A running refusing upstream. */
export interface RefusingUpstream {
  readonly port: number;
  readonly log: RefusedCall[];
  /** Resolves when the next call arrives (`refuse` and `unavailable` modes). */
  nextCall(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a refusing upstream on 127.0.0.1:0. */
export async function startRefusingUpstream(mode: RefusalMode): Promise<RefusingUpstream> {
  if (mode.kind === 'goaway') return startGoingAway();
  const log: RefusedCall[] = [];
  const waiters: (() => void)[] = [];
  const server: Http2Server = createServer();
  const sessions = new Set<Http2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => {});
    log.push({ call: String(headers['x-call'] ?? ''), grpcTimeout: headers['grpc-timeout'] as string | undefined });
    for (const waiter of waiters.splice(0)) waiter();
    switch (mode.kind) {
      case 'refuse':
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return;
      case 'unavailable':
        stream.resume();
        setTimeout(() => {
          if (stream.destroyed) return;
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'busy' }, { endStream: true });
        }, mode.delayMs);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    log,
    nextCall: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
}

/** The `goaway` mode: frames by hand (see {@link RefusalMode}). */
async function startGoingAway(): Promise<RefusingUpstream> {
  const log: RefusedCall[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write(settingsFrame());
    let buffered = Buffer.alloc(0);
    let prefaceRead = false;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!prefaceRead) {
        if (buffered.length < 24) return;
        buffered = buffered.subarray(24);
        prefaceRead = true;
      }
      while (buffered.length >= 9) {
        const length = buffered.readUIntBE(0, 3);
        if (buffered.length < 9 + length) return;
        const type = buffered[3]!;
        const flags = buffered[4]!;
        const streamId = buffered.readUInt32BE(5) & 0x7fffffff;
        buffered = buffered.subarray(9 + length);
        if (type === FRAME.SETTINGS && (flags & 1) === 0) socket.write(settingsFrame([], true));
        if (type === FRAME.HEADERS) {
          log.push({ call: '', grpcTimeout: undefined });
          const payload = Buffer.alloc(8);
          payload.writeUInt32BE(Math.max(0, streamId - 2), 0); // the last stream processed: none of this one
          payload.writeUInt32BE(0, 4); // NO_ERROR
          socket.end(frame(FRAME.GOAWAY, 0, 0, payload));
          return;
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    log,
    nextCall: () => new Promise(() => {}),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
