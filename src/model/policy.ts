/**
 * Per-Service traffic policy, compiled from `signalbox.dev/*` annotations on the Service and carried
 * by every cluster of that Service. Plain data like the rest of the IR; every field has a default,
 * so a Service without annotations gets {@link DEFAULT_CLUSTER_POLICY}. An annotation with a bad
 * value is a diagnostic and leaves that field at its default — it never affects other fields or
 * other Services.
 */
import type { TlsParameters, TlsVersion } from './tls-parameters.ts';

/** How a cluster's endpoints are chosen for a request. */
export type LbPolicy =
  | 'round-robin'
  | 'weighted-round-robin'
  | 'least-request'
  | 'ewma'
  | 'ring-hash'
  | 'maglev'
  | 'random';

/** Every value of {@link LbPolicy}, in documentation order. */
export const LB_POLICIES: readonly LbPolicy[] = ['round-robin', 'weighted-round-robin', 'least-request', 'ewma', 'ring-hash', 'maglev', 'random'];

/**
 * What the hashing policies hash: a request header, a cookie, a query parameter, the client IP, or
 * the whole request URI (path and query). Names of headers are lower-cased; cookie and query names
 * are case-sensitive.
 */
export type HashOn =
  | { readonly source: 'header'; readonly name: string }
  | { readonly source: 'cookie'; readonly name: string }
  | { readonly source: 'query'; readonly name: string }
  | { readonly source: 'client-ip' }
  | { readonly source: 'uri' };

/** Cookie affinity: the proxy pins a client to an endpoint with a cookie it sets. */
export interface AffinityPolicy {
  readonly cookieName: string;
  /** Cookie lifetime in seconds; 0 means a session cookie. */
  readonly ttlSeconds: number;
  readonly path: string;
  /** The cookie's `SameSite` attribute; absent: `Lax`. */
  readonly sameSite?: CookieSameSite;
  /**
   * True, with `sameSite` `None`: the attribute is left out of the cookie sent to a user agent
   * known to refuse (or to misread) `SameSite=None` — Chrome 40 to 69, iOS 12, Safari on macOS
   * 10.14 — as ingress-nginx's `session-cookie-conditional-samesite-none` does.
   */
  readonly sameSiteNoneCompatibleOnly?: true;
  /** The cookie's `Domain` attribute (lower case, no leading dot); absent: none, the cookie is the host's. */
  readonly domain?: string;
}

/** The values of a cookie's `SameSite` attribute (RFC 6265bis), as they are written. */
export type CookieSameSite = 'None' | 'Lax' | 'Strict';

/** Active health checking: HTTP GET probes from the proxy to every endpoint. */
export interface HealthCheckPolicy {
  /**
   * How an endpoint is probed: absent, an HTTP `GET` of {@link path} in the cluster's protocol,
   * judged by its status; `tcp`, a TCP connect, which passes when it succeeds within the timeout
   * (then `path` is empty and `expectedStatuses` unused). Clusters that only layer-4 routes use
   * (TCP, TLS passthrough) are always probed by a TCP connect.
   */
  readonly kind?: 'tcp';
  /** The path an HTTP probe asks for; empty for a `tcp` probe. */
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive passes that bring a failed endpoint back. */
  readonly healthyThreshold: number;
  /** Consecutive failures that take an endpoint out of rotation. */
  readonly unhealthyThreshold: number;
  /**
   * Inclusive status ranges that count as a pass, e.g. [[200, 399]]: sorted, and overlapping or
   * adjacent ranges merged, so `200,201-204` is [[200, 204]].
   */
  readonly expectedStatuses: readonly (readonly [number, number])[];
}

/** Passive outlier detection: endpoints that keep failing real requests are ejected for a while. */
export interface OutlierPolicy {
  /** Consecutive 5xx responses (gRPC: statuses Envoy maps to one) or connect failures that eject an endpoint; 0 turns detection off. */
  readonly consecutiveFailures: number;
  /** First ejection time; each repeated ejection lasts longer (times the ejection count). */
  readonly baseEjectionMs: number;
  /** Longest ejection. */
  readonly maxEjectionMs: number;
  /** Never eject more than this share of a cluster's endpoints (0-100). */
  readonly maxEjectionPercent: number;
}

/** The largest {@link ClusterPolicy.hashSubsetSize}. */
export const MAX_HASH_SUBSET_SIZE = 1000;

/** The longest {@link RetryPolicy.timeoutMs}: a day. */
export const MAX_RETRY_TIMEOUT_MS = 86_400_000;

/** Retries of failed requests, to a different endpoint. */
export interface RetryPolicy {
  /** Retries after the first try; 0 turns retries off. */
  readonly attempts: number;
  /**
   * Statuses that are retried (besides connect failures), for idempotent methods only: 5xx
   * statuses, ascending, without repeats. Empty: only connect failures are retried.
   */
  readonly onStatuses: readonly number[];
  /**
   * gRPC status codes retried (gRPC's `retryableStatusCodes`) when a gRPC call is answered with a
   * Trailers-Only response carrying one of them — nothing of it has reached the client, and the
   * call's body, if any, was held whole (see grpc-retry.ts in the data plane). Ascending, without
   * repeats, never 0 (OK). Absent or empty: gRPC calls are retried only when the upstream refused
   * them (connect failure, REFUSED_STREAM, GOAWAY before the stream).
   */
  readonly onGrpcStatuses?: readonly number[];
  /**
   * Retries allowed as a percentage of the cluster's requests over the retry budget's window (the
   * last 10 seconds, per worker), on top of `minRetriesPerSecond`.
   */
  readonly budgetPercent: number;
  /**
   * Retries per second always allowed over the window, whatever the traffic (so a quiet cluster
   * can retry, and a burst of failures at once is absorbed); 0 leaves only the percentage.
   */
  readonly minRetriesPerSecond: number;
  /**
   * No retry starts once this many milliseconds have passed since the request's first attempt was
   * sent (ingress-nginx's `proxy-next-upstream-timeout`, nginx's `proxy_next_upstream_timeout`);
   * the attempt under way is not cut short. Absent: no limit.
   */
  readonly timeoutMs?: number;
  /**
   * True: a failure after the request reached the endpoint (a reset, a listed status) is retried
   * for every method, POST, PATCH and LOCK too (ingress-nginx's `retry-non-idempotent`, nginx's
   * `proxy_next_upstream non_idempotent`); a request with a body is still never sent twice, as
   * its body streams. Absent: idempotent methods only.
   */
  readonly nonIdempotent?: true;
}

/**
 * Per-Service timeouts in milliseconds; null means the proxy-wide setting (`--connect-timeout`,
 * `--response-header-timeout`, `--idle-timeout`). As with those flags, 0 turns a timeout off; it is
 * accepted for the response-header and idle timeouts, never for connecting.
 */
export interface TimeoutPolicy {
  readonly connectMs: number | null;
  readonly responseHeadersMs: number | null;
  readonly idleMs: number | null;
}

/** Circuit breaking: past these limits a request fails fast with 503. 0 means no limit. */
export interface CircuitBreakerPolicy {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
}

/**
 * Request pausing while a cluster has no ready endpoint: requests are held (in arrival order, per
 * worker) instead of answered 503, and released gradually once an endpoint is ready.
 */
export interface PausePolicy {
  /** Longest a request is held; 0 turns automatic pausing off (503 at once, as without it). */
  readonly maxWaitMs: number;
  /** Most requests held at once per worker. */
  readonly maxRequests: number;
  /** Most request-body bytes held at once per worker (bodies are not read while held). */
  readonly maxBodyBytes: number;
}

/**
 * How the proxy talks to a cluster's endpoints: HTTP/1.1 in cleartext (`http1`) or over TLS
 * (`https`), HTTP/2 with prior knowledge in cleartext (`h2c`) or over TLS negotiated by ALPN (`h2`).
 * gRPC is HTTP/2: `h2c` or `h2`.
 */
export type BackendProtocol = 'http1' | 'https' | 'h2c' | 'h2';

/** Every value of {@link BackendProtocol}. */
export const BACKEND_PROTOCOLS: readonly BackendProtocol[] = ['http1', 'https', 'h2c', 'h2'];

/**
 * How the proxy checks an endpoint's certificate (`https` and `h2` only), and which TLS versions
 * and ciphers it offers ({@link TlsParameters}: absent, Node's defaults).
 */
export interface BackendTlsPolicy extends TlsParameters {
  /** The name sent as SNI and checked against the certificate; null: the endpoint's address (no SNI for an IP). */
  readonly serverName: string | null;
  /** PEM of the CA certificates that may sign the endpoint's certificate; null: the system roots. */
  readonly caPem: string | null;
  /** False only when the Service turns verification off: any certificate is then accepted. */
  readonly verify: boolean;
  /**
   * The certificate the proxy presents to the endpoints (mTLS), from the `kubernetes.io/tls` Secret
   * `signalbox.dev/backend-tls-client-certificate` names; null: none is presented.
   */
  readonly clientCertificate: BackendClientCertificate | null;
  /**
   * Names of which the endpoint's certificate must carry at least one as a subject alternative
   * name; `serverName` is then only the SNI, not a name checked. Absent: the certificate must match
   * `serverName` (else the address), as TLS clients check. Set only by a Gateway API
   * BackendTLSPolicy's `validation.subjectAltNames`; the chain is verified either way.
   */
  readonly subjectAltNames?: readonly BackendSubjectAltName[];
}

/** A subject alternative name a backend's certificate may carry: a DNS name (wildcards as in RFC 6125) or an exact URI. */
export interface BackendSubjectAltName {
  readonly type: 'Hostname' | 'URI';
  readonly value: string;
}

/**
 * A client certificate for the endpoints of a cluster. When the Secret cannot be used (missing,
 * wrong type, not PEM, key not matching), `problem` says why and the cluster's requests fail with
 * 502 `upstream-tls` rather than reach the endpoints without the certificate the Service asked for.
 */
export type BackendClientCertificate =
  | { readonly secret: string; readonly certPem: string; readonly keyPem: string; readonly problem: null }
  | { readonly secret: string; readonly certPem: null; readonly keyPem: null; readonly problem: string };

/** The upgrade protocol signalbox tunnels when a Service names none. */
export const DEFAULT_UPGRADE_PROTOCOLS: readonly string[] = Object.freeze(['websocket']);

/** Everything a cluster's Service annotations decide. */
export interface ClusterPolicy {
  readonly lbPolicy: LbPolicy;
  /**
   * What `ring-hash` and `maglev` hash; null when not set (then they act like round-robin). Kept
   * when set with another policy, which does not use it (the compiler warns).
   */
  readonly hashOn: HashOn | null;
  /**
   * With `ring-hash` only: the key's hash picks a set of this many endpoints (1 to
   * {@link MAX_HASH_SUBSET_SIZE}), then one of the set at random (ingress-nginx's
   * `upstream-hash-by-subset`). Absent: the hash picks one endpoint.
   */
  readonly hashSubsetSize?: number;
  readonly affinity: AffinityPolicy | null;
  readonly healthCheck: HealthCheckPolicy | null;
  readonly outlier: OutlierPolicy;
  readonly retry: RetryPolicy;
  readonly timeouts: TimeoutPolicy;
  readonly circuitBreaker: CircuitBreakerPolicy;
  readonly pause: PausePolicy;
  /**
   * The `Upgrade` protocol names (RFC 9110 section 7.8) a client may switch to through this
   * cluster: lower-case tokens without version, sorted, never `h2c`. A request offering none of
   * them is served as plain HTTP/1.1 without its `Upgrade`.
   */
  readonly upgradeProtocols: readonly string[];
  /** How the proxy talks to the endpoints (per Service port: its `appProtocol`, or the Service's annotation). */
  readonly protocol: BackendProtocol;
  /** Certificate checks, exactly when {@link protocol} runs over TLS (`https`, `h2`); null otherwise. */
  readonly tls: BackendTlsPolicy | null;
  /**
   * The PROXY protocol header each upstream connection starts with (`v1` text, `v2` binary), naming
   * the client and the listener; null: none. Such a connection carries one client's requests only.
   */
  readonly proxyProtocol: 'v1' | 'v2' | null;
}

/** Certificate checks of a TLS protocol when the Service sets none: the address's name, system roots, verified. */
export const DEFAULT_BACKEND_TLS: BackendTlsPolicy = Object.freeze({ serverName: null, caPem: null, verify: true, clientCertificate: null });

/** The policy of a Service without annotations. */
export const DEFAULT_CLUSTER_POLICY: ClusterPolicy = Object.freeze({
  lbPolicy: 'round-robin',
  hashOn: null,
  affinity: null,
  healthCheck: null,
  outlier: Object.freeze({ consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 }),
  retry: Object.freeze({ attempts: 1, onStatuses: Object.freeze([]) as readonly number[], budgetPercent: 20, minRetriesPerSecond: 10 }),
  timeouts: Object.freeze({ connectMs: null, responseHeadersMs: null, idleMs: null }),
  circuitBreaker: Object.freeze({ maxConnections: 0, maxPendingRequests: 0, maxRequests: 0 }),
  pause: Object.freeze({ maxWaitMs: 5_000, maxRequests: 1_000, maxBodyBytes: 16 * 1024 * 1024 }),
  upgradeProtocols: DEFAULT_UPGRADE_PROTOCOLS,
  proxyProtocol: null,
  protocol: 'http1',
  tls: null,
}) as ClusterPolicy;

/**
 * A Secret or ConfigMap key holding the CA bundle of a {@link BackendTlsOverrides}, in the namespace
 * of the backend reference that carries it (a front end never reaches into another namespace).
 */
export interface OverrideCaRef {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly name: string;
  readonly key: string;
}

/**
 * Certificate checks a route asks for, each field replacing the Service's (see
 * {@link ClusterOverrides}); they apply only when the cluster runs over TLS (`https`, `h2`).
 */
export interface BackendTlsOverrides {
  readonly verify?: boolean;
  /**
   * The TLS versions, as one setting: when either is given, both come from the route (the other
   * at its default), never one from the route and one from the Service.
   */
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
  /** An OpenSSL cipher list, as {@link TlsParameters.ciphers}. */
  readonly ciphers?: string;
  /** The SNI name and the name checked against the endpoint's certificate. */
  readonly serverName?: string;
  readonly ca?: OverrideCaRef;
  /** A `kubernetes.io/tls` Secret of the reference's namespace, presented to the endpoints (mTLS). */
  readonly clientCertificate?: string;
  /**
   * The client certificate of the route's Gateways (`spec.tls.backend`): the Secret `namespace/name`
   * their compile checked, and why it cannot be used (null: it can). Set only by the Gateway API
   * front end; takes the place of {@link clientCertificate}.
   */
  readonly gatewayClientCertificate?: { readonly secret: string; readonly problem: string | null };
  /** The names the certificate must carry one of, instead of `serverName` (see {@link BackendTlsPolicy}). */
  readonly subjectAltNames?: readonly BackendSubjectAltName[];
}

/**
 * Cluster settings a route gives for one Service reference, on top of the Service's own policy:
 * what ingress-nginx, for one, writes on the Ingress rather than on the Service (backend-protocol,
 * proxy timeouts, load-balance, upstream-hash-by, affinity, proxy-next-upstream-tries,
 * proxy-ssl-*). Every field is optional; a field that is set wins over whatever the Service's
 * annotations (or its port's `appProtocol`) say, without a diagnostic: the route is the more
 * specific statement, as in ingress-nginx, where the Service carries no such settings at all.
 * A reference with overrides gets a cluster of its own, `ns/svc:80~<digest>` (see
 * `clusterOverridesDigest`); plain data, compared and digested by its canonical JSON.
 */
export interface ClusterOverrides {
  readonly protocol?: BackendProtocol;
  /** Each field replaces the Service's; null means the proxy-wide flag, as in {@link TimeoutPolicy}. */
  readonly timeouts?: Partial<TimeoutPolicy>;
  readonly lbPolicy?: LbPolicy;
  readonly hashOn?: HashOn;
  readonly hashSubsetSize?: number;
  readonly affinity?: AffinityPolicy;
  /** Each field replaces the Service's. */
  readonly retry?: Partial<RetryPolicy>;
  readonly tls?: BackendTlsOverrides;
}
