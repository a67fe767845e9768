import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { errors } from 'undici';
import type { RequestHead } from './h1-connection.ts';

/** What a body being written tells its connection. */
export interface BodyEvents {
  /** A chunk went to the socket. */
  progress(chunk: Buffer): void;
  /** The whole body (and its framing) went to the socket. */
  done(): void;
  /** The body cannot be sent: the client went away, or it is not the length it declared. */
  failed(err: Error): void;
}

/** A body being streamed upstream. */
export interface BodyWriter {
  /** Stops reading the body (the response came, or the request failed). */
  stop(): void;
}

/**
 * Streams a request body after its head onto `socket`: as is under a Content-Length — which must
 * be met exactly (more or fewer bytes fail the request, `UND_ERR_REQ_CONTENT_LENGTH_MISMATCH`, as
 * undici's strictContentLength does) — or chunked. Backpressure goes both ways: a socket that
 * takes no more pauses the client's body until it drains.
 */
export function writeBody(socket: Socket, body: Readable, head: RequestHead, events: BodyEvents): BodyWriter {
  const length = head.length;
  const chunked = length < 0;
  let written = 0;
  let stopped = false;
  socket.write(head.text + '\r\n', 'latin1');
  const onDrain = (): void => {
    if (!stopped) body.resume();
  };
  const onData = (chunk: Buffer): void => {
    if (stopped) return;
    written += chunk.length;
    if (!chunked && written > length) return fail(new errors.RequestContentLengthMismatchError());
    let ok: boolean;
    if (chunked) {
      if (chunk.length === 0) return;
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else ok = socket.write(chunk);
    events.progress(chunk);
    if (!ok) {
      body.pause();
      socket.once('drain', onDrain);
    }
  };
  const onEnd = (): void => {
    if (stopped) return;
    if (!chunked && written !== length) return fail(new errors.RequestContentLengthMismatchError());
    if (chunked) socket.write('0\r\n\r\n', 'latin1');
    stop();
    events.done();
  };
  const onError = (err: Error): void => fail(err);
  const onClose = (): void => {
    if (!body.readableEnded) fail(new errors.RequestAbortedError());
  };
  const stop = (): void => {
    stopped = true;
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onError);
    body.off('close', onClose);
    socket.off('drain', onDrain);
  };
  const fail = (err: Error): void => {
    if (stopped) return;
    stop();
    events.failed(err);
  };
  body.on('data', onData);
  body.on('end', onEnd);
  body.on('error', onError);
  body.on('close', onClose);
  if (body.readableEnded) queueMicrotask(onEnd);
  return { stop };
}
