import type { ServerResponse } from 'node:http';
import type { ClientResponse } from './proxy-state.ts';
import { isTrailersOnly, setResponseHead } from '../upstream/trailers-only.ts';
import type { LifecycleRequest } from './request.ts';
import type { ResponseHead, ResponseStep } from './request-step.ts';

/**
 * Runs a route's response-side filters, in the order the plan gives them (the reverse of the
 * route's filters), on the response head. Null when
 * every step finished at once (header filters: the common case, no promise made); otherwise a
 * promise that settles once the remaining steps have run, each after the one before.
 */
export function runResponsePhase(r: LifecycleRequest, head: ResponseHead, steps: readonly ResponseStep[], from = 0): Promise<void> | null {
  for (let i = from; i < steps.length; i++) {
    const pending = steps[i]!.run(r, head);
    if (pending !== null) return pending.then(() => runResponsePhase(r, head, steps, i + 1) ?? undefined);
  }
  return null;
}

/**
 * The head of a response of the proxy's own (an error answer, a redirect, a script's `respond`)
 * as the response phase works on it: its fields flat, without Content-Length — {@link writeAnswer}
 * sets that from the body the phase leaves.
 */
export function answerHead(status: number, headers: Readonly<Record<string, string | number>>, body: string): ResponseHead {
  const fields: string[] = [];
  for (const name of Object.keys(headers)) if (name !== 'content-length') fields.push(name, String(headers[name]));
  return { status, headers: fields, body, own: true };
}

/**
 * Writes a head whose body is the proxy's own (`head.body`): Content-Length from that body, except
 * on 204 and 304, which have no content, and on a head that carries one already (an error page's
 * answer to HEAD); no body on those or in answer to HEAD. Returns the bytes of body written.
 */
export function writeAnswer(res: ClientResponse, head: ResponseHead, method: string | undefined): number {
  const bodiless = head.status === 204 || head.status === 304;
  const text = head.body ?? '';
  // No Content-Length on an HTTP/2 gRPC answer: it has no body, only its Trailers-Only head.
  if (!bodiless && !hasLength(head.headers) && !(text === '' && isTrailersOnly(res, head.headers))) head.headers.push('content-length', String(Buffer.byteLength(text)));
  const sent = bodiless || method === 'HEAD' ? '' : text;
  if (sent === '' && isTrailersOnly(res, head.headers)) {
    // Set, not written: the head leaves with end() as one HEADERS frame that ends the stream,
    // where gRPC clients read a Trailers-Only status (see trailers-only.ts).
    setResponseHead(res, head.status, head.headers);
    res.end();
    return 0;
  }
  (res as ServerResponse).writeHead(head.status, head.headers);
  res.end(sent);
  return Buffer.byteLength(sent);
}

/** Whether a flat field list holds a Content-Length (lower-case names, as answerHead and error pages give them). */
function hasLength(fields: readonly string[]): boolean {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === 'content-length') return true;
  return false;
}
