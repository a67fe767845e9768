import type { ServerResponse } from 'node:http';
import { constants as h2, type Http2ServerResponse } from 'node:http2';
import type { RespondDecision } from '../../script/index.ts';
import { account, type RequestNote } from './accounting.ts';
import { clientGone } from './client-gone.ts';
import { refusesBody, statusFor, writeError, type ErrorReason } from './error-responses.ts';
import type { RouteContext } from './route-context.ts';
import type { ClientRequest, ClientResponse, ProxyState } from './proxy-state.ts';

/** Answers with signalbox's own error response and accounts for it. */
export function answerError(
  state: ProxyState,
  req: ClientRequest,
  res: ClientResponse,
  started: number,
  reason: ErrorReason,
  ctx: RouteContext | null,
  status = statusFor(reason),
  note?: RequestNote,
): void {
  // Nothing to answer a client that left (a held request expiring after its stream was reset).
  if (clientGone(res)) return account(state, req, 499, 0, started, ctx, null, 'client-closed', note);
  const refuse = refusesBody(reason);
  const bytes = writeError(res, reason, refuse && isHttp1(res), status);
  state.metrics.proxyErrors.labels(reason).inc();
  account(state, req, status, bytes, started, ctx, null, reason, note);
  dropRequestBody(req, res, refuse);
}

/** Whether `res` answers an HTTP/1.x request (an HTTP/2 response has a stream, and no Connection field). */
export function isHttp1(res: ClientResponse): boolean {
  return (res as Partial<Http2ServerResponse>).stream === undefined;
}

/**
 * After an answer of the proxy's own, the rest of the request body is not wanted: it is read and
 * discarded so that the connection stays usable — unless the answer `refuse`s the body (a 413):
 * then HTTP/1.1 has said `connection: close` and drains only until Node closes the connection,
 * and HTTP/2 resets the stream with NO_ERROR once the answer is out, so the client stops sending.
 */
export function dropRequestBody(req: ClientRequest, res: ClientResponse, refuse: boolean): void {
  if (req.readableEnded) return;
  const stream = (res as Partial<Http2ServerResponse>).stream;
  if (refuse && stream !== undefined) stream.close(h2.NGHTTP2_NO_ERROR);
  else req.resume();
}

/** Answers with a script's `respond` decision: its status, headers and body, nothing upstream. */
export function answerScript(state: ProxyState, req: ClientRequest, res: ClientResponse, started: number, ctx: RouteContext, respond: RespondDecision, note: RequestNote): void {
  if (clientGone(res)) return account(state, req, 499, 0, started, ctx, null, 'client-closed', note);
  const bodiless = respond.status === 204 || respond.status === 304;
  const body = req.method === 'HEAD' || bodiless ? '' : (respond.body ?? '');
  const headers: Record<string, string | number> = { ...respond.headers };
  if (body !== '' && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8';
  if (!bodiless) headers['content-length'] = Buffer.byteLength(respond.body ?? '');
  (res as ServerResponse).writeHead(respond.status, headers);
  res.end(body);
  account(state, req, respond.status, Buffer.byteLength(body), started, ctx, null, undefined, note);
  if (!req.readableEnded) req.resume();
}
