import type { IncomingMessage, Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Duplex } from 'node:stream';
import { refuseUpgrade, relayUpgrade } from '../upstream/upgrade-relay.ts';
import { upstreamHeaders } from '../upstream/upstream-headers.ts';
import { handBack, afterEarlierResponses } from '../server/socket-handback.ts';
import { account } from './accounting.ts';
import { statusFor, writeRawError, writeRawResponse, type ErrorReason } from './error-responses.ts';
import type { ListenerInfo, ProxyState } from './proxy-state.ts';
import { LifecycleRequest, type AnswerKind } from './request.ts';
import type { RouteContext } from './route-context.ts';
import type { RoutePlan } from './route-plan.ts';
import { allowedOffer, plainReason, plainRequestHead, type PlainReason } from './upgrade-offer.ts';
import { clientAddress } from '../proxy-protocol/client-address.ts';

/** What the upgrade handler of one listener needs besides the proxy state. */
export interface UpgradeOptions {
  /** The server whose 'upgrade' event this handles, which gets back connections that stay HTTP. */
  readonly server: Server | Http2SecureServer;
  readonly connectMs: number;
  /** `--max-header-count`: Node truncates the fields of a longer head, so it must be refused here. */
  readonly maxHeaderCount: number;
}

/**
 * Handles an HTTP/1.1 request with `Upgrade` and `Connection: upgrade` (Node's 'upgrade' event).
 * It becomes a tunnel only when every condition holds: HTTP/1.1 without a body, a route, one of the
 * offered protocols allowed by the Service (`signalbox.dev/upgrade-protocols`, `websocket` by
 * default, never `h2c`), and a `101 Switching Protocols` from the endpoint. Otherwise:
 * - an upgrade not allowed (or with a body, or HTTP/1.0) is served as the plain request it also
 *   is: its head, without `Upgrade`, `HTTP2-Settings` and their Connection options, goes back to
 *   the HTTP server with the bytes that followed it, and is routed, scripted and proxied like any
 *   request — the connection stays HTTP;
 * - an endpoint's other answer is an ordinary response to the request, and the connection stays
 *   HTTP (upgrade-relay.ts);
 * - no route, no endpoint, a paused route, a refusing script: signalbox's error, connection closed.
 * The route's phases run as for any request (request.ts): its request filters — header edits and
 * rewrites reach the endpoint, a redirect answers the upgrade — and RouteScripts, which may answer
 * (an auth check refusing the upgrade), pick a backend, edit headers or set a hash key; then the
 * weighted pick. Only the transport differs: the relay. Nothing the client sent after the request
 * head is read or forwarded before the endpoint's 101, and nothing is done before the responses
 * to the requests ahead of it on the connection are out.
 */
export function createUpgradeHandler(state: ProxyState, listener: ListenerInfo, options: UpgradeOptions): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return function handleUpgrade(req, socket, head) {
    socket.on('error', () => socket.destroy());
    afterEarlierResponses(socket, () => {
      const r = new UpgradeRequest(state, listener, options, req, socket, head, performance.now());
      r.guarded(() => r.start());
    });
  };
}

/** An upgrade request on its raw socket: the lifecycle's phases, with the relay as transport. */
class UpgradeRequest extends LifecycleRequest {
  readonly req: IncomingMessage;
  readonly canHold = false;
  readonly #options: UpgradeOptions;
  readonly #socket: Duplex;
  /** What the client sent after the request head. */
  readonly #head: Buffer;

  constructor(state: ProxyState, listener: ListenerInfo, options: UpgradeOptions, req: IncomingMessage, socket: Duplex, head: Buffer, started: number) {
    super(state, listener, started);
    this.req = req;
    this.#options = options;
    this.#socket = socket;
    this.#head = head;
  }

  /** The checks only an upgrade has, then the lifecycle. */
  start(): void {
    if (this.#socket.destroyed) return;
    if (this.req.rawHeaders.length > this.#options.maxHeaderCount * 2) return this.fail('headers-too-large');
    const plain = plainReason(this.req);
    if (plain !== null) return this.#servePlain(plain);
    this.begin();
  }

  /** The route's Service must allow one of the offered protocols, else the request is served plain. */
  protected override admit(plan: RoutePlan): boolean {
    if (allowedOffer(this.req, plan.primary.cluster.policy.upgradeProtocols) !== null) return true;
    this.#servePlain('not-allowed');
    return false;
  }

  gone(): boolean {
    return this.#socket.destroyed;
  }

  closed(): void {
    account(this.state, this.req, 499, 0, this.started, this.accountedCtx(), null, 'client-closed', this.note);
  }

  fail(reason: ErrorReason, status = statusFor(reason)): void {
    refuseUpgrade(this.state, this.req, this.#socket, this.started, this.accountedCtx(), null, reason, status, this.note);
  }

  respond(status: number, headers: Readonly<Record<string, string>>, body: string, kind: AnswerKind): void {
    this.state.metrics.upgrades.labels(kind).inc();
    writeRawResponse(this.#socket, status, body !== '' && headers['content-type'] === undefined ? { ...headers, 'content-type': 'text/plain; charset=utf-8' } : headers, body);
    account(this.state, this.req, status, Buffer.byteLength(body), this.started, this.accountedCtx(), null, undefined, this.note);
  }

  /** A tunnel cannot be held like a request: an upgrade to a paused route is told to retry. */
  hold(): void {
    this.fail('paused');
  }

  /**
   * Picks an endpoint of `ctx`'s cluster and relays the request to it. A backend other than the
   * route's first is a Service of its own: when it does not allow the protocol, the request goes
   * without its upgrade. Mirrors are not sent for upgrades: a tunnel cannot be copied.
   */
  send(ctx: RouteContext): void {
    const { state, req, listener } = this;
    const upstream = ctx.cluster.choose(req, state.clientIpOf as (r: IncomingMessage) => string, this.hashKey);
    if (upstream === null) return this.fail('no-endpoint');
    const offered = allowedOffer(req, ctx.cluster.policy.upgradeProtocols);
    if (offered === null) state.metrics.upgrades.labels('not-allowed').inc();
    const { target, host } = this.routed!;
    const forwarding = { peer: clientAddress(req.socket), proto: listener.proto, port: listener.port, host, addressHeader: this.table!.published.table.clientAddressHeader, originalUri: ctx.route.originalUriHeader === true ? target.path + target.query : undefined };
    const headers = upstreamHeaders(req.rawHeaders, forwarding, state.trusted, offered, this.upstreamHost);
    const edits = this.edits;
    if (edits !== null) for (const edit of edits) edit.applyTo(headers);
    const options = this.#options;
    relayUpgrade({
      state,
      server: options.server,
      req,
      socket: this.#socket,
      head: this.#head,
      started: this.started,
      ctx,
      upstream,
      path: this.currentPath() + target.query,
      headers,
      offered,
      connectMs: ctx.cluster.policy.timeouts.connectMs ?? options.connectMs,
      note: this.note,
    });
  }

  /** As for requests (listeners.ts): a bug that throws fails this connection, not the worker. */
  guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const socket = this.#socket;
      this.state.log.error({ err }, 'upgrade handler failed');
      this.state.metrics.proxyErrors.labels('internal-error').inc();
      if (socket.writable) writeRawError(socket, 'internal-error');
      else socket.destroy();
    }
  }

  /**
   * Serves an upgrade request that will not be tunnelled as a plain request: its head without the
   * upgrade goes back to the HTTP server in front of whatever followed it (its body, pipelined
   * requests), so that routing, scripts, limits and the access log treat it like any other request.
   */
  #servePlain(reason: PlainReason): void {
    this.state.metrics.upgrades.labels(reason).inc();
    handBack(this.#options.server, this.#socket, Buffer.concat([Buffer.from(plainRequestHead(this.req), 'latin1'), this.#head]));
  }
}
