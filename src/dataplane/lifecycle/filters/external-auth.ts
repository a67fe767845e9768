import type { Http2ServerRequest } from 'node:http2';
import type { Counter } from 'prom-client';
import type { ExternalAuthFilter } from '../../../model/table.ts';
import { clientAddress } from '../../proxy-protocol/client-address.ts';
import type { AuthAnswer } from '../../upstream/auth-client.ts';
import { dropFields, upstreamHeaders } from '../../upstream/upstream-headers.ts';
import type { ClientRequest } from '../proxy-state.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep, ResponseHead, ResponseStep, UpstreamEdit } from '../request-step.ts';
import { hostName } from '../script-request.ts';
import { AuthCache } from './auth-cache.ts';
import { expandVariables, signinLocation } from './signin-url.ts';

/** The statuses nginx's `add_header` (without `always`) adds the auth answer's Set-Cookie to. */
const COOKIE_STATUSES: ReadonlySet<number> = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);

/**
 * Fields of the client's request that the subrequest does not carry: its body's length (there is
 * no body), `X-Forwarded-Proto` (ingress-nginx clears it there) and the fields the subrequest sets
 * itself, so that a client cannot choose their values.
 */
const NOT_FORWARDED: readonly string[] = [
  'content-length', 'x-forwarded-proto', 'x-forwarded-for', 'x-original-url', 'x-original-uri',
  'x-original-method', 'x-scheme', 'x-sent-from', 'x-auth-request-redirect',
];

/** An earlier check's refusal, answered in place of a later 403 (`satisfy: any`). */
export interface Refusal {
  refuse(r: LifecycleRequest): void;
}

const NO_ANSWER: Readonly<Record<string, string | undefined>> = Object.freeze({});

/** The outcome counter of a decision taken from the cache, already counted. */
const NOT_COUNTED = { labels: () => ({ inc: () => {} }) } as unknown as Counter<'outcome'>;

/** The Set-Cookie fields of each request's auth answer, for the response step of the same filter. */
type CookieJar = WeakMap<LifecycleRequest, readonly string[]>;

/**
 * ExternalAuth: asks the auth service about the request (a subrequest without the body, through
 * the worker's {@link AuthClient}) and waits, the client's body left unread — TCP or HTTP/2 flow
 * control holds it at the client — so nothing of it is read or sent upstream unless the service
 * allows the request. Then, by the answer's status (ingress-nginx's `auth_request`):
 * - 2xx: the request goes on to the next filter, with `responseHeaders` copied from the answer
 *   into the upstream request (queued like any header edit; the client's own fields of those
 *   names are removed whether or not the answer has them);
 * - 401: 401 with the answer's `WWW-Authenticate`, or, with `signin`, a 302 to the sign-in URL;
 * - 403: 403;
 * - any other status, a timeout, a service that cannot be reached or an answer too large: 500
 *   (`auth-failed`).
 * With `cache`, an answer kept for the request's key decides without asking (auth-cache.ts).
 * A client that leaves while the subrequest is pending cancels it. The answer's Set-Cookie fields
 * reach the client through {@link ExternalAuthCookieStep}, in the response phase.
 */
export class ExternalAuthStep implements RequestStep {
  readonly #filter: ExternalAuthFilter;
  /**
   * The service's host name, its `Host` (ingress-nginx sends the name without the port); null for
   * a URL that does not parse — checkTable refuses it, but a worker must not fail on a bad table.
   */
  readonly #authHost: string | null;
  /** The URL holds variables, expanded per request. */
  readonly #variables: boolean;
  readonly #dropped: ReadonlySet<string>;
  readonly #copied: ReadonlySet<string>;
  readonly #cookies: CookieJar;
  /** The answers kept for reuse (`cache`); null when every request asks. */
  readonly #cache: AuthCache | null;

  constructor(filter: ExternalAuthFilter, cookies: CookieJar) {
    this.#filter = filter;
    this.#cache = filter.cache === undefined ? null : new AuthCache(filter.cache);
    this.#variables = filter.url.includes('$');
    // With variables, a placeholder host stands for the request's until it is known.
    this.#authHost = URL.parse(this.#variables ? filter.url.replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, 'x') : filter.url)?.hostname ?? null;
    this.#dropped = new Set([...NOT_FORWARDED, ...filter.requestHeaders.map((h) => h.name)]);
    this.#copied = new Set(filter.responseHeaders);
    this.#cookies = cookies;
  }

  run(r: LifecycleRequest): boolean {
    return this.ask(r, null);
  }

  /**
   * Asks the service, as {@link run}; under `satisfy: any` with a BasicAuth that already refused
   * the request, `refused`: then a 403 answers as that refusal's 401 would (its challenge, or the
   * sign-in redirect), as nginx keeps the 401 of an earlier check over a later 403.
   */
  ask(r: LifecycleRequest, refused: Refusal | null): boolean {
    if (r.gone()) {
      r.closed();
      return false;
    }
    const client = r.state.externalAuth;
    const outcomes = r.state.metrics.externalAuth;
    if (client === null || this.#authHost === null) {
      outcomes.labels('unreachable').inc();
      r.fail('auth-failed');
      return false;
    }
    const f = this.#filter;
    // A URL with variables (`https://$host/oauth2/auth`) is this request's; the host is then its own.
    let url = f.url;
    let authHost: string | null = this.#authHost;
    if (this.#variables) {
      const routed = r.routed!;
      url = expandVariables(f.url, { scheme: r.listener.proto, httpHost: routed.host, host: hostName(routed.host), requestUri: routed.target.path + routed.target.query, method: r.req.method ?? 'GET' });
      authHost = URL.parse(url)?.hostname ?? null;
      if (authHost === null) {
        outcomes.labels('unreachable').inc();
        r.fail('auth-failed');
        return false;
      }
    }
    const cache = this.#cache;
    const key = cache === null ? null : cache.keyOf(r, url);
    if (key !== null) {
      const kept = cache!.get(key);
      if (kept !== null) {
        outcomes.labels('cached').inc();
        // Counted once, as `cached`: no subrequest was sent.
        this.#after(r, kept, NOT_COUNTED, refused);
        return false;
      }
    }
    const cancel = new AbortController();
    const stopWatching = whenClientLeaves(r.req, () => cancel.abort());
    client.send({ url, method: f.method, headers: this.#headers(r, authHost!), timeoutMs: f.timeoutMs, signal: cancel.signal }).then(
      (answer) =>
        r.guarded(() => {
          stopWatching();
          if (key !== null && answer.kind === 'answer') cache!.put(key, answer);
          this.#after(r, answer, outcomes, refused);
        }),
      // send() turns every failure into an answer: only a bug lands here, and fails this request alone.
      (err: unknown) =>
        r.guarded(() => {
          stopWatching();
          r.state.log.error({ err }, 'external auth failed');
          r.fail('internal-error');
        }),
    );
    return false;
  }

  /**
   * The request was let through without asking (`satisfy: any`): the client's own fields named by
   * `responseHeaders` still never reach the upstream.
   */
  skipped(r: LifecycleRequest): void {
    if (this.#copied.size > 0) r.addEdit(new CopiedFields(this.#copied, NO_ANSWER));
  }

  /** The subrequest's fields (see {@link ExternalAuthFilter}). */
  #headers(r: LifecycleRequest, authHost: string): string[] {
    const { req, state, listener } = r;
    const routed = r.routed!;
    const uri = routed.target.path + routed.target.query;
    const headers = upstreamHeaders(req.rawHeaders, { peer: clientAddress(req.socket), proto: listener.proto, port: listener.port, host: routed.host, addressHeader: r.table?.published.table.clientAddressHeader }, state.trusted, null, authHost);
    dropFields(headers, this.#dropped);
    const f = this.#filter;
    headers.push(
      'x-original-url', `${listener.proto}://${routed.host}${uri}`,
      'x-original-uri', uri,
      'x-original-method', req.method ?? 'GET',
      'x-scheme', listener.proto,
      'x-sent-from', 'nginx-ingress-controller',
      // nginx's $remote_addr: the client, after the trusted proxies (X-Real-IP says the same).
      'x-forwarded-for', state.clientIpOf(req),
      'x-auth-request-redirect', f.requestRedirect ?? uri,
    );
    for (const { name, value } of f.requestHeaders) headers.push(name, value);
    return headers;
  }

  /** Acts on the answer (the client may have left meanwhile: then nothing goes on). */
  #after(r: LifecycleRequest, answer: AuthAnswer, outcomes: Counter<'outcome'>, refused: Refusal | null): void {
    if (r.gone()) {
      outcomes.labels('client-gone').inc();
      return r.closed();
    }
    if (answer.kind === 'failed') {
      outcomes.labels(answer.cause === 'aborted' ? 'client-gone' : answer.cause).inc();
      return r.fail('auth-failed');
    }
    const { status, headers } = answer;
    const cookies = headers['set-cookie'];
    if (cookies !== undefined) this.#cookies.set(r, typeof cookies === 'string' ? [cookies] : cookies);
    if (status >= 200 && status <= 299) {
      outcomes.labels('allowed').inc();
      if (this.#copied.size > 0) r.addEdit(new CopiedFields(this.#copied, headers));
      return r.proceed();
    }
    if (status === 401 || (status === 403 && refused !== null)) {
      const signin = this.#filter.signin;
      if (signin !== null) {
        outcomes.labels('signin').inc();
        const routed = r.routed!;
        const location = signinLocation(signin, { scheme: r.listener.proto, httpHost: routed.host, host: hostName(routed.host), requestUri: routed.target.path + routed.target.query, method: r.req.method ?? 'GET' });
        return r.respond(302, { location }, '', 'external-auth');
      }
      if (status === 403) {
        outcomes.labels('forbidden').inc();
        return refused!.refuse(r);
      }
      outcomes.labels('unauthorized').inc();
      const challenge = headers['www-authenticate'];
      // Several challenges may share one field, comma-separated (RFC 9110 §11.6.1).
      const fields: Record<string, string> = challenge === undefined ? {} : { 'www-authenticate': typeof challenge === 'string' ? challenge : challenge.join(', ') };
      return r.respond(401, fields, '401 authorization required', 'external-auth');
    }
    if (status === 403) {
      outcomes.labels('forbidden').inc();
      return r.respond(403, {}, '403 forbidden', 'external-auth');
    }
    outcomes.labels('error-status').inc();
    return r.fail('auth-failed');
  }
}

/**
 * The response side of ExternalAuth: adds the auth answer's Set-Cookie fields to the response
 * about to reach the client — the sign-in redirect or an allowed request's response — when its
 * status is one nginx's `add_header` applies to, or whatever it is with `alwaysSetCookie`. They
 * are added to the response's own, never replace them. (A refused upgrade is answered without a
 * response phase, so without them.)
 */
export class ExternalAuthCookieStep implements ResponseStep {
  readonly #always: boolean;
  readonly #cookies: CookieJar;

  constructor(filter: ExternalAuthFilter, cookies: CookieJar) {
    this.#always = filter.alwaysSetCookie;
    this.#cookies = cookies;
  }

  run(r: LifecycleRequest, head: ResponseHead): null {
    const cookies = this.#cookies.get(r);
    if (cookies === undefined) return null;
    this.#cookies.delete(r);
    if (this.#always || COOKIE_STATUSES.has(head.status)) for (const cookie of cookies) head.headers.push('set-cookie', cookie);
    return null;
  }
}

/** The fields a 2xx auth answer names, copied into the upstream request in place of the client's. */
class CopiedFields implements UpstreamEdit {
  readonly #names: ReadonlySet<string>;
  readonly #answer: Readonly<Record<string, string | string[] | undefined>>;

  constructor(names: ReadonlySet<string>, answer: Readonly<Record<string, string | string[] | undefined>>) {
    this.#names = names;
    this.#answer = answer;
  }

  applyTo(headers: string[]): void {
    dropFields(headers, this.#names);
    for (const name of this.#names) {
      const value = this.#answer[name];
      const text = value === undefined ? '' : typeof value === 'string' ? value : value.join(', ');
      // nginx sends no field for an empty value: a name the answer lacks is only removed.
      if (text !== '') headers.push(name, text);
    }
  }
}

/**
 * Calls `fn` once if the client leaves (its HTTP/1 connection closes, or its HTTP/2 stream is
 * reset or closed); returns what stops watching, to call once the wait is over — a keep-alive
 * connection carries many requests, and each must take its listener off again.
 */
function whenClientLeaves(req: ClientRequest, fn: () => void): () => void {
  const stream = (req as Http2ServerRequest).stream as { once: (e: 'close', l: () => void) => void; off: (e: 'close', l: () => void) => void } | undefined;
  const emitter = stream ?? req.socket;
  if (emitter === null || emitter === undefined) return () => {};
  emitter.once('close', fn);
  return () => {
    emitter.off('close', fn);
  };
}

/** Creates the two steps of one ExternalAuth filter, which share the answer's cookies per request. */
export function externalAuthSteps(filter: ExternalAuthFilter): { readonly request: ExternalAuthStep; readonly response: ExternalAuthCookieStep } {
  const cookies: CookieJar = new WeakMap();
  return { request: new ExternalAuthStep(filter, cookies), response: new ExternalAuthCookieStep(filter, cookies) };
}
