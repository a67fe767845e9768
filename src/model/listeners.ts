/**
 * The listeners of a routing table — where requests and streams arrive — and the layer-4 routes
 * of its TLS, TCP and UDP listeners. Part of the table model (table.ts re-exports them).
 */
import type { Provenance, WeightedBackend } from './table.ts';
import type { HostTlsParameters } from './tls-parameters.ts';

/**
 * What a listener speaks.
 * - `HTTP`, `HTTPS`: requests, routed by virtual hosts (HTTPS terminates TLS with the table's
 *   certificates).
 * - `TLS`: TLS passthrough, at layer 4. The ClientHello's SNI name chooses a {@link StreamRoute}
 *   and the connection's bytes go to its backend as they are, never decrypted (the Gateway API's
 *   listener protocol TLS with mode Passthrough; ingress-nginx's `ssl-passthrough`). With port
 *   null it shares the data plane's HTTPS port: a connection whose SNI no passthrough route takes
 *   is terminated there as any other HTTPS connection.
 * - `TCP`, `UDP`: every connection (TCP) or client address (UDP) arriving on the port goes to the
 *   listener's one stream route (ingress-nginx's `tcp-services` / `udp-services`, the Gateway
 *   API's TCPRoute / UDPRoute). They always have a port of their own.
 */
export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

/**
 * Where requests arrive: a port and its protocol. Virtual hosts name the HTTP and HTTPS listeners
 * that serve them; stream routes name the TLS, TCP and UDP ones.
 */
export interface Listener {
  /**
   * Unique in the table: `http` and `https` for the Ingress front end's two, `tls-passthrough` for
   * passthrough on the HTTPS port, `tcp-<port>` / `udp-<port>` for the ConfigMap-configured ones.
   */
  readonly name: string;
  readonly protocol: ListenerProtocol;
  /**
   * The port, or null for the data plane's own (`--http-port` for HTTP, `--https-port` for HTTPS and
   * TLS). TCP and UDP listeners always have one; no two TCP listeners (nor two UDP ones) share it.
   * Every worker serves an HTTP, HTTPS or TLS listener's port; the listeners on one port share its
   * socket, which speaks plain HTTP (HTTP listeners) or TLS (HTTPS and TLS ones), never both, and
   * no TCP listener is on it (check-listener-ports.ts).
   */
  readonly port: number | null;
  /**
   * The address it is served on, when it has one of its own (a Gateway's assigned address, from
   * `--gateway-addresses`): the data plane then serves it on a socket bound to that address and
   * `port` (port null: the data plane's own port of its protocol), holding only the listeners of
   * that address and port. Absent: the data plane's bind address, shared with every listener
   * without an address on that port.
   */
  readonly address?: string;
  /**
   * The host (exact or `*.suffix`, lower case) this listener is for; null: any. A front end narrows
   * the virtual hosts it puts on the listener to it (a Gateway listener's hostname intersected with
   * its routes' hostnames); the router serves the virtual hosts as they are.
   */
  readonly hostname: string | null;
  /**
   * HTTPS: the certificates (keys into {@link RoutingTable.certificates} by name) offered by SNI;
   * null for every certificate of the table that is not {@link Certificate.listenerBound}. A port offers those of all its HTTPS listeners; an SNI
   * name none of them serves gets the first certificate listed by the port's first HTTPS listener
   * without a hostname, else the data plane's default one. TLS: the certificates a listener in
   * Terminate mode makes its handshakes with (never null or empty; the one whose names cover the
   * SNI name, else the first), its streams then relayed in plain text; null in Passthrough mode,
   * which holds no certificate (the backend terminates TLS). Null on HTTP, TCP and UDP.
   */
  readonly tls: { readonly certificates: readonly string[] | null } | null;
  /**
   * HTTPS: the TLS versions, cipher list and cipher order of every handshake on the listener's
   * socket that no virtual host's own {@link VirtualHost.tlsParameters} govern — one without SNI,
   * or for a name no host has (ingress-nginx: the controller ConfigMap's `ssl-protocols` and
   * `ssl-ciphers`, nginx's http-level defaults). Of a socket's HTTPS listeners, the first by name
   * that sets them decides. Absent: Node's defaults (TLS 1.2 to 1.3, Node's cipher list).
   */
  readonly tlsParameters?: HostTlsParameters;
  /**
   * Whether a request no virtual host or route takes goes to {@link RoutingTable.defaultRoute}.
   * Always false on TLS, TCP and UDP listeners, which the default route does not serve.
   */
  readonly defaultRoute: boolean;
  readonly provenance: Provenance;
}

/**
 * A layer-4 route: where the connections (or UDP datagrams) of a TLS, TCP or UDP listener go. The
 * data plane relays bytes both ways without reading them (after the ClientHello, on TLS), so
 * nothing of HTTP applies: no filters, no scripts, no retries once a connection is up.
 */
export interface StreamRoute {
  /** The name of the {@link Listener} (protocol TLS, TCP or UDP) it serves. */
  readonly listener: string;
  /**
   * TLS only: the SNI names it takes, lower case, exact or `*.suffix` (one or more labels, the
   * longest suffix first, as nginx's and the Gateway API's wildcards), sorted, never empty; an exact
   * name wins over a wildcard. A name is taken by at most one
   * route of a listener. Empty on TCP and UDP, whose listener has exactly one route.
   */
  readonly hostnames: readonly string[];
  /**
   * Where each new connection (UDP: each new client session) goes, picked by weight, then an
   * endpoint by the cluster's balancer and health. TCP and TLS backends are TCP clusters; UDP
   * backends are UDP clusters ({@link Cluster.transport}). A connection with no usable backend
   * is closed.
   */
  readonly backends: readonly WeightedBackend[];
  /**
   * Close a connection (UDP: forget a session) when no byte has gone either way for this long;
   * null for the data plane's default (`--stream-idle-timeout`).
   */
  readonly idleTimeoutMs: number | null;
  /**
   * Send a PROXY protocol header (version 1) to the backend before the client's bytes, saying
   * whose connection it is (ingress-nginx's fourth `:PROXY` field). TCP and TLS only; false on UDP.
   */
  readonly sendProxyProtocol: boolean;
  /** The ConfigMap entry or Ingress rule it came from. */
  readonly provenance: Provenance;
}
