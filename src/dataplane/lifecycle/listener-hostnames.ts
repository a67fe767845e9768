/**
 * Misdirected requests on a TLS socket whose listeners name hostnames (the Gateway API's HTTPS
 * listeners, GatewayHTTPSListenerDetectMisdirectedRequests): a connection's handshake chose a
 * listener by its SNI name, and a request on it (HTTP/2 connection reuse, or any client that sends
 * a Host other than its SNI) whose Host another listener of the socket takes is answered 421
 * Misdirected Request (RFC 9110 §15.5.20, RFC 9113 §9.1.1): the client tries again on a
 * connection of its own, whose handshake that listener makes. Which listener takes a name is the
 * router's rule: an exact hostname first, then the wildcard with the longest suffix, then a listener
 * without one. Sockets whose listeners name no hostname (Ingresses alone: ingress-nginx serves a
 * Host on any connection) are not checked, nor requests of handshakes without SNI.
 */
import type { Listener } from '../../model/table.ts';

/** The hostnames of the HTTPS listeners on one socket, and which of them a name reaches. */
export class ListenerHostnames {
  readonly #exact: ReadonlySet<string>;
  /** `*.suffix` patterns as their `.suffix`, the longest first. */
  readonly #suffixes: readonly string[];
  readonly #catchAll: boolean;

  private constructor(exact: ReadonlySet<string>, suffixes: readonly string[], catchAll: boolean) {
    this.#exact = exact;
    this.#suffixes = suffixes;
    this.#catchAll = catchAll;
  }

  /** The check for a socket with `listeners`; null when none of them names a hostname. */
  static of(listeners: readonly Listener[]): ListenerHostnames | null {
    const exact = new Set<string>();
    const suffixes = new Set<string>();
    let catchAll = false;
    for (const l of listeners) {
      if (l.hostname === null) catchAll = true;
      else if (l.hostname.startsWith('*.')) suffixes.add(l.hostname.slice(1));
      else exact.add(l.hostname);
    }
    if (exact.size === 0 && suffixes.size === 0) return null;
    return new ListenerHostnames(exact, [...suffixes].sort((a, b) => b.length - a.length), catchAll);
  }

  /**
   * Whether a request for `host` (the Host or `:authority` as sent: any case, maybe a port or a
   * trailing dot, as the router takes it) on a connection whose SNI name was `serverName` is misdirected.
   */
  misdirected(serverName: string, host: string): boolean {
    return this.#reach(bareName(serverName)) !== this.#reach(bareName(host));
  }

  /** The hostname of the listener that takes `name` ('' for one without a hostname), or null: none. */
  #reach(name: string): string | null {
    if (this.#exact.has(name)) return name;
    for (const suffix of this.#suffixes) if (name.endsWith(suffix) && name.length > suffix.length) return `*${suffix}`;
    return this.#catchAll ? '' : null;
  }
}

/** `host` as a name: lower case, without a port or a trailing dot; '' for an IP literal in brackets (no listener names one). */
function bareName(host: string): string {
  if (host.startsWith('[')) return '';
  const colon = host.indexOf(':');
  let name = colon < 0 ? host : host.slice(0, colon);
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name.toLowerCase();
}
