import type { ClientRequest, ProxyState } from './proxy.ts';
import type { RouteContext } from './prepared-table.ts';
import type { Upstream } from './prepared-cluster.ts';

/** The request's Host: the Host header, or the HTTP/2 :authority. */
export function hostOf(req: ClientRequest): string {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '';
}

/**
 * Metrics and the access-log line for one finished request (or tunnel): the request counter and
 * latency histogram of its route — or of no route, with empty labels — and one JSON line, which
 * says what the route's RouteScript decided when it has one (`script`).
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
  script?: string,
): void {
  const seconds = (performance.now() - started) / 1000;
  if (ctx !== null) {
    ctx.count(status);
    ctx.duration.observe(seconds);
  } else {
    state.metrics.requests.cell('', '', String(status)).inc();
    state.metrics.requestDuration.cell('', '').observe(seconds);
  }
  if (state.accessLog.enabled) {
    const entry = {
      method: req.method ?? '',
      host: hostOf(req),
      path: req.url ?? '',
      status,
      bytes,
      duration_ms: Math.round(seconds * 1e6) / 1e3,
      route: ctx?.route.provenance ?? '',
      upstream: upstream?.id ?? '',
      client: req.socket?.remoteAddress ?? '',
      protocol: req.httpVersion,
      ...(error === undefined ? {} : { error }),
      ...(script === undefined ? {} : { script }),
    };
    state.accessLog.write(entry);
  }
}

