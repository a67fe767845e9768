/**
 * Every `signalbox.dev/*` annotation signalbox reads, in one table. The parser (annotation-reader.ts,
 * annotation-values.ts, service-policy.ts) takes names, kinds and bounds from here, and the
 * reference in docs/annotations.md is rendered from here (annotations-doc.ts) and tested against
 * it, so the documentation and the behaviour cannot drift apart.
 *
 * Bounds keep values in ranges where they still mean what their name says; each group says why.
 */
import { LB_POLICIES, type HashOn } from '../../model/policy.ts';
import { TLS_VERSIONS } from '../../model/tls-parameters.ts';
import { HOUR, MINUTE, SECOND, type AnnotationSpec, type ObjectKeyRef, type StatusRange } from './annotation-kinds.ts';

export { allowedValues, formatDuration } from './annotation-kinds.ts';
export type {
  AnnotationKind, AnnotatedKind, EnumAnnotation, DurationAnnotation, IntAnnotation, PercentAnnotation, StatusListAnnotation, HashOnAnnotation, PathAnnotation, ObjectRefAnnotation, ObjectNameAnnotation, ObjectKeyRef, TokenAnnotation, TokenListAnnotation, WeightsAnnotation, AnnotationSpec, StatusRange,
} from './annotation-kinds.ts';

/** The prefix of every signalbox annotation. Other annotations are never looked at. */
export const ANNOTATION_PREFIX = 'signalbox.dev/';


/** Every supported annotation, in documentation order. */
export const ANNOTATIONS = [
  // Balancing.
  {
    name: 'signalbox.dev/lb-policy',
    on: 'Service',
    kind: 'enum',
    values: LB_POLICIES,
    default: 'round-robin',
    example: 'least-request',
    description: 'How requests are spread over the endpoints; `ring-hash` and `maglev` need `signalbox.dev/hash-on`.',
  },
  {
    name: 'signalbox.dev/hash-on',
    on: 'Service',
    kind: 'hash-on',
    default: 'none',
    example: 'header:x-user-id',
    description: 'What `ring-hash` and `maglev` hash, so that requests with the same key reach the same endpoint; header names are lower-cased.',
  },

  // Cookie affinity. The lifetime is capped at a year: browsers cap cookies near 400 days anyway.
  {
    name: 'signalbox.dev/affinity',
    on: 'Service',
    kind: 'enum',
    values: ['cookie'],
    default: 'none',
    example: 'cookie',
    description: 'Pins each client to the endpoint that served its first request, with a cookie the proxy sets.',
  },
  {
    name: 'signalbox.dev/affinity-cookie-name',
    on: 'Service',
    kind: 'token',
    default: 'sb-affinity',
    example: 'shop-pin',
    description: 'Name of the affinity cookie; only with `signalbox.dev/affinity`.',
  },
  {
    name: 'signalbox.dev/affinity-cookie-ttl',
    on: 'Service',
    kind: 'duration',
    minMs: SECOND,
    maxMs: 8760 * HOUR,
    zero: 'a session cookie',
    wholeSeconds: true,
    default: '0',
    example: '1h',
    description: 'Lifetime (`Max-Age`) of the affinity cookie; `0` makes it a session cookie; only with `signalbox.dev/affinity`.',
  },
  {
    name: 'signalbox.dev/affinity-cookie-path',
    on: 'Service',
    kind: 'path',
    default: '/',
    example: '/shop',
    description: '`Path` attribute of the affinity cookie; only with `signalbox.dev/affinity`.',
  },

  // Active health checks. Probes more often than every second load every endpoint from every proxy
  // for little gain; less often than every 5 minutes a dead endpoint stays in rotation too long to
  // call the check active. A probe needs at least 100ms to mean anything over a real network.
  {
    name: 'signalbox.dev/health-check-path',
    on: 'Service',
    kind: 'path',
    default: 'none (no active checks)',
    example: '/healthz',
    description: 'Turns on active health checks: the proxy sends `GET` of this path to every endpoint.',
  },
  {
    name: 'signalbox.dev/health-check-kind',
    on: 'Service',
    kind: 'enum',
    values: ['http', 'tcp'],
    default: 'the HTTP probe of `signalbox.dev/health-check-path`',
    example: 'tcp',
    description: '`tcp` turns on active health checks by TCP connect — an endpoint passes when a connection opens within the timeout — without a path; `http` probes with `GET` of `signalbox.dev/health-check-path`. Endpoints of Services that only TCP routes and TLS passthrough use are always probed by TCP connect.',
  },
  {
    name: 'signalbox.dev/health-check-interval',
    on: 'Service',
    kind: 'duration',
    minMs: SECOND,
    maxMs: 5 * MINUTE,
    default: '5s',
    example: '10s',
    description: 'Time between two probes of one endpoint; only with active health checks on.',
  },
  {
    name: 'signalbox.dev/health-check-timeout',
    on: 'Service',
    kind: 'duration',
    minMs: 100,
    maxMs: MINUTE,
    default: '1s',
    example: '2s',
    description: 'How long a probe may take; must be shorter than the interval, and the default is at most half of it; only with active health checks on.',
  },
  {
    name: 'signalbox.dev/health-check-healthy-threshold',
    on: 'Service',
    kind: 'int',
    min: 1,
    max: 100,
    default: '2',
    example: '3',
    description: 'Consecutive passing probes that bring a failed endpoint back; only with active health checks on.',
  },
  {
    name: 'signalbox.dev/health-check-unhealthy-threshold',
    on: 'Service',
    kind: 'int',
    min: 1,
    max: 100,
    default: '3',
    example: '5',
    description: 'Consecutive failing probes that take an endpoint out of rotation; only with active health checks on.',
  },
  {
    name: 'signalbox.dev/health-check-expected-status',
    on: 'Service',
    kind: 'status-list',
    min: 100,
    max: 599,
    default: '200-399',
    example: '200,204,300-399',
    description: 'Response statuses that count as a passing probe; only with `signalbox.dev/health-check-path`.',
  },

  // Passive outlier detection. An ejection shorter than a second is over before it helps; the base
  // time is capped at the default maximum (5m) so that setting it alone never conflicts with it,
  // and no ejection lasts over an hour, after which the endpoint gets a chance again.
  {
    name: 'signalbox.dev/outlier-consecutive-failures',
    on: 'Service',
    kind: 'int',
    min: 0,
    max: 1000,
    default: '5',
    example: '10',
    description: 'Consecutive 5xx responses or connect failures that eject an endpoint for a while (a gRPC call counts by its `grpc-status`: UNAVAILABLE, INTERNAL, UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED and DATA_LOSS are failures, as in Envoy); `0` turns outlier detection off.',
  },
  {
    name: 'signalbox.dev/outlier-base-ejection-time',
    on: 'Service',
    kind: 'duration',
    minMs: SECOND,
    maxMs: 5 * MINUTE,
    default: '30s',
    example: '10s',
    description: 'How long a first ejection lasts; the n-th ejection of an endpoint lasts n times as long.',
  },
  {
    name: 'signalbox.dev/outlier-max-ejection-time',
    on: 'Service',
    kind: 'duration',
    minMs: SECOND,
    maxMs: HOUR,
    default: '5m',
    example: '2m',
    description: 'Longest ejection; must not be shorter than the base ejection time.',
  },
  {
    name: 'signalbox.dev/outlier-max-ejection-percent',
    on: 'Service',
    kind: 'percent',
    default: '50',
    example: '30',
    description: 'Most endpoints of the Service ejected at once, as a percentage.',
  },

  // Retries. More than 10 retries multiply load during an outage rather than hide a blip.
  {
    name: 'signalbox.dev/retries',
    on: 'Service',
    kind: 'int',
    min: 0,
    max: 10,
    default: '1',
    example: '3',
    description: 'Retries of a failed request, each to another endpoint; `0` turns retries off.',
  },
  {
    name: 'signalbox.dev/retry-on',
    on: 'Service',
    kind: 'status-list',
    min: 500,
    max: 599,
    default: 'none (connect failures only)',
    example: '502,503,504',
    description: 'Response statuses retried besides connect failures, for idempotent methods only.',
  },
  {
    name: 'signalbox.dev/retry-on-grpc-status',
    on: 'Service',
    kind: 'grpc-status-list',
    default: 'none (refused calls only)',
    example: 'unavailable,resource-exhausted',
    description: 'gRPC statuses retried on another endpoint when a gRPC call is answered with one of them before any message (a Trailers-Only response) and its request body was at most 64 KiB and complete; calls the upstream refused (connect failure, REFUSED_STREAM, GOAWAY) are retried without it.',
  },
  {
    name: 'signalbox.dev/retry-budget-percent',
    on: 'Service',
    kind: 'percent',
    default: '20',
    example: '10',
    description: 'Retries allowed as a percentage of the requests to the Service over the last 10 seconds (per worker), on top of `retry-budget-min-per-second`.',
  },
  {
    name: 'signalbox.dev/retry-budget-min-per-second',
    on: 'Service',
    kind: 'int',
    min: 0,
    max: 1000,
    default: '10',
    example: '2',
    description: 'Retries per second always allowed over those 10 seconds, however little traffic the Service has: a burst of failures (an endpoint that dies with requests in flight) is absorbed; `0` leaves only the percentage.',
  },

  // Timeouts. A connect cannot succeed in under 10ms across zones and the kernel gives up on its own
  // after about two minutes; response headers may legitimately take up to an hour (long polls,
  // reports); an idle limit under a second would cut ordinary pauses. 0 turns a timeout off, as for
  // the proxy-wide flags, except for connecting, which always needs one.
  {
    name: 'signalbox.dev/connect-timeout',
    on: 'Service',
    kind: 'duration',
    minMs: 10,
    maxMs: MINUTE,
    default: 'the `--connect-timeout` flag',
    example: '2s',
    description: 'How long opening a connection to an endpoint may take; past it the request fails with 504.',
  },
  {
    name: 'signalbox.dev/response-header-timeout',
    on: 'Service',
    kind: 'duration',
    minMs: 100,
    maxMs: HOUR,
    zero: 'no timeout',
    default: 'the `--response-header-timeout` flag',
    example: '2m',
    description: 'How long an endpoint may take to send response headers; past it the request fails with 504.',
  },
  {
    name: 'signalbox.dev/idle-timeout',
    on: 'Service',
    kind: 'duration',
    minMs: SECOND,
    maxMs: HOUR,
    zero: 'no timeout',
    default: 'the `--idle-timeout` flag',
    example: '10m',
    description: 'Longest silence on a response body from an endpoint before the connection is closed.',
  },

  // Circuit breaking. 0 means no limit; a million is far beyond what one proxy can hold open.
  {
    name: 'signalbox.dev/max-connections',
    on: 'Service',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    default: '0 (no limit)',
    example: '1000',
    description: 'Most open connections to the Service\'s endpoints; past it requests fail fast with 503.',
  },
  {
    name: 'signalbox.dev/max-pending-requests',
    on: 'Service',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    default: '0 (no limit)',
    example: '100',
    description: 'Most requests waiting for a connection to the Service; past it requests fail fast with 503.',
  },
  {
    name: 'signalbox.dev/max-requests',
    on: 'Service',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    default: '0 (no limit)',
    example: '500',
    description: 'Most requests in flight to the Service; past it requests fail fast with 503.',
  },

  // Request pausing. Up to an hour covers a migration; a queue beyond 100k requests or 1 GiB of
  // declared bodies per worker would hold more than one proxy should.
  {
    name: 'signalbox.dev/pause-max-wait',
    on: 'Service',
    kind: 'duration',
    minMs: 1,
    maxMs: HOUR,
    zero: 'no pausing: 503 at once',
    default: '5s',
    example: '30s',
    description: 'While the Service has no ready endpoint, hold new requests at the proxy for up to this long, releasing them as soon as one is ready (503 with Retry-After past it).',
  },
  {
    name: 'signalbox.dev/pause-queue-size',
    on: 'Service',
    kind: 'int',
    min: 1,
    max: 100_000,
    default: '1000',
    example: '200',
    description: 'Most requests held for the Service per worker (while paused); past it requests fail fast with 503 and Retry-After.',
  },
  {
    name: 'signalbox.dev/pause-queue-bytes',
    on: 'Service',
    kind: 'int',
    min: 0,
    max: 1_073_741_824,
    default: '16777216',
    example: '1048576',
    description: 'Most request-body bytes (declared Content-Length; 64 KiB for a chunked body) held for the Service per worker; past it requests fail fast with 503.',
  },

  // Protocol upgrades. Only WebSocket by default: a tunnel skips routing and RouteScripts for the
  // rest of the connection, so every other protocol is a Service's explicit choice. h2c is never
  // tunnelled (the compiler drops it with a warning): signalbox speaks HTTP/2 itself, over TLS.
  {
    name: 'signalbox.dev/upgrade-protocols',
    on: 'Service',
    kind: 'token-list',
    default: 'websocket',
    example: 'websocket,my-proto',
    description: 'The `Upgrade` protocols a client may switch to (the connection then becomes a tunnel to the endpoint); an upgrade to any other is served as plain HTTP/1.1 without its `Upgrade`; `h2c` is never tunnelled.',
  },

  // Protocols to backends. A Service port's appProtocol says the same for one port; the annotation,
  // which speaks for every port of the Service, wins. Words in any case: ingress-nginx writes GRPC.
  {
    name: 'signalbox.dev/backend-protocol',
    on: 'Service',
    kind: 'enum',
    values: ['http', 'https', 'h2c', 'h2', 'grpc', 'grpcs'],
    anyCase: true,
    default: 'the port\'s `appProtocol`, else http',
    example: 'grpc',
    description: 'How the proxy talks to the endpoints: HTTP/1.1 (`http`, `https` over TLS), HTTP/2 (`h2c` in cleartext, `h2` over TLS), gRPC (`grpc` in cleartext, `grpcs` over TLS).',
  },
  {
    name: 'signalbox.dev/backend-tls-ca',
    on: 'Service',
    kind: 'object-ref',
    default: 'the system\'s root CAs',
    example: 'configmap/internal-ca/ca.crt',
    description: 'The CA certificates (PEM) that must sign the endpoints\' certificates, from a Secret (`ca.crt`) or a ConfigMap key in the Service\'s namespace; only with a TLS protocol.',
  },
  {
    name: 'signalbox.dev/backend-tls-server-name',
    on: 'Service',
    kind: 'token',
    default: 'none (the endpoint\'s address)',
    example: 'api.internal.example',
    description: 'The name sent as SNI and that the endpoints\' certificates must carry; only with a TLS protocol.',
  },
  {
    name: 'signalbox.dev/backend-tls-verify',
    on: 'Service',
    kind: 'enum',
    values: ['true', 'false'],
    default: 'true',
    example: 'false',
    description: '`false` accepts any certificate from the endpoints (encrypted, but not authenticated); only with a TLS protocol.',
  },
  {
    name: 'signalbox.dev/backend-tls-client-certificate',
    on: 'Service',
    kind: 'object-name',
    default: 'none (no client certificate)',
    example: 'proxy-client-cert',
    description: 'A `kubernetes.io/tls` Secret in the Service\'s namespace whose `tls.crt` and `tls.key` the proxy presents to the endpoints (mTLS); while the Secret is missing or unusable the Service\'s requests fail with 502 `upstream-tls` instead of going out without it; only with a TLS protocol.',
  },

  // TLS versions and ciphers towards the endpoints. TLS 1.0 and 1.1 are not offered: RFC 8996
  // deprecates them and Node's OpenSSL refuses them at its default security level.
  {
    name: 'signalbox.dev/backend-tls-min-version',
    on: 'Service',
    kind: 'enum',
    values: TLS_VERSIONS,
    default: 'TLSv1.2',
    example: 'TLSv1.3',
    description: 'The oldest TLS version the proxy offers the endpoints (TLS 1.0 and 1.1 are never offered); only with a TLS protocol.',
  },
  {
    name: 'signalbox.dev/backend-tls-max-version',
    on: 'Service',
    kind: 'enum',
    values: TLS_VERSIONS,
    default: 'TLSv1.3',
    example: 'TLSv1.2',
    description: 'The newest TLS version the proxy offers the endpoints; not older than `signalbox.dev/backend-tls-min-version`; only with a TLS protocol.',
  },
  {
    name: 'signalbox.dev/backend-tls-ciphers',
    on: 'Service',
    kind: 'cipher-list',
    default: 'the default list of Node.js',
    example: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
    description: 'The OpenSSL cipher list the proxy offers the endpoints for TLS 1.2; TLS 1.3 keeps all its suites unless the list names some (`TLS_AES_128_GCM_SHA256`); a list OpenSSL matches no cipher with is refused; only with a TLS protocol.',
  },

  {
    name: 'signalbox.dev/proxy-protocol',
    on: 'Service',
    kind: 'enum',
    values: ['v1', 'v2'],
    default: 'none',
    example: 'v2',
    description: 'Start each connection to the endpoints with a PROXY protocol header (`v1` text, `v2` binary) naming the client\'s address and port and the listener\'s; such a connection carries the requests of one client connection only.',
  },

  // Endpoint weights. Up to 1000 allows fine ratios; more would only overflow smooth balancers.
  {
    name: 'signalbox.dev/endpoint-weights',
    on: 'Service',
    kind: 'weights',
    min: 1,
    max: 1000,
    default: 'the slice\'s `signalbox.dev/weight`, else 1',
    example: '10.0.0.1=3,10.0.0.2=1',
    description: 'Weights of the endpoints with these addresses, for the balancing policies that weigh endpoints; wins over `signalbox.dev/weight`.',
  },
  {
    name: 'signalbox.dev/weight',
    on: 'EndpointSlice',
    kind: 'int',
    min: 1,
    max: 1000,
    default: '1',
    example: '5',
    description: 'Weight of every endpoint of this EndpointSlice, unless the Service\'s `signalbox.dev/endpoint-weights` names its address.',
  },
] as const satisfies readonly AnnotationSpec[];

/** The name of a supported annotation. */
export type AnnotationName = (typeof ANNOTATIONS)[number]['name'];

/** The table entry of annotation `N`. */
export type AnnotationSpecOf<N extends AnnotationName> = Extract<(typeof ANNOTATIONS)[number], { readonly name: N }>;

/** What a valid value of each kind compiles to. */
export interface AnnotationValues {
  readonly enum: string;
  /** Milliseconds. */
  readonly duration: number;
  readonly int: number;
  readonly percent: number;
  /** Sorted, overlapping or adjacent ranges merged. */
  readonly 'status-list': readonly StatusRange[];
  /** gRPC status codes, ascending, without repeats. */
  readonly 'grpc-status-list': readonly number[];
  readonly 'hash-on': HashOn;
  readonly path: string;
  readonly token: string;
  /** Lower-case, sorted, without repeats. */
  readonly 'token-list': readonly string[];
  /** Weight by address; keys are `addressSortKey`s, so that spellings of one IPv6 address agree. */
  readonly weights: ReadonlyMap<string, number>;
  readonly 'object-ref': ObjectKeyRef;
  readonly 'object-name': string;
  /** As written (trimmed). */
  readonly 'cipher-list': string;
}

/** What a valid value of annotation `N` compiles to; for a word list, one of its words. */
export type AnnotationValue<N extends AnnotationName> =
  AnnotationSpecOf<N> extends { readonly values: readonly (infer W)[] } ? W : AnnotationValues[AnnotationSpecOf<N>['kind']];

const BY_NAME: ReadonlyMap<string, AnnotationSpec> = new Map(ANNOTATIONS.map((spec) => [spec.name, spec]));

/** The table entry named `name`, or undefined for a name signalbox does not know. */
export function annotationSpec(name: string): AnnotationSpec | undefined {
  return BY_NAME.get(name);
}

