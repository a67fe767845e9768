import type { ServerResponse } from 'node:http';
import type { RespondDecision } from '../../script/index.ts';
import { account, type RequestNote } from './accounting.ts';
import { clientGone } from './client-gone.ts';
import { statusFor, writeError, type ErrorReason } from './error-responses.ts';
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
  const bytes = writeError(res, reason, false, status);
  state.metrics.proxyErrors.labels(reason).inc();
  account(state, req, status, bytes, started, ctx, null, reason, note);
  // The request body is not wanted; read and discard it so the connection stays usable.
  if (!req.readableEnded) req.resume();
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
