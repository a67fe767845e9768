import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { constants as h2, type Http2ServerResponse } from 'node:http2';
import type { Dispatcher } from 'undici';
import { account } from '../lifecycle/accounting.ts';
import { Attempt } from './attempt.ts';
import { breakResponse, clientGone } from '../lifecycle/client-gone.ts';
import { isGrpcRequest, ownErrorAnswer, reasonForUpstreamError, statusFor, writeError, type ErrorReason } from '../lifecycle/error-responses.ts';
import { deadlineMs, formatGrpcTimeout, grpcTimeoutMs } from '../lifecycle/grpc-deadline.ts';
import { withGrpcTimeout } from './grpc-retry.ts';
import { grpcRetryReasonFor, RetryAllowance, retryReasonFor, type RetryReason } from './retry-allowance.ts';
import type { PreparedCluster, Upstream } from './prepared-cluster.ts';
import type { ClientRequest, ClientResponse, ProxyState } from '../lifecycle/proxy-state.ts';
import type { ProxyRequest } from '../lifecycle/request.ts';
import type { ResponseHead } from '../lifecycle/request-step.ts';
import { answerHead, runResponsePhase, writeAnswer } from '../lifecycle/response-phase.ts';
import type { RouteContext } from '../lifecycle/route-context.ts';
import type { MirrorBody } from './mirror-body.ts';
import { privatePool, type ClientConnection } from './private-pools.ts';
import { RequestBodyWatch } from './request-body-watch.ts';
import { sendContinue } from '../lifecycle/expect-continue.ts';
import { ResponsePacer } from './response-pacer.ts';
import { ResponseEncoder } from './response-encoder.ts';
import { ResponseStallTimer } from './response-stall-timer.ts';
import { writeResponseHead } from './trailers-only.ts';
import { connectionListed, isHopByHopResponseHeader } from './upstream-headers.ts';

/** Methods whose requests may be repeated without changing the result (RFC 9110 §9.2.2). */

/** Header fields as undici hands them over. */
export type Headers = Record<string, string | string[] | undefined>;

/**
 * Why an attempt failed in a way another endpoint might not; `refused` and `grpc-status` are a
 * gRPC call's (see grpc-retry.ts).
 */

/**
 * One proxied request from the client's side: the response being written, retries, accounting. Each
 * try upstream is an {@link Attempt}; a retry abandons the failed attempt (its late callbacks are
 * ignored) and dispatches a new one to a different endpoint. Only requests without a body are
 * retried — a streamed body cannot be replayed — except gRPC calls to an HTTP/2 cluster, whose body
 * is held for a replay up to a bound (grpc-retry.ts); a retry never happens once response headers
 * have gone to the client. A slow client is bounded here too: the request body's idle and total
 * limits (RequestBodyTimer), a client that takes none of its response (ResponseStallTimer), and a
 * body the upstream answered without waiting for, which is not read to its end; so is a body past
 * the route's BodyLimit, counted as it streams (413).
 */
export class Exchange {
  /** The request in the lifecycle: its route's plan, RouteScript decisions, note, table. */
  readonly request: ProxyRequest;
  readonly state: ProxyState;
  readonly req: ClientRequest;
  readonly res: ClientResponse;
  readonly ctx: RouteContext;
  readonly cluster: PreparedCluster;
  readonly options: Dispatcher.DispatchOptions;
  readonly #started: number;
  /** Set-Cookie for cookie affinity, added to the response; null when none is due. */
  setCookie: string | null = null;
  /** Whether the client came over TLS (affinity cookies are then `Secure`). */
  secure = false;
  /**
   * Whether the request may run its whole lifecycle again on the table of the moment: once, when an
   * attempt failed before any answer, no other endpoint of this table is left, and a newer table has
   * been swapped in meanwhile — the endpoint went away in a deploy, and the newest table knows where
   * the backend is now (or holds the request until it is back).
   */
  #mayReroute = true;
  /** Body chunks that arrived while an asynchronous response filter ran; null otherwise. */
  #held: Buffer[] | null = null;
  /** The end of a response that came while its head was held. */
  #heldEnd: { readonly attempt: Attempt; readonly trailers: Headers } | null = null;
  /** `timeouts.requestMs` of the route, running from the request's arrival; null when not set. */
  #requestTimer: NodeJS.Timeout | null = null;
  #attempt: Attempt | null = null;
  /** What the next attempt sends: the request's options, or a retried gRPC call's replay of them. */
  #attemptOptions: Dispatcher.DispatchOptions;
  /** A gRPC call to an HTTP/2 cluster: retried only as gRPC allows (grpc-retry.ts). */
  readonly #grpc: boolean;
  /** The call's `grpc-timeout` in milliseconds from arrival; 0 without one. */
  readonly #grpcTimeoutMs: number;
  /** When the first attempt was sent (performance.now()); the retry policy's `timeoutMs` counts from it. */
  #firstSent = -1;
  /** Endpoints tried so far, only kept once a retry is considered. */
  #tried: Upstream[] | null = null;
  /** The retries left and what they may be taken on. */
  readonly #retries: RetryAllowance;
  #status = 0;
  #bytes = 0;
  /** Content-Length of the upstream response, -1 when unknown. */
  #expected = -1;
  /** A whole body that arrived in one chunk, held to be written with `end()` in one system call. */
  #whole: Buffer | null = null;
  /** The response can have no body (HEAD, 204, 304): whatever the upstream sends anyway is dropped. */
  #bodiless = false;
  #done = false;
  /** The request body's deadlines, BodyLimit and mirror copies; null without a body. */
  readonly #body: RequestBodyWatch | null;
  /** Made at the first write the client refuses: how long it has taken none of its response. */
  #stall: ResponseStallTimer | null = null;
  /** The route's ResponseRate on this response; null when not paced. */
  readonly #pacer: ResponsePacer | null;
  /** The paused body waits for the client to drain (as well as, or instead of, the pacer). */
  #awaitingDrain = false;
  /** What the body streams through when the route's Compress filter compresses it; null otherwise. */
  #encoder: ResponseEncoder | null = null;

  constructor(request: ProxyRequest, ctx: RouteContext, options: Dispatcher.DispatchOptions) {
    const state = request.state;
    this.request = request;
    this.state = state;
    this.req = request.req;
    this.res = request.res;
    this.ctx = ctx;
    this.cluster = ctx.cluster;
    this.options = options;
    this.#attemptOptions = options;
    this.#started = request.started;
    const requestMs = deadlineMs(request.routed!.plan.requestMs, this.req.headers);
    if (requestMs > 0) this.#requestTimer = setTimeout(this.#onRequestTimeout, requestMs - (performance.now() - this.#started));
    const { protocol, retry } = ctx.cluster.policy;
    this.#grpc = (protocol === 'h2' || protocol === 'h2c') && isGrpcRequest(this.req.headers);
    this.#grpcTimeoutMs = this.#grpc ? grpcTimeoutMs(this.req.headers) : 0;
    this.#retries = new RetryAllowance(retry, this.req, options.method, options.body !== null, this.#grpc);
    this.cluster.counters.active++;
    // Every request earns the cluster part of a retry, whether or not it can be retried itself:
    // the budget is a share of the traffic, and a POST is traffic too.
    this.cluster.counters.retryBudget.deposit();
    this.res.once('close', this.#onClientClose);
    // A declared length over the BodyLimit was answered 413 by the filter; one within it is held to
    // exactly by the parsers. Counting anyway costs an addition per chunk and covers chunked bodies
    // and HTTP/2 streams without content-length alike.
    this.#body = options.body === null
      ? null
      : new RequestBodyWatch(this.req, { idleMs: state.requestBodyIdleMs, totalMs: state.requestBodyMs }, request.routed!.plan.bodyLimit ?? 0, (reason, cause) => this.#refuseBody(reason, cause));
    const rate = request.routed!.plan.responseRate;
    this.#pacer = rate === null ? null : new ResponsePacer(rate.bytesPerSecond, rate.afterBytes);
  }

  /** Whether this is a gRPC call to an HTTP/2 cluster (retried, and judged by outlier detection, by its grpc-status). */
  get grpc(): boolean {
    return this.#grpc;
  }

  /** The attempt has its upstream connection: the request body is read from now on. */
  bodyStarted(): void {
    const body = this.#body;
    if (body === null || body.reading || this.#done) return;
    sendContinue(this.req, this.state.draining);
    body.start();
  }

  /** Adds the body of a URL mirror's copy, fed from the client's body as the original reads it. */
  addMirrorBody(copy: MirrorBody): void {
    this.#body?.addMirror(copy);
  }

  /** A chunk of the request body went upstream. */
  bodyProgress(): void {
    this.#body?.progress();
  }

  /** The whole request went upstream. */
  bodySent(): void {
    this.#body?.stop();
  }

  /** Sends the request to `upstream`. */
  dispatch(upstream: Upstream): void {
    const options = this.#attemptOptions;
    if (this.#firstSent < 0) this.#firstSent = performance.now();
    const attempt = new Attempt(this, upstream, options.body);
    this.#attempt = attempt;
    const cluster = this.cluster;
    const version = cluster.policy.proxyProtocol;
    const socket = this.req.socket as Socket | null;
    if (version === null || socket == null) return void upstream.pool.dispatch(options, attempt);
    // A PROXY protocol header names one client: its connections are this client connection's own
    // (an HTTP/2 client's session: its streams come over one connection).
    const { protocol, tls } = cluster.policy;
    const session = (this.req as { stream?: { session?: ClientConnection & { socket: Socket } } }).stream?.session;
    privatePool(session ?? socket, session?.socket ?? socket, { address: upstream.address, port: upstream.port, connectMs: cluster.connectMs, protocol, tls, version }).dispatch(options, attempt);
  }

  /**
   * Response headers of the current attempt; false when the exchange retries instead. This is the
   * response phase: the route's response filters edit the head before it is written; one that
   * must wait (a promise) pauses the upstream body, and what arrives meanwhile is held.
   */
  responseStart(attempt: Attempt, statusCode: number, headers: Headers, controller: Dispatcher.DispatchController): boolean {
    if (this.#retries.onStatus(statusCode) && this.#retry(attempt, 'status')) return false;
    if (this.#retries.onGrpcStatus(headers) && this.#retry(attempt, 'grpc-status')) return false;
    // The answer is the client's from here on: a gRPC call's body is no longer held for a replay.
    this.#retries.release();
    this.cluster.headerDuration.observe((performance.now() - attempt.dispatched) / 1000);
    this.#status = statusCode;
    // `Server` names signalbox, as nginx and Envoy name themselves: the backends' software and
    // versions are not advertised, and every answer says which proxy it came through.
    const out: string[] = ['server', 'signalbox'];
    const listed = connectionListed(headers.connection);
    // 204 and 304 have no content, so no Content-Length either (RFC 9110 §8.6, §15.3.5); an
    // HTTP/2 client treats one as a protocol error, an HTTP/1.1 client may wait for that many bytes
    // and read the next response as them. A response to HEAD keeps its Content-Length, not a body.
    const noContent = statusCode === 204 || statusCode === 304;
    this.#bodiless = noContent || this.options.method === 'HEAD';
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || isHopByHopResponseHeader(name) || name === 'server' || (listed !== null && listed.has(name))) continue;
      if (noContent && name === 'content-length') continue;
      if (typeof value === 'string') out.push(name, value);
      else for (const v of value) out.push(name, v);
    }
    const plan = this.request.routed!.plan;
    // The upstream's own words about its URLs, before the proxy adds its affinity cookie.
    const rewrites = plan.upstreamRewrites;
    if (rewrites !== null) for (const rewrite of rewrites) rewrite.applyTo(out);
    if (this.setCookie !== null) out.push('set-cookie', this.setCookie);
    const length = headers['content-length'];
    this.#expected = typeof length === 'string' && !this.#bodiless ? Number(length) : -1;
    // The head is known: the route's time limit (arrival to response head) is met.
    this.#stopRequestTimer();
    const steps = plan.responseSteps;
    if (steps === null) {
      if (plan.compress !== null) this.#encode(statusCode, out);
      writeResponseHead(this.req, this.res, statusCode, out);
      return true;
    }
    const head: ResponseHead = { status: statusCode, headers: out, body: null };
    const pending = runResponsePhase(this.request, head, steps);
    if (pending === null) {
      if (head.body !== null) return this.#answerInstead(head, attempt);
      this.#writeHead(head);
      return true;
    }
    this.#held = [];
    controller.pause();
    pending.then(
      () => {
        if (this.#done) return;
        if (head.body !== null) {
          this.#held = null;
          this.#answerInstead(head, attempt);
          return;
        }
        this.#writeHead(head);
        const held = this.#held!;
        this.#held = null;
        for (const chunk of held) this.responseData(controller, chunk);
        const ended = this.#heldEnd;
        if (ended !== null) this.responseEnd(ended.attempt, ended.trailers);
        else controller.resume();
      },
      (err: unknown) => {
        this.state.log.error({ err }, 'response filter failed');
        if (this.#done) return;
        this.#held = null;
        this.state.metrics.proxyErrors.labels('internal-error').inc();
        this.#bytes = writeError(this.res, 'internal-error', true);
        this.#finish(statusFor('internal-error'), 'internal-error', attempt.upstream);
        attempt.abandon(new Error('response filter failed'));
      },
    );
    return true;
  }

  /**
   * Sends the response the response phase put in place of the upstream's (a script's `respond`, or
   * its failure answer) and drops the upstream's body: the attempt is abandoned, its connection
   * closed rather than read to the end of a body nobody wants.
   */
  #answerInstead(head: ResponseHead, attempt: Attempt): true {
    this.#status = head.status;
    this.#bytes = writeAnswer(this.res, head, this.options.method);
    this.#finish(head.status, undefined, attempt.upstream);
    attempt.abandon(new Error('response replaced in the response phase'));
    if (!this.req.readableEnded) this.req.resume();
    return true;
  }

  /**
   * Answers signalbox's error for `reason` once no attempt can give a response (502, 504): through
   * the route's response phase when it has one, as an upstream response would go — its header
   * filters and its scripts' `onResponse` (which may put a page of its own in place) run first.
   */
  #answerError(reason: ErrorReason, close: boolean, upstream: Upstream): void {
    const steps = this.request.routed!.plan.responseSteps;
    if (steps === null) {
      this.#bytes += writeError(this.res, reason, close);
      return this.#finish(statusFor(reason), reason, upstream);
    }
    // A gRPC call's answer stays one (HTTP 200, grpc-status) whatever the filters add to it.
    const answer = ownErrorAnswer(this.req.headers, reason);
    if (close) answer.headers.connection = 'close';
    const head = answerHead(answer.status, answer.headers, answer.body);
    const write = (): void => {
      // Meanwhile the route's time limit or the client's leaving may have ended the exchange.
      if (this.#done) return;
      if (clientGone(this.res)) return this.#finish(499, 'client-closed', upstream);
      this.#bytes += writeAnswer(this.res, head, this.options.method);
      // A gRPC answer is logged with the HTTP status it stands for, as without filters.
      this.#finish(head.status === answer.status ? statusFor(reason) : head.status, reason, upstream);
    };
    const pending = runResponsePhase(this.request, head, steps);
    if (pending === null) return write();
    pending.then(write, (err: unknown) => {
      this.state.log.error({ err }, 'response filter failed');
      if (this.#done) return;
      this.#bytes += writeError(this.res, 'internal-error', true);
      this.#finish(statusFor('internal-error'), 'internal-error', upstream);
    });
  }

  /** Writes a head the response phase may have edited. */
  #writeHead(head: ResponseHead): void {
    this.#status = head.status;
    if (this.request.routed!.plan.compress !== null) this.#encode(head.status, head.headers);
    writeResponseHead(this.req, this.res, head.status, head.headers);
  }

  /**
   * With the route's Compress filter: decides on the head about to go out (`headers`, edited in
   * place) and, when the body is to be compressed, starts its encoder.
   */
  #encode(status: number, headers: string[]): void {
    const encoder = this.request.routed!.plan.compress!.encoderFor(this.req, status, this.#bodiless, headers);
    if (encoder === null) return;
    this.#expected = -1;
    this.#encoder = new ResponseEncoder(encoder, this.res, {
      wrote: (bytes) => (this.#bytes += bytes),
      blocked: () => {
        if (this.state.idleMs > 0) (this.#stall ??= new ResponseStallTimer(this.state.idleMs, this.#onResponseStalled)).blocked();
      },
      drained: () => this.#stall?.drained(),
      failed: (err) => {
        this.state.log.error({ err }, 'response compression failed');
        const attempt = this.#attempt;
        if (this.#done || attempt === null) return;
        this.state.metrics.proxyErrors.labels('internal-error').inc();
        breakResponse(this.res, err);
        this.#finish(this.#status, 'internal-error', attempt.upstream);
        attempt.abandon(err);
      },
    });
  }

  responseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#bodiless) return;
    if (this.#held !== null) {
      this.#held.push(chunk);
      return;
    }
    if (this.#bytes === 0 && chunk.length === this.#expected && this.#pacer === null) {
      // The common small response: head and body leave together at end().
      this.#bytes = chunk.length;
      this.#whole = chunk;
      return;
    }
    const encoder = this.#encoder;
    let taken: boolean;
    if (encoder === null) {
      this.#bytes += chunk.length;
      taken = (this.res as ServerResponse).write(chunk);
    } else taken = encoder.write(chunk);
    // A paced response reads no more from the upstream until its next bytes are due: backpressure
    // holds the rest there, nothing is buffered here.
    const waitMs = this.#pacer === null ? 0 : this.#pacer.wrote(chunk.length);
    if (taken && waitMs === 0) return;
    controller.pause();
    if (waitMs > 0) {
      this.#pacer!.wait(waitMs, () => {
        if (!this.#done && !this.#awaitingDrain) controller.resume();
      });
    }
    if (!taken && encoder !== null) {
      // The encoder's buffers are full: the client is slow (the encoder waits for it, above) or
      // the compression is; either way the upstream waits for the encoder.
      this.#awaitingDrain = true;
      encoder.onceDrained(() => {
        this.#awaitingDrain = false;
        if (!this.#done && this.#pacer?.waiting !== true) controller.resume();
      });
    } else if (!taken) {
      this.#awaitingDrain = true;
      if (this.state.idleMs > 0) (this.#stall ??= new ResponseStallTimer(this.state.idleMs, this.#onResponseStalled)).blocked();
      this.res.once('drain', () => {
        this.#awaitingDrain = false;
        this.#stall?.drained();
        if (this.#pacer?.waiting !== true) controller.resume();
      });
    }
  }

  responseEnd(attempt: Attempt, trailers: Headers): void {
    if (this.#held !== null) {
      this.#heldEnd = { attempt, trailers };
      return;
    }
    // A paced response ends once its last bytes are due, not sooner.
    if (this.#pacer?.deferEnd(() => {
      if (!this.#done) this.responseEnd(attempt, trailers);
    }) === true) return;
    // A compressed response ends once the encoder's last bytes are out of it.
    if (this.#encoder?.end(() => {
      if (!this.#done) this.responseEnd(attempt, trailers);
    }) === true) return;
    const res = this.res;
    for (const _ in trailers) {
      (res as ServerResponse).addTrailers(trailers as Record<string, string>);
      break;
    }
    if (this.#whole !== null) res.end(this.#whole);
    else res.end();
    if (this.#body?.reading === true) this.#leaveBodyUnread();
    this.#finish(this.#status, undefined, attempt.upstream);
  }

  responseError(attempt: Attempt, err: Error): void {
    if (this.#done) return;
    const res = this.res;
    if ((err as { code?: string }).code === 'UND_ERR_ABORTED' || clientGone(res)) {
      // The client left first; nothing to answer. 499, as nginx logs it.
      this.#finish(499, 'client-closed', attempt.upstream);
      return;
    }
    const reason = reasonForUpstreamError(err);
    if (!res.headersSent) {
      // An attempt past its response-header limit counts as a 504 for the retry policy.
      const retryAs = this.#grpc
        ? grpcRetryReasonFor(reason, err, attempt.body)
        : reason === 'upstream-timeout' ? (this.cluster.policy.retry.onStatuses.includes(504) ? 'status' : null) : retryReasonFor(reason, attempt.sent);
      // A request with a body is not handed back to the lifecycle: what its attempt read of the
      // body would be missing from the next one.
      if (retryAs !== null && this.#retries.allows(retryAs) && (this.#retry(attempt, retryAs) || (this.options.body === null && this.#reroute(attempt)))) return;
      this.state.metrics.proxyErrors.labels(reason).inc();
      this.#answerError(reason, true, attempt.upstream);
      if (!this.req.readableEnded) this.req.resume();
    } else {
      this.state.metrics.proxyErrors.labels(reason).inc();
      // Headers already went out: the only honest signal left is a broken response.
      breakResponse(res, err);
      this.#finish(this.#status, reason, attempt.upstream);
    }
  }

  /**
   * Tries another endpoint; false (and nothing else done) when there is none or the cluster's retry
   * budget is spent.
   */
  #retry(failed: Attempt, reason: RetryReason): boolean {
    if (clientGone(this.res)) return false;
    // nginx's proxy_next_upstream_timeout: past it, the failure is the answer.
    const limitMs = this.cluster.policy.retry.timeoutMs;
    if (limitMs !== undefined && performance.now() - this.#firstSent >= limitMs) return false;
    let options = this.#attemptOptions;
    if (this.#grpcTimeoutMs > 0) {
      // The call's deadline runs across its attempts: the next one is told only what is left.
      const left = this.#grpcTimeoutMs - (performance.now() - this.#started);
      if (left < 1) return false;
      options = { ...options, headers: withGrpcTimeout(options.headers as string[], formatGrpcTimeout(left)) };
    }
    const cluster = this.cluster;
    const tried = (this.#tried ??= []);
    tried.push(failed.upstream);
    const next = cluster.chooseAnother(this.req, this.state.clientIpOf, tried, this.request.hashKey);
    if (next === null) return false;
    // Only a retry that will happen spends the budget.
    if (!cluster.takeRetry()) {
      this.state.metrics.retryBudgetExhausted.labels(cluster.name).inc();
      return false;
    }
    this.state.metrics.retries.labels(cluster.name, reason).inc();
    const replay = this.#retries.spend(failed.body);
    if (replay !== undefined) options = { ...options, body: replay as Dispatcher.DispatchOptions['body'] };
    this.#attemptOptions = options;
    failed.abandon();
    // An affinity cookie must pin the client to the endpoint that will actually answer.
    if (cluster.affinity !== null) this.setCookie = cluster.affinity.cookieFor(this.req.headers, next, this.secure);
    this.dispatch(next);
    return true;
  }

  /** Hands the request back to the lifecycle on a newer table; false when that is not the case. */
  #reroute(failed: Attempt): boolean {
    const request = this.request;
    if (!this.#mayReroute || this.state.table === request.table || clientGone(this.res)) return false;
    this.#mayReroute = false;
    this.#retries.release();
    failed.abandon();
    this.#done = true;
    this.#body?.untapMirrors();
    this.cluster.counters.active--;
    this.res.off('close', this.#onClientClose);
    this.#stopRequestTimer();
    this.state.metrics.retries.labels(this.cluster.name, 'rerouted').inc();
    request.again(request.waited ?? { since: performance.now(), deadline: Infinity });
    return true;
  }

  #finish(status: number, error: string | undefined, upstream: Upstream): void {
    this.#done = true;
    this.#retries.release();
    this.#pacer?.cancel();
    // A response cut short has its encoder's memory freed now, not at collection.
    this.#encoder?.destroy();
    this.#stopRequestTimer();
    this.bodySent();
    this.#stall?.stop();
    this.cluster.counters.active--;
    account(this.state, this.req, status, this.#bytes, this.#started, this.ctx, upstream, error, this.request.note);
  }

  /**
   * The upstream answered before the client finished its body (a 401 or 413 that did not wait for
   * it), and nobody wants the rest. Reading it to its end — what Node does to keep the connection —
   * would let a client trickle bytes for as long as it likes, so the connection is not kept: HTTP/1.1
   * closes it once the response is out (nginx, too, keeps no connection alive after an unread body),
   * HTTP/2 resets the stream with NO_ERROR after the response (RFC 9113 §8.1).
   */
  #leaveBodyUnread(): void {
    const stream = (this.res as Partial<Http2ServerResponse>).stream;
    if (stream !== undefined) {
      stream.close(h2.NGHTTP2_NO_ERROR); // Node sends the RST_STREAM once the response is out
      return;
    }
    const socket = (this.res as ServerResponse).socket;
    if (socket === null) return;
    this.res.once('finish', () => socket.end(() => socket.destroy()));
  }

  #stopRequestTimer(): void {
    if (this.#requestTimer === null) return;
    clearTimeout(this.#requestTimer);
    this.#requestTimer = null;
  }

  /**
   * The route's `timeouts.requestMs` passed before a response head (retries included): 504, and the
   * attempt in flight is abandoned.
   */
  readonly #onRequestTimeout = (): void => {
    this.#requestTimer = null;
    const attempt = this.#attempt;
    if (this.#done || attempt === null || this.res.headersSent) return;
    if (clientGone(this.res)) return;
    const reason: ErrorReason = 'upstream-timeout';
    this.state.metrics.proxyErrors.labels(reason).inc();
    this.#answerError(reason, this.options.body !== null, attempt.upstream);
    attempt.abandon(new Error('route request timeout'));
    if (!this.req.readableEnded) this.req.resume();
  };

  /**
   * The rest of the request body is refused (too slow, too large). Before any response: signalbox's
   * answer with `connection: close` (the rest of the body is not wanted, and reading it would keep
   * the client); after the response began, a broken response, as for an upstream failure then.
   * Either way the upstream request is aborted, which closes its connection instead of returning it
   * to the pool half-written.
   */
  #refuseBody(reason: ErrorReason, cause: Error): void {
    const attempt = this.#attempt;
    if (this.#done || attempt === null) return;
    const res = this.res;
    this.state.metrics.proxyErrors.labels(reason).inc();
    if (res.headersSent || clientGone(res)) {
      this.#finish(this.#status, reason, attempt.upstream);
      res.destroy();
      attempt.abandon(cause);
      return;
    }
    const stream = (res as Partial<Http2ServerResponse>).stream;
    this.#bytes += writeError(res, reason, stream === undefined);
    // Accounted before the abort: undici detaches the client's socket from the request it aborts.
    this.#finish(statusFor(reason), reason, attempt.upstream);
    // signalbox's own HTTP/1.1 client leaves the client's body alone when aborted, so its upstream
    // request can end at once; undici's HTTP/2 client destroys the body, which resets the client's stream.
    const ownClient = this.cluster.policy.protocol === 'http1' || this.cluster.policy.protocol === 'https';
    if (stream === undefined || ownClient) {
      attempt.abandon(cause);
      if (stream !== undefined) stream.close(h2.NGHTTP2_NO_ERROR);
      return;
    }
    // HTTP/2 to HTTP/2: the complete answer, then RST_STREAM(NO_ERROR) so the client stops sending
    // (RFC 9113 §8.1); the upstream request is aborted once the answer is out.
    stream.close(h2.NGHTTP2_NO_ERROR);
    const abort = (): void => {
      clearTimeout(fallback);
      attempt.abandon(cause);
    };
    const fallback = setTimeout(abort, 1_000).unref();
    res.once('finish', abort);
  }

  /**
   * The client took none of its response for --idle-timeout (see ResponseStallTimer): the response
   * is cut and the upstream request aborted, freeing its connection. Logged as `client-timeout`.
   */
  readonly #onResponseStalled = (): void => {
    const attempt = this.#attempt;
    if (this.#done || attempt === null) return;
    this.#finish(this.#status, 'client-timeout', attempt.upstream);
    this.res.destroy();
    attempt.abandon(new Error('the client stopped reading its response'));
  };

  /**
   * The client left (HTTP/1 connection closed, HTTP/2 stream reset or connection gone): the upstream
   * request is aborted at once. One still waiting for a pooled connection, or for its connection to
   * open, has nothing to abort yet: it is finished now (499) and dropped, unsent, the moment undici
   * hands it a connection.
   */
  readonly #onClientClose = (): void => {
    if (this.#done) return;
    const attempt = this.#attempt;
    if (attempt === null) return;
    if (attempt.started) {
      attempt.abort(new Error('client closed the connection'));
      return;
    }
    attempt.abandon();
    this.#finish(499, 'client-closed', attempt.upstream);
  };
}
