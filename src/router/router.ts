/**
 * The router: a routing table prepared for matching requests. Built once per published table;
 * `match` is the proxy's hot path and, for virtual hosts whose routes test only Exact and Prefix
 * paths (every Ingress table), allocates nothing: hosts and path prefixes are looked up by hashing
 * ranges of the request's own strings. Virtual hosts with conditions (regular expressions,
 * methods, headers, query parameters) take the ConditionalMatcher.
 */
import type { Route, RoutingTable } from '../model/table.ts';
import { ConditionalMatcher } from './conditional-matcher.ts';
import { HostIndex } from './host-index.ts';
import type { MatchRequest } from './match-request.ts';
import { PathMatcher, pathOnlyInOrder } from './path-matcher.ts';

export type { MatchRequest } from './match-request.ts';

const COLON = 0x3a;
const DOT = 0x2e;
const OPEN_BRACKET = 0x5b;

/** Matches requests against one routing table. */
export interface Router {
  /**
   * The route for a request, or null when nothing matches and the table has no default route
   * (the caller answers 404).
   * @param host the raw Host header or `:authority`: any case, maybe with a port, maybe with a
   *   trailing dot, maybe an IP literal (IP literals only ever reach the catch-all host `*`).
   * @param path the normalised request path, without the query string — see `normalizePath`.
   *   Matching is case-sensitive (a RegularExpression path with ignoreCase aside).
   * @param request the method, target and raw headers, read only by routes that test them (the
   *   proxy passes its request object as it is); without it such routes never match.
   */
  match(host: string, path: string, request?: MatchRequest): Route | null;
}

/** The routes of one virtual host, ready for matching. */
interface HostRoutes {
  match(path: string, request: MatchRequest | undefined): Route | null;
}

/**
 * Prepares a routing table for matching.
 *
 * Host selection, case-insensitive, port and trailing dot ignored: the exact host, else the
 * wildcard for the host's suffix after its first label (`a.example.com` → `*.example.com`; one
 * label only, so neither `a.b.example.com` nor `example.com` match it), else the longest suffix
 * host that takes it (`a.b.example.com` → `*.b.example.com`, then `*.example.com`), else the
 * catch-all `*`.
 * Virtual hosts of one name on several of the listeners served (Gateways sharing a port) are
 * tried in table order, as one list of routes. The most specific host name wins outright: when
 * none of its routes match, the request does NOT fall through to a less specific host but goes to `table.defaultRoute`, as does a request
 * that matched no host at all. Inside a host, a request takes the first route in table order
 * whose whole match holds (see {@link ConditionalMatcher}; {@link PathMatcher} gives the same
 * answer faster when the routes allow it).
 *
 * With `listeners`, the router serves those listeners of the table only: the virtual hosts that
 * name one of them, and the default route only if one of them has `defaultRoute`. Without, every
 * virtual host and the default route (tools that inspect a table).
 */
export function buildRouter(table: RoutingTable, listeners?: readonly string[]): Router {
  if (listeners === undefined) return new TableRouter(table.virtualHosts, table.defaultRoute);
  const names = new Set(listeners);
  const virtualHosts = table.virtualHosts.filter((vhost) => vhost.listeners.some((name) => names.has(name)));
  const fallback = table.listeners.some((l) => names.has(l.name) && l.defaultRoute) ? table.defaultRoute : null;
  return new TableRouter(virtualHosts, fallback);
}

function hostRoutes(routes: readonly Route[]): HostRoutes {
  return pathOnlyInOrder(routes) ? new PathMatcher(routes) : new ConditionalMatcher(routes);
}

/** The routes of several virtual hosts of one name, tried one host after the other. */
class ChainedRoutes implements HostRoutes {
  readonly #hosts: readonly HostRoutes[];

  constructor(hosts: readonly HostRoutes[]) {
    this.#hosts = hosts;
  }

  match(path: string, request: MatchRequest | undefined): Route | null {
    for (const host of this.#hosts) {
      const route = host.match(path, request);
      if (route !== null) return route;
    }
    return null;
  }
}

class TableRouter implements Router {
  /** Exact hosts by name: the common request (lower-case, no port) is one native map lookup. */
  readonly #exactByName = new Map<string, HostRoutes>();
  /** The same hosts, for Host headers that carry a port, upper case or a trailing dot. */
  readonly #exact = new HostIndex<HostRoutes>();
  /** Keyed by the suffix after `*.`. */
  readonly #wildcard = new HostIndex<HostRoutes>();
  /** Suffix hosts (the Gateway API's wildcards), keyed by the suffix after `*.`. */
  readonly #suffix = new HostIndex<HostRoutes>();
  readonly #any: HostRoutes | null;
  readonly #fallback: Route | null;

  constructor(virtualHosts: RoutingTable['virtualHosts'], fallback: Route | null) {
    // Several listeners of one socket (Gateways sharing a port, an Ingress and a Gateway) may each
    // have a virtual host of one name: a request tries their routes in table order, one host's
    // after the other's — as if their routes were one list. One virtual host per name, the usual
    // case, is matched directly.
    const byName = new Map<string, HostRoutes[]>();
    for (const vhost of virtualHosts) {
      const key = `${vhost.match} ${vhost.host.toLowerCase()}`;
      const list = byName.get(key);
      if (list === undefined) byName.set(key, [hostRoutes(vhost.routes)]);
      else list.push(hostRoutes(vhost.routes));
    }
    let any: HostRoutes | null = null;
    for (const [key, list] of byName) {
      const space = key.indexOf(' ');
      const match = key.slice(0, space);
      const host = key.slice(space + 1);
      const matcher = list.length === 1 ? list[0]! : new ChainedRoutes(list);
      if (match === 'any') any = matcher;
      else if (match === 'wildcard') this.#wildcard.add(host.startsWith('*.') ? host.slice(2) : host, matcher);
      else if (match === 'suffix') this.#suffix.add(host.startsWith('*.') ? host.slice(2) : host, matcher);
      else {
        this.#exactByName.set(host, matcher);
        this.#exact.add(host, matcher);
      }
    }
    this.#any = any;
    this.#fallback = fallback;
  }

  match(host: string, path: string, request?: MatchRequest): Route | null {
    return this.#virtualHost(host)?.match(path, request) ?? this.#fallback;
  }

  #virtualHost(raw: string): HostRoutes | null {
    const direct = this.#exactByName.get(raw);
    if (direct !== undefined) return direct;
    // An IP literal in brackets can never name a virtual host.
    if (raw.length === 0 || raw.charCodeAt(0) === OPEN_BRACKET) return this.#any;
    let end = raw.length;
    let firstDot = -1;
    let upper = false;
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === COLON) {
        end = i;
        break;
      }
      if (c === DOT && firstDot < 0) firstDot = i;
      else if (c >= 0x41 && c <= 0x5a) upper = true;
    }
    // `example.com.` is the same name as `example.com`.
    if (end > 0 && raw.charCodeAt(end - 1) === DOT) end--;
    // Only a header that differs from its key can still match an exact host.
    if (upper || end !== raw.length) {
      const exact = this.#exact.get(raw, 0, end);
      if (exact !== undefined) return exact;
    }
    // The first label and the suffix must both be non-empty: `.example.com` matches no wildcard.
    if (this.#wildcard.size > 0 && firstDot > 0 && firstDot < end - 1) {
      const wildcard = this.#wildcard.get(raw, firstDot + 1, end);
      if (wildcard !== undefined) return wildcard;
    }
    // Suffixes, the longest first: `a.b.example.com` tries `b.example.com`, then `example.com`, then `com`.
    if (this.#suffix.size > 0 && firstDot > 0) {
      for (let dot = firstDot; dot < end - 1; dot++) {
        if (raw.charCodeAt(dot) !== DOT) continue;
        const suffix = this.#suffix.get(raw, dot + 1, end);
        if (suffix !== undefined) return suffix;
      }
    }
    return this.#any;
  }
}
