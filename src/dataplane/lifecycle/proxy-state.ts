import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Logger } from '../../log.ts';
import type { DataplaneMetrics } from '../../metrics/metrics.ts';
import type { PauseGates } from '../../pause/pause-gates.ts';
import type { PathOptions } from '../../router/normalize-path.ts';
import type { TrustedProxies } from '../server/trusted-proxies.ts';
import type { AuthClient } from '../upstream/auth-client.ts';
import type { UrlMirrorClient } from '../upstream/url-mirror-client.ts';
import type { AccessLog } from './access-log.ts';
import type { PreparedTable } from './prepared-table.ts';
import type { ScriptHost } from './script-host.ts';

/** A client request on either listener: HTTP/1.x or HTTP/2. */
export type ClientRequest = IncomingMessage | Http2ServerRequest;
/** The matching response. */
export type ClientResponse = ServerResponse | Http2ServerResponse;

/** What the request handler reads; `table` changes on every swap, the rest is fixed per worker. */
export interface ProxyState {
  /** The table served now; null until the first one arrives. */
  table: PreparedTable | null;
  readonly metrics: DataplaneMetrics;
  readonly accessLog: AccessLog;
  readonly trusted: TrustedProxies;
  readonly responseHeadersMs: number;
  readonly idleMs: number;
  readonly connectMs: number;
  /** The request body's idle and total limits (0 = off); see RequestBodyTimer. */
  readonly requestBodyIdleMs: number;
  readonly requestBodyMs: number;
  /** Default idle timeouts of TLS passthrough and TCP connections, and of UDP sessions (absent: 10 min, 30 s). */
  readonly streamIdleMs?: number;
  readonly udpIdleMs?: number;
  readonly log: Logger;
  /** The client address of a request, after trusted-proxy resolution (for hashing on client-ip). */
  readonly clientIpOf: (req: ClientRequest) => string;
  /** Runs the RouteScripts of this worker; null where scripts are not served. */
  readonly scripts: ScriptHost | null;
  /** How request paths are normalised before matching (`--no-merge-slashes` and its kin). */
  readonly paths: PathOptions;
  /** Sends the ExternalAuth filters' subrequests (one connection pool per worker); null where they are not sent (500). */
  readonly externalAuth: AuthClient | null;
  /** Sends the UrlMirror filters' copies (one connection pool per worker); null where none are sent. */
  readonly urlMirrors: UrlMirrorClient | null;
  /** Where requests are held while paused; null where nothing is ever held. */
  readonly pauses: PauseGates | null;
  /**
   * Set when shutdown begins (readiness fails): responses then close their HTTP/1.1 connection, so
   * clients move to another replica instead of reusing a connection this one is about to close.
   */
  draining: boolean;
}

/** Facts about the listener a request came in on. */
export interface ListenerInfo {
  /**
   * The socket's name, unique in the worker: `http` and `https` for the data plane's own ports,
   * `http-<port>` / `https-<port>` for a port the table's listeners declare, and
   * `http-<address>-<port>` / `https-<address>-<port>` for one of listeners with an address of
   * their own. It keys the socket's router (PreparedTable.routerFor) and labels its connection metrics.
   */
  readonly name: string;
  readonly proto: 'http' | 'https';
  readonly port: number;
  /**
   * On the data plane's own plain-HTTP socket: the data plane's own HTTPS port (`--https-port` as
   * bound), where a redirect to HTTPS that names its port points. Absent elsewhere, and without HTTPS.
   */
  readonly httpsPort?: number;
  /**
   * Whether this is the data plane's own `--http-port` / `--https-port`: it serves the table's
   * listeners of its protocol whose port is null or its own; a declared port's socket serves only
   * those whose port is its own.
   */
  readonly own: boolean;
  /**
   * The address it is bound to when it is the socket of listeners with an address of their own
   * (Listener.address): it serves only the listeners of that address. Absent: the bind address,
   * serving the listeners without one.
   */
  readonly address?: string;
  /**
   * An address socket on the data plane's own port number of its protocol: it also serves the
   * listeners of its address with port null (as the own socket does those without an address).
   */
  readonly portNull?: boolean;
}
