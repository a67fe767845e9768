import type { Http2ServerResponse } from 'node:http2';
import type { PreparedCluster } from '../upstream/prepared-cluster.ts';
import type { UrlMirrorStep } from './filters/url-mirror.ts';
import { account, type RequestNote } from './accounting.ts';
import { answerError, answerScript, dropRequestBody, isHttp1 } from './answers.ts';
import { breakResponse, clientGone, isOwnReset } from './client-gone.ts';
import { ownErrorAnswer, refusesBody, statusFor, type ErrorReason } from './error-responses.ts';
import { answerHead, runResponsePhase, writeAnswer } from './response-phase.ts';
import { forward } from './forward.ts';
import { holdRequest, type Hold, type Waited } from './pause-phase.ts';
import type { PreparedTable } from './prepared-table.ts';
import type { ClientRequest, ClientResponse, ListenerInfo, ProxyState } from './proxy-state.ts';
import type { ResponseStep, UpstreamEdit } from './request-step.ts';
import type { RouteContext } from './route-context.ts';
import type { RoutePlan } from './route-plan.ts';
import { routeRequest, type RoutedRequest } from './route-request.ts';
import type { ScriptBinding } from './script-binding.ts';
import type { ScriptRequest } from '../../script/index.ts';

/** The note of a request with nothing to note (most of them); never modified, only replaced. */
const NO_NOTE: RequestNote = Object.freeze({});

/** How a request that leaves through the lifecycle's answers is labelled in the upgrade counters. */
export type AnswerKind = 'redirect' | 'script-respond' | 'external-auth' | 'cors-preflight' | 'basic-auth';

/**
 * One request on its way through the lifecycle: what the phases share, in one object instead of
 * long argument lists. The phases are the same for a plain request and an upgrade:
 * 1. snapshot the current table (kept for the whole request — until a pause releases it, when the
 *    lifecycle starts again on the table of that moment, {@link again});
 * 2. parse the target, normalise the path, match host and path (400, 404), and the host's
 *    client-certificate check (client-auth-check.ts: 400, 403, 421);
 * 3. the route's request filters, in order (route-plan.ts): header edits, rewrites, mirrors,
 *    redirects, RouteScripts — each preceded by an operator's pause of its RouteScript;
 * 4. the backend: a RouteScript's choice, else the route's weighted pick (500 for a backend that
 *    does not resolve, or for no backend at all);
 * 5. {@link send}: the transport. A plain request goes through the circuit breaker, the automatic
 *    pause and the endpoint choice to an exchange (forward.ts); an upgrade to the relay.
 * The subclasses say how the client is answered (a response object, or a raw socket), what
 * holding a request means (an upgrade cannot be held: it is refused) and how it goes upstream.
 */
export abstract class LifecycleRequest {
  readonly state: ProxyState;
  readonly listener: ListenerInfo;
  /** `performance.now()` when the request arrived. */
  readonly started: number;
  abstract readonly req: ClientRequest;
  /** The table the request was routed on; null before routing. */
  table: PreparedTable | null = null;
  /** The route and the request's target, path and host; null before routing. */
  routed: RoutedRequest | null = null;
  /** The backend: set by a RouteScript's `backend`, else by the pick; null before. */
  ctx: RouteContext | null = null;
  /** The last RouteScript `hashKey`; undefined when none gave one. */
  hashKey: string | undefined = undefined;
  /** The upstream's Host after a URLRewrite; null when not rewritten. */
  upstreamHost: string | null = null;
  /** The upstream's path (without query) after a URLRewrite; null when not rewritten. */
  upstreamPath: string | null = null;
  /**
   * The Access-Control-Allow-Origin a CORS filter allowed the request with (its Origin, or `*`),
   * for that filter's response side; null when none did.
   */
  corsOrigin: string | null = null;
  /** The id a RequestId filter gave the request upstream (the client's, or a new one); null without one. */
  requestId: string | null = null;
  /** How long it was held so far; null when never. */
  waited: Waited | null = null;
  /** What the access log says beyond the usual (scripts' decisions, time held). */
  note: RequestNote = NO_NOTE;
  /** The next request filter to run. */
  #step = 0;
  #edits: UpstreamEdit[] | null = null;
  #mirrors: PreparedCluster[] | null = null;
  #urlMirrors: UrlMirrorStep[] | null = null;
  /** The RouteScripts the request reached, with the request as each saw it (for their onResponse). */
  #reached: Map<ScriptBinding, ScriptRequest> | null = null;

  constructor(state: ProxyState, listener: ListenerInfo, started: number) {
    this.state = state;
    this.listener = listener;
    this.started = started;
  }

  /** Phases 1–2, then the route's phases. */
  begin(): void {
    if (this.gone()) return this.closed();
    const table = this.state.table;
    if (table === null) return this.fail('not-ready');
    const routed = routeRequest(table, this.req, this.state.paths, this.listener);
    if (typeof routed === 'string') return this.fail(routed);
    this.table = table;
    this.routed = routed;
    const clientAuth = routed.plan.clientAuth;
    if (clientAuth !== null && !clientAuth.admit(this)) return;
    if (this.admit(routed.plan)) this.proceed();
  }

  /** Runs the request filters not run yet, then picks the backend and sends the request. */
  proceed(): void {
    const plan = this.routed!.plan;
    const steps = plan.steps;
    if (steps !== null) {
      while (this.#step < steps.length) if (!steps[this.#step++]!.run(this)) return;
    }
    let ctx = (this.ctx ??= plan.pick(this.req));
    // A DefaultBackend filter takes the requests of a backend without any endpoint (or that does
    // not resolve), as ingress-nginx switches such a location to its custom default backend.
    const fallback = plan.fallback;
    if (fallback !== null && !ctx.cluster.hasEndpoints) ctx = this.ctx = fallback;
    if (ctx.missing) return this.fail('no-backend');
    // The backend's own header edits, after the route's (queued by its steps above).
    if (ctx.edits !== null) for (const edit of ctx.edits) this.addEdit(edit);
    this.send(ctx);
  }

  /** Runs the whole lifecycle again on the newest table, for a held request that was released. */
  again(waited: Waited): void {
    this.table = null;
    this.routed = null;
    this.ctx = null;
    this.hashKey = undefined;
    this.upstreamHost = null;
    this.upstreamPath = null;
    this.corsOrigin = null;
    this.requestId = null;
    this.#step = 0;
    this.#edits = null;
    this.#mirrors = null;
    this.#urlMirrors = null;
    this.#reached = null;
    this.waited = waited;
    this.note = { pausedMs: performance.now() - waited.since };
    this.begin();
  }

  /** The path the next phase works on: the normalised request path, or as a URLRewrite left it. */
  currentPath(): string {
    return this.upstreamPath ?? this.routed!.path;
  }

  /** The context errors are accounted to: the backend once known, else the route's first. */
  accountedCtx(): RouteContext | null {
    return this.ctx ?? this.routed?.plan.primary ?? null;
  }

  /** The route's first backend (what a RouteScript's default and pause policy refer to). */
  primary(): RouteContext {
    return this.routed!.plan.primary;
  }

  /** Queues an edit of the upstream request's headers (applied in order once they are built). */
  addEdit(edit: UpstreamEdit): void {
    (this.#edits ??= []).push(edit);
  }

  /** The queued header edits; null when none. */
  get edits(): readonly UpstreamEdit[] | null {
    return this.#edits;
  }

  /** Marks the request for a copy to `cluster` (RequestMirror). */
  addMirror(cluster: PreparedCluster): void {
    (this.#mirrors ??= []).push(cluster);
  }

  /** The clusters that get a copy; null when none. */
  get mirrors(): readonly PreparedCluster[] | null {
    return this.#mirrors;
  }

  /** Marks the request for a copy to a URL (UrlMirror). */
  addUrlMirror(mirror: UrlMirrorStep): void {
    (this.#urlMirrors ??= []).push(mirror);
  }

  /** The URL mirrors that get a copy; null when none. */
  get urlMirrors(): readonly UrlMirrorStep[] | null {
    return this.#urlMirrors;
  }

  /** Records that `binding`'s onRequest ran (or was to run) on `view`. */
  reach(binding: ScriptBinding, view: ScriptRequest): void {
    (this.#reached ??= new Map()).set(binding, view);
  }

  /** The request as `binding`'s onRequest saw it, or undefined when the request never reached that script. */
  reachedView(binding: ScriptBinding): ScriptRequest | undefined {
    return this.#reached?.get(binding);
  }

  /** Adds what a RouteScript decided to the access-log note (several scripts: in order). */
  noteScript(text: string): void {
    const script = this.note.script;
    this.note = { ...this.note, script: script === undefined ? text : `${script}; ${text}` };
  }

  /** Records in the access-log note what a DefaultBackend filter's error page did. */
  noteErrorPage(text: string): void {
    this.note = { ...this.note, errorPage: text };
  }

  /**
   * Whether the request can wait at a pause gate. An upgrade cannot: {@link hold} refuses it, so
   * only an operator's pause itself refuses it, not the release ramp after one.
   */
  abstract readonly canHold: boolean;
  /** Whether the client has left. */
  abstract gone(): boolean;
  /** Accounts a request whose client left before it was answered. */
  abstract closed(): void;
  /** Answers with signalbox's error for `reason` (its status, or `status`). */
  abstract fail(reason: ErrorReason, status?: number): void;
  /** Answers with a response of the lifecycle's own (a redirect, a script's `respond`). */
  abstract respond(status: number, headers: Readonly<Record<string, string>>, body: string, kind: AnswerKind): void;
  /** Holds the request at a pause gate (an upgrade is refused instead). */
  abstract hold(hold: Hold): void;
  /** The transport: sends the request upstream through `ctx`. */
  abstract send(ctx: RouteContext): void;
  /** Runs `fn` (a phase resumed from a promise) so that a bug fails this request, not the worker. */
  abstract guarded(fn: () => void): void;

  /** A last check on the routed request before its filters; false when it was answered. */
  protected admit(_plan: RoutePlan): boolean {
    return true;
  }
}

/** A plain request (HTTP/1.x or HTTP/2) with its response object. */
export class ProxyRequest extends LifecycleRequest {
  readonly req: ClientRequest;
  readonly res: ClientResponse;
  readonly canHold = true;

  constructor(state: ProxyState, listener: ListenerInfo, req: ClientRequest, res: ClientResponse, started: number) {
    super(state, listener, started);
    this.req = req;
    this.res = res;
  }

  gone(): boolean {
    return clientGone(this.res);
  }

  /**
   * 499 — or, for an HTTP/2 stream the guard refused (RST_STREAM REFUSED_STREAM), `stream-refused`.
   * An HTTP/2 stream reset with its own HEADERS (rapid reset), or refused by the HTTP/2 guard, is
   * closed before its request is handled; a held request's client may have left at its release.
   */
  closed(): void {
    const stream = (this.res as Http2ServerResponse).stream;
    if (this.routed === null && stream !== undefined && isOwnReset(stream)) {
      this.state.metrics.proxyErrors.labels('stream-refused').inc();
      return account(this.state, this.req, 503, 0, this.started, null, null, 'stream-refused', this.note);
    }
    account(this.state, this.req, 499, 0, this.started, this.accountedCtx(), null, 'client-closed', this.note);
  }

  fail(reason: ErrorReason, status = statusFor(reason)): void {
    const steps = this.routed?.plan.responseSteps ?? null;
    if (steps === null) return answerError(this.state, this.req, this.res, this.started, reason, this.accountedCtx(), status, this.note);
    this.state.metrics.proxyErrors.labels(reason).inc();
    // A gRPC call's answer stays one (HTTP 200, grpc-status) whatever the filters add to it.
    const answer = ownErrorAnswer(this.req.headers, reason, status);
    if (refusesBody(reason) && isHttp1(this.res)) answer.headers.connection = 'close';
    this.#answerThrough(steps, answer.status, answer.headers, answer.body, reason, status);
  }

  respond(status: number, headers: Readonly<Record<string, string>>, body: string): void {
    const steps = this.routed?.plan.responseSteps ?? null;
    if (steps === null) return answerScript(this.state, this.req, this.res, this.started, this.accountedCtx()!, { status, headers, body }, this.note);
    const fields: Record<string, string> = { server: 'signalbox', ...headers };
    if (body !== '' && fields['content-type'] === undefined) fields['content-type'] = 'text/plain; charset=utf-8';
    this.#answerThrough(steps, status, fields, body, undefined);
  }

  /**
   * Answers with a response of the proxy's own through the route's response phase, as an upstream
   * response would go: its header filters and its scripts' `onResponse` (which may replace an
   * error answer) run before anything is written. `accounted` is the status logged when the phase
   * leaves `status` as it was (a gRPC answer's 200 stands for the HTTP error it replaces).
   */
  #answerThrough(steps: readonly ResponseStep[], status: number, headers: Readonly<Record<string, string | number>>, body: string, reason: ErrorReason | undefined, accounted = status): void {
    const ctx = this.accountedCtx();
    if (this.gone()) return account(this.state, this.req, 499, 0, this.started, ctx, null, 'client-closed', this.note);
    const head = answerHead(status, headers, body);
    const write = (): void => {
      if (this.gone()) return account(this.state, this.req, 499, 0, this.started, ctx, null, 'client-closed', this.note);
      const bytes = writeAnswer(this.res, head, this.req.method);
      // A gRPC answer (HTTP 200) is logged with the HTTP status it stands for, as without filters.
      account(this.state, this.req, head.status === status ? accounted : head.status, bytes, this.started, ctx, null, reason, this.note);
      dropRequestBody(this.req, this.res, refusesBody(reason));
    };
    const pending = runResponsePhase(this, head, steps);
    if (pending === null) return write();
    pending.then(() => this.guarded(write), (err: unknown) => {
      this.state.log.error({ err }, 'response filter failed');
      answerError(this.state, this.req, this.res, this.started, 'internal-error', ctx, undefined, this.note);
    });
  }

  hold(hold: Hold): void {
    holdRequest(this.state, this.req, this.res, this.started, this.accountedCtx()!, this.waited, this.note, hold);
  }

  send(ctx: RouteContext): void {
    forward(this, ctx);
  }

  guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.state.log.error({ err }, 'request handler failed after the route script');
      if (!this.res.headersSent) this.fail('internal-error');
      else breakResponse(this.res);
    }
  }
}
