import type { Dispatcher } from 'undici';
import { requestEnded, requestStarted } from '../../balancer/balancer.ts';
import { clientGone } from '../lifecycle/client-gone.ts';
import type { Exchange, Headers } from './exchange.ts';
import type { Upstream } from './prepared-cluster.ts';
import { CLIENT_CERTIFICATE_UNUSABLE } from './client-certificate.ts';
import { grpcHeadOutcome, grpcTrailersFail } from './grpc-outcome.ts';
import { H2RequestBody } from './h2-request-body.ts';

/**
 * One try of an exchange against one endpoint: the pool's dispatch handler (H1Pool or undici's Pool). It keeps the endpoint's
 * counters (in flight, latency) and feeds passive outlier detection; everything else goes to the
 * exchange, unless the exchange has moved on to another attempt.
 */
export class Attempt implements Dispatcher.DispatchHandler {
  readonly exchange: Exchange;
  readonly upstream: Upstream;
  /** When the request was handed to a connection (performance.now() ms); 0 before. */
  dispatched = 0;
  /** Whether the request left for the upstream (a failure before that is a connect failure). */
  sent = false;
  #controller: Dispatcher.DispatchController | null = null;
  #abandoned = false;
  #ended = false;

  /** The request body this attempt sends (a retried gRPC call gets a replay of its own). */
  readonly body: Dispatcher.DispatchOptions['body'];

  constructor(exchange: Exchange, upstream: Upstream, body: Dispatcher.DispatchOptions['body'] = exchange.options.body) {
    this.exchange = exchange;
    this.upstream = upstream;
    this.body = body;
  }

  /** Whether undici handed the request to a connection (before that there is nothing to abort). */
  get started(): boolean {
    return this.#controller !== null;
  }

  /**
   * Ignores whatever this attempt still reports and stops it, at once or as soon as it gets a
   * connection (no outcome is recorded for the endpoint).
   */
  abandon(reason: Error = new Error('retried on another endpoint')): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.abort(reason);
  }

  abort(reason: Error): void {
    // An HTTP/2 upstream still reading the body: its stream is reset first (h2-request-body.ts).
    const body = this.body;
    if (this.#controller !== null && body instanceof H2RequestBody) body.resetUpstream(reason);
    this.#controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.dispatched = performance.now();
    requestStarted(this.upstream.stats);
    // The client may have left while the request waited for a free upstream connection, or for
    // its connection to open: aborted here, before undici writes a byte of it.
    if (this.#abandoned || clientGone(this.exchange.res)) controller.abort(new Error('client closed the connection'));
    else this.exchange.bodyStarted();
  }

  onRequestSent(): void {
    this.sent = true;
    if (!this.#abandoned) this.exchange.bodySent();
  }

  onBodySent(): void {
    this.sent = true;
    this.exchange.bodyProgress();
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    if (this.#abandoned || statusCode < 200) return; // 1xx: the client got its 100 from expect-continue.ts; others are not forwarded.
    this.sent = true;
    if (!this.exchange.grpc) this.#outcome(statusCode >= 500);
    else {
      // A gRPC call says how it went in its grpc-status: in a Trailers-Only head, or in the
      // trailers after its messages, where the outcome waits for it (as Envoy's does).
      const failed = grpcHeadOutcome(statusCode, headers);
      if (failed !== null) this.#outcome(failed);
      else this.#grpcOutcomeDeferred = true;
    }
    if (clientGone(this.exchange.res)) {
      controller.abort(new Error('client went away'));
      return;
    }
    if (!this.exchange.responseStart(this, statusCode, headers, controller)) this.#end();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#abandoned) this.exchange.responseData(controller, chunk);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Headers): void {
    this.#end();
    if (this.#grpcOutcomeDeferred && !this.#abandoned) this.#outcome(grpcTrailersFail(trailers));
    if (!this.#abandoned) this.exchange.responseEnd(this, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#end();
    if (this.#abandoned) return;
    const code = (err as { code?: string }).code;
    // An unusable client certificate is the Service's fault, not the endpoint's: nobody is ejected.
    if (code !== 'UND_ERR_ABORTED' && code !== CLIENT_CERTIFICATE_UNUSABLE && !clientGone(this.exchange.res)) this.#outcome(true);
    this.exchange.responseError(this, err);
  }

  #outcomeRecorded = false;
  /** A gRPC call's head was a 200 without grpc-status: its trailers decide its outcome. */
  #grpcOutcomeDeferred = false;

  /** Feeds outlier detection once per attempt: the first decisive thing the upstream did. */
  #outcome(failed: boolean): void {
    if (this.#outcomeRecorded) return;
    this.#outcomeRecorded = true;
    this.exchange.cluster.recordOutcome(this.upstream, failed, performance.now());
  }

  #end(): void {
    if (this.#ended || this.dispatched === 0) return;
    this.#ended = true;
    const now = performance.now();
    requestEnded(this.upstream.stats, now - this.dispatched, now);
  }
}
