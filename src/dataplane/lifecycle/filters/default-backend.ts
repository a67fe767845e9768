import type { DefaultBackendFilter } from '../../../model/table.ts';
import { clientAddress } from '../../proxy-protocol/client-address.ts';
import { fetchErrorPage, type ErrorPage } from '../../upstream/error-page-client.ts';
import type { PreparedCluster } from '../../upstream/prepared-cluster.ts';
import { upstreamHeaders } from '../../upstream/upstream-headers.ts';
import { errorAnswer, statusFor, type ErrorReason } from '../error-responses.ts';
import type { LifecycleRequest } from '../request.ts';
import type { ResponseHead, ResponseStep } from '../request-step.ts';
import { answerHead } from '../response-phase.ts';
import { nextRequestId } from './request-id.ts';

/**
 * Requests whose error was already replaced by an error page: a route with two DefaultBackend
 * filters (the Ingress's own and the ConfigMap's) must not fetch a second page for the first one's
 * status — nginx does not intercept the answer of an error page location either.
 */
const paged = new WeakSet<LifecycleRequest>();

/** Fields of the client's request the page request does not carry: it has no body, and sets these itself. */
const OWN_FIELDS: ReadonlySet<string> = new Set(['content-length', 'x-code', 'x-format', 'x-original-uri', 'x-request-id', 'x-forwarded-for']);

/**
 * DefaultBackend's response side: a status among the filter's codes — the upstream's, or the
 * proxy's own answer — is replaced by the error backend's answer to a `GET /` (HEAD for HEAD)
 * carrying ingress-nginx's X-* fields; the upstream's body is dropped unread by the exchange. Any
 * other status costs nothing (no promise). When the error backend fails, the client gets
 * signalbox's answer for that failure.
 */
export class DefaultBackendStep implements ResponseStep {
  readonly #codes: ReadonlySet<number>;
  readonly #headers: DefaultBackendFilter['headers'];
  readonly #cluster: PreparedCluster;
  readonly #ownOnly: boolean;
  /** The client's fields left out of the page request: those it sets itself, so a client cannot choose their values. */
  readonly #dropped: ReadonlySet<string>;

  constructor(filter: DefaultBackendFilter, cluster: PreparedCluster) {
    this.#codes = new Set(filter.codes);
    this.#dropped = new Set([...OWN_FIELDS, ...filter.headers.map((h) => h.name)]);
    this.#ownOnly = filter.ownErrorsOnly === true;
    this.#headers = filter.headers;
    this.#cluster = cluster;
  }

  run(r: LifecycleRequest, head: ResponseHead): Promise<void> | null {
    if (!this.#codes.has(head.status) || (this.#ownOnly && head.own !== true) || paged.has(r)) return null;
    paged.add(r);
    const code = head.status;
    const close = closes(head);
    const req = r.req;
    const routed = r.routed!;
    const headers = upstreamHeaders(req.rawHeaders, { peer: clientAddress(req.socket), proto: r.listener.proto, port: r.listener.port, host: routed.host, addressHeader: r.table?.published.table.clientAddressHeader }, r.state.trusted);
    const dropped = this.#dropped;
    for (let i = headers.length - 2; i >= 0; i -= 2) if (dropped.has(headers[i]!.toLowerCase())) headers.splice(i, 2);
    const accept = req.headers.accept;
    headers.push('x-code', String(code));
    if (accept !== undefined && accept !== '') headers.push('x-format', accept);
    headers.push('x-original-uri', routed.target.path + routed.target.query);
    for (const h of this.#headers) headers.push(h.name, h.value);
    headers.push('x-request-id', requestIdOf(r));
    headers.push('x-forwarded-for', r.state.clientIpOf(req));
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    // nginx's `rewrite (.*) / break`: the page is asked for at `/`, the query kept.
    const page = fetchErrorPage(this.#cluster, req, r.state.clientIpOf, { method, path: `/${routed.target.query}`, headers });
    return page.then((answer) => {
      r.noteErrorPage(typeof answer === 'string' ? `${code} error page failed: ${answer}` : `${code} error page ${answer.status}`);
      r.state.metrics.errorPages.labels(typeof answer === 'string' ? 'failed' : 'page').inc();
      if (typeof answer === 'string') fail(head, answer);
      else replace(head, answer, method);
      if (close) head.headers.push('connection', 'close');
    });
  }
}

/** The request id the page request carries: the one the upstream got or would have got, else the client's, else a new one. */
function requestIdOf(r: LifecycleRequest): string {
  if (r.requestId !== null) return r.requestId;
  const own = r.req.headers['x-request-id'];
  return typeof own === 'string' && own !== '' ? own : nextRequestId();
}

/** Whether the answer being replaced closes the connection (an unread request body): the page's must too. */
function closes(head: ResponseHead): boolean {
  for (let i = 0; i < head.headers.length; i += 2) if (head.headers[i] === 'connection' && head.headers[i + 1] === 'close') return true;
  return false;
}

function replace(head: ResponseHead, page: ErrorPage, method: 'GET' | 'HEAD'): void {
  head.status = page.status;
  head.headers = ['server', 'signalbox', ...page.headers];
  // A HEAD answer has no body to measure: the page's own Content-Length says what GET would send.
  if (method === 'HEAD' && page.length !== null) head.headers.push('content-length', String(page.length));
  head.body = page.body;
}

/** The error backend failed: signalbox's own answer for that, as nginx answers its own error then. */
function fail(head: ResponseHead, reason: ErrorReason): void {
  const answer = errorAnswer(reason);
  const own = answerHead(statusFor(reason), answer.headers, answer.body);
  head.status = own.status;
  head.headers = own.headers;
  head.body = own.body;
  head.own = true;
}
