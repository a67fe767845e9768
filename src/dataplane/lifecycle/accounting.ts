import type { ClientRequest, ProxyState } from './proxy-state.ts';
import type { RouteContext } from './route-context.ts';
import type { Upstream } from '../upstream/prepared-cluster.ts';
import { absoluteAuthority } from './request-target.ts';
import { clientAddress } from '../proxy-protocol/client-address.ts';

/**
 * The request's host for the access log, taken in the order routing takes it (request-host.ts):
 * an absolute-form target's authority, else the HTTP/2 :authority, else the Host header. Unchecked:
 * a refused request is logged with the host it claimed.
 */
export function hostOf(req: ClientRequest): string {
  const url = req.url;
  const authority = url === undefined ? undefined : absoluteAuthority(url);
  return authority ?? (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? '';
}

/** What else the access log says about a request: its RouteScript's decision, and time held by a pause. */
export interface RequestNote {
  /** `namespace/name: what it decided`. */
  script?: string;
  /** Milliseconds the request waited at pause gates. */
  pausedMs?: number;
  /** The error page a DefaultBackend filter put in place of the answer (`503 error page 404`), or its failure. */
  errorPage?: string;
}

/**
 * Metrics and the access-log line for one finished request (or tunnel): the request counter and
 * latency histogram of its route — or of no route, with empty labels — and one JSON line, which
 * says what the route's RouteScript decided when it has one (`script`) and how long the request was
 * held by a pause (`paused_ms`). A route with `accessLog: false` writes no line.
 */
export function account(
  state: ProxyState,
  req: ClientRequest,
  status: number,
  bytes: number,
  started: number,
  ctx: RouteContext | null,
  upstream: Upstream | null,
  error: string | undefined,
  note?: RequestNote,
): void {
  const seconds = (performance.now() - started) / 1000;
  if (ctx !== null) {
    ctx.count(status);
    ctx.duration.observe(seconds);
  } else {
    state.metrics.requests.cell('', '', String(status)).inc();
    state.metrics.requestDuration.cell('', '').observe(seconds);
  }
  // A route with `accessLog: false`, or a target its `accessLogSkip` names, is counted above but
  // writes no line.
  if (state.accessLog.enabled && (ctx === null || (ctx.logged && (ctx.skipLog === null || !ctx.skipLog.matches(req.url ?? ''))))) {
    const entry = {
      method: req.method ?? '',
      host: hostOf(req),
      path: req.url ?? '',
      status,
      bytes,
      duration_ms: Math.round(seconds * 1e6) / 1e3,
      route: ctx?.route.provenance ?? '',
      upstream: upstream?.id ?? '',
      client: clientAddress(req.socket),
      protocol: req.httpVersion,
      ...(error === undefined ? {} : { error }),
      ...(note?.script === undefined ? {} : { script: note.script }),
      ...(note?.pausedMs === undefined ? {} : { paused_ms: Math.round(note.pausedMs) }),
      ...(note?.errorPage === undefined ? {} : { error_page: note.errorPage }),
    };
    state.accessLog.write(entry);
  }
}

