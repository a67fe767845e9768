/**
 * The router: a routing table prepared for matching requests. Built once per published table;
 * `match` is the proxy's hot path and allocates nothing beyond stripping a port or lower-casing a
 * Host header that needs it.
 */
import type { Route, RoutingTable } from '../model/table.ts';
import { hostKey } from './host-key.ts';
import { PathMatcher } from './path-matcher.ts';

/** Matches requests against one routing table. */
export interface Router {
  /**
   * The route for a request, or null when nothing matches and the table has no default route
   * (the caller answers 404).
   * @param host the raw Host header or `:authority`: any case, maybe with a port, maybe an IP
   *   literal (IP literals only ever reach the catch-all host `*`).
   * @param path the normalised request path, without the query string — see `normalizePath`.
   *   Matching is case-sensitive.
   */
  match(host: string, path: string): Route | null;
}

/**
 * Prepares a routing table for matching.
 *
 * Host selection: the exact host, else the wildcard for the host's suffix after its first label
 * (`a.example.com` → `*.example.com`; one label only, so `a.b.example.com` does not match it, nor
 * does `example.com`), else the catch-all `*`. The most specific virtual host wins outright: when
 * none of its routes match, the request does NOT fall through to a less specific host but goes to
 * `table.defaultRoute` — as with a request that matched no host at all. Path matching inside a
 * host: see {@link PathMatcher}.
 */
export function buildRouter(table: RoutingTable): Router {
  return new TableRouter(table);
}

class TableRouter implements Router {
  readonly #exact = new Map<string, PathMatcher>();
  readonly #wildcard = new Map<string, PathMatcher>();
  readonly #any: PathMatcher | null;
  readonly #fallback: Route | null;

  constructor(table: RoutingTable) {
    let any: PathMatcher | null = null;
    for (const vhost of table.virtualHosts) {
      const host = vhost.host.toLowerCase();
      // The first virtual host for a name wins, like the first route for a path.
      if (vhost.match === 'any') {
        any ??= new PathMatcher(vhost.routes);
      } else if (vhost.match === 'wildcard') {
        const suffix = host.startsWith('*.') ? host.slice(2) : host;
        if (!this.#wildcard.has(suffix)) this.#wildcard.set(suffix, new PathMatcher(vhost.routes));
      } else if (!this.#exact.has(host)) {
        this.#exact.set(host, new PathMatcher(vhost.routes));
      }
    }
    this.#any = any;
    this.#fallback = table.defaultRoute;
  }

  match(host: string, path: string): Route | null {
    const matcher = this.#virtualHost(hostKey(host));
    return matcher?.match(path) ?? this.#fallback;
  }

  #virtualHost(host: string): PathMatcher | null {
    if (host === '') return this.#any;
    const exact = this.#exact.get(host);
    if (exact !== undefined) return exact;
    if (this.#wildcard.size > 0) {
      const dot = host.indexOf('.');
      // The first label must be non-empty and so must the rest: `.example.com` matches nothing.
      if (dot > 0 && dot < host.length - 1) {
        const wildcard = this.#wildcard.get(host.slice(dot + 1));
        if (wildcard !== undefined) return wildcard;
      }
    }
    return this.#any;
  }
}
