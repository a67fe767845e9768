/**
 * A Service's traffic policy, from its `signalbox.dev/*` annotations (see annotations.ts for the
 * list). Each annotation decides one field; an annotation whose value is bad, or conflicts with
 * another, is reported and leaves only its own field at the default. Annotations that have no
 * effect where they are — health-check settings without a path, cookie settings without affinity,
 * `hash-on` with a policy that does not hash — are reported as warnings, and so is `h2c` among the
 * upgrade protocols, which is dropped.
 */
import {
  DEFAULT_CLUSTER_POLICY,
  DEFAULT_UPGRADE_PROTOCOLS,
  type AffinityPolicy,
  type CircuitBreakerPolicy,
  type ClusterPolicy,
  type HealthCheckPolicy,
  type LbPolicy,
  type OutlierPolicy,
  type PausePolicy,
  type RetryPolicy,
  type TimeoutPolicy,
  type BackendProtocol,
} from '../../model/policy.ts';
import { canonicalTlsParameters, TLS_VERSIONS, type TlsParameters } from '../../model/tls-parameters.ts';
import type { ObjectKeyRef } from './annotation-kinds.ts';
import { ANNOTATION_CODES, AnnotationReader } from './annotation-reader.ts';
import { expandStatuses } from './annotation-values.ts';
import { formatDuration, type AnnotationName } from './annotations.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import type { Identified } from './objects.ts';

/** What a Service's annotations decide: the policy of its clusters and the weights of its endpoints. */
export interface ServicePolicy {
  readonly policy: ClusterPolicy;
  /** Weights from `signalbox.dev/endpoint-weights`, keyed by `addressSortKey` of the address. */
  readonly endpointWeights: ReadonlyMap<string, number>;
  /** The backend-protocol annotations, which services.ts combines with each port's `appProtocol`. */
  readonly backend: BackendAnnotations;
}

/**
 * What the `signalbox.dev/backend-*` annotations say. The protocol of a cluster also depends on its
 * Service port (`appProtocol`), and the CA on a Secret or ConfigMap, so services.ts finishes the job.
 */
export interface BackendAnnotations {
  /** From `signalbox.dev/backend-protocol`; null when absent or invalid (the port's appProtocol decides). */
  readonly protocol: BackendProtocol | null;
  readonly caRef: ObjectKeyRef | null;
  readonly serverName: string | null;
  readonly verify: boolean;
  /** The name of the TLS Secret of `signalbox.dev/backend-tls-client-certificate`; null when absent or invalid. */
  readonly clientCertificate: string | null;
  /** The versions and ciphers of `signalbox.dev/backend-tls-{min,max}-version` and `-ciphers`, canonical. */
  readonly parameters: TlsParameters;
}

const NO_BACKEND_ANNOTATIONS: BackendAnnotations = Object.freeze({ protocol: null, caRef: null, serverName: null, verify: true, clientCertificate: null, parameters: Object.freeze({}) });

/** The policy of a Service without annotations, or one that cannot be read. */
export const DEFAULT_SERVICE_POLICY: ServicePolicy = Object.freeze({ policy: DEFAULT_CLUSTER_POLICY, endpointWeights: new Map<string, number>(), backend: NO_BACKEND_ANNOTATIONS });

/** What each `signalbox.dev/backend-protocol` word means on the wire; gRPC is HTTP/2. */
const PROTOCOL_WORDS: Readonly<Record<string, BackendProtocol>> = { http: 'http1', https: 'https', h2c: 'h2c', h2: 'h2', grpc: 'h2c', grpcs: 'h2' };

/** Cookie affinity settings when `signalbox.dev/affinity: cookie` sets no others. */
export const DEFAULT_AFFINITY: AffinityPolicy = Object.freeze({ cookieName: 'sb-affinity', ttlSeconds: 0, path: '/' });

/** Health check settings when `signalbox.dev/health-check-path` sets no others (the path aside). */
export const DEFAULT_HEALTH_CHECK: Omit<HealthCheckPolicy, 'path'> = Object.freeze({
  intervalMs: 5_000,
  timeoutMs: 1_000,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  expectedStatuses: Object.freeze([Object.freeze([200, 399] as const)]),
});

/** The policies that use `signalbox.dev/hash-on`. */
const HASH_POLICIES: ReadonlySet<LbPolicy> = new Set<LbPolicy>(['ring-hash', 'maglev']);

const LB_POLICY = 'signalbox.dev/lb-policy';
const HASH_ON = 'signalbox.dev/hash-on';
const AFFINITY = 'signalbox.dev/affinity';
const HEALTH_CHECK_PATH = 'signalbox.dev/health-check-path';
const HEALTH_CHECK_KIND = 'signalbox.dev/health-check-kind';
const HEALTH_CHECK_TIMEOUT = 'signalbox.dev/health-check-timeout';
const OUTLIER_FAILURES = 'signalbox.dev/outlier-consecutive-failures';
const OUTLIER_MAX_EJECTION = 'signalbox.dev/outlier-max-ejection-time';
const RETRIES = 'signalbox.dev/retries';
const UPGRADE_PROTOCOLS = 'signalbox.dev/upgrade-protocols';
const TLS_MIN_VERSION = 'signalbox.dev/backend-tls-min-version';
const TLS_MAX_VERSION = 'signalbox.dev/backend-tls-max-version';

/** The upgrade that is never tunnelled: cleartext HTTP/2 would carry requests past routing and scripts. */
const H2C = 'h2c';

/**
 * Compiles the annotations of one Service. Problems are reported on the Service, with the
 * annotation as path (`Service/ns/name/annotations/signalbox.dev/retries`).
 */
export function parseServicePolicy(service: Identified, sink: DiagnosticSink): ServicePolicy {
  const a = new AnnotationReader(service.id, 'Service', service.obj, sink);
  const policy: ClusterPolicy = {
    ...balancing(a),
    affinity: affinity(a),
    healthCheck: healthCheck(a),
    outlier: outlier(a),
    retry: retry(a),
    timeouts: timeouts(a),
    circuitBreaker: circuitBreaker(a),
    pause: pause(a),
    upgradeProtocols: upgradeProtocols(a),
    proxyProtocol: a.get('signalbox.dev/proxy-protocol') ?? DEFAULT_CLUSTER_POLICY.proxyProtocol,
    // services.ts sets the protocol of each port (its appProtocol, or backend-protocol).
    protocol: DEFAULT_CLUSTER_POLICY.protocol,
    tls: DEFAULT_CLUSTER_POLICY.tls,
  };
  return { policy, endpointWeights: a.get('signalbox.dev/endpoint-weights') ?? DEFAULT_SERVICE_POLICY.endpointWeights, backend: backend(a) };
}

function backend(a: AnnotationReader): BackendAnnotations {
  const word = a.get('signalbox.dev/backend-protocol');
  return {
    protocol: word === undefined ? null : (PROTOCOL_WORDS[word] ?? null),
    caRef: a.get('signalbox.dev/backend-tls-ca') ?? null,
    serverName: a.get('signalbox.dev/backend-tls-server-name') ?? null,
    verify: a.get('signalbox.dev/backend-tls-verify') !== 'false',
    clientCertificate: a.get('signalbox.dev/backend-tls-client-certificate') ?? null,
    parameters: tlsParameters(a),
  };
}

function tlsParameters(a: AnnotationReader): TlsParameters {
  const min = a.get(TLS_MIN_VERSION);
  let max = a.get(TLS_MAX_VERSION);
  if (min !== undefined && max !== undefined && TLS_VERSIONS.indexOf(min) > TLS_VERSIONS.indexOf(max)) {
    // No version would be left to speak; the minimum, the stricter statement, is kept.
    a.reject(TLS_MAX_VERSION, `is older than ${TLS_MIN_VERSION} ${min}`);
    max = undefined;
  }
  const ciphers = a.get('signalbox.dev/backend-tls-ciphers');
  return canonicalTlsParameters({ ...(min === undefined ? {} : { minVersion: min }), ...(max === undefined ? {} : { maxVersion: max }), ...(ciphers === undefined ? {} : { ciphers }) });
}

function balancing(a: AnnotationReader): Pick<ClusterPolicy, 'lbPolicy' | 'hashOn'> {
  const lbPolicy = a.get(LB_POLICY) ?? DEFAULT_CLUSTER_POLICY.lbPolicy;
  const hashOn = a.get(HASH_ON) ?? null;
  // A bad lb-policy is reported already; what the user meant with hash-on is then unknown.
  const lbPolicyValid = !a.has(LB_POLICY) || a.get(LB_POLICY) !== undefined;
  if (hashOn !== null && lbPolicyValid && !HASH_POLICIES.has(lbPolicy)) {
    a.warn(HASH_ON, ANNOTATION_CODES.ignored, `${HASH_ON} has no effect with ${LB_POLICY} ${lbPolicy}: only ring-hash and maglev hash; it is kept but unused`);
  }
  if (HASH_POLICIES.has(lbPolicy) && !a.has(HASH_ON)) {
    a.warn(LB_POLICY, ANNOTATION_CODES.missing, `${LB_POLICY} ${lbPolicy} needs ${HASH_ON} to know what to hash; without it requests are spread like round-robin`);
  }
  return { lbPolicy, hashOn };
}

function affinity(a: AnnotationReader): AffinityPolicy | null {
  const dependents = ['signalbox.dev/affinity-cookie-name', 'signalbox.dev/affinity-cookie-ttl', 'signalbox.dev/affinity-cookie-path'] as const;
  if (!a.has(AFFINITY)) {
    noEffect(a, dependents, `without ${AFFINITY}: cookie`, 'dropped');
    return null;
  }
  if (a.get(AFFINITY) === undefined) return null;
  return {
    cookieName: a.get('signalbox.dev/affinity-cookie-name') ?? DEFAULT_AFFINITY.cookieName,
    ttlSeconds: (a.get('signalbox.dev/affinity-cookie-ttl') ?? DEFAULT_AFFINITY.ttlSeconds * 1_000) / 1_000,
    path: a.get('signalbox.dev/affinity-cookie-path') ?? DEFAULT_AFFINITY.path,
  };
}

function healthCheck(a: AnnotationReader): HealthCheckPolicy | null {
  const dependents = [
    'signalbox.dev/health-check-interval',
    HEALTH_CHECK_TIMEOUT,
    'signalbox.dev/health-check-healthy-threshold',
    'signalbox.dev/health-check-unhealthy-threshold',
    'signalbox.dev/health-check-expected-status',
  ] as const;
  const tcp = a.get(HEALTH_CHECK_KIND) === 'tcp';
  if (!a.has(HEALTH_CHECK_PATH) && !tcp) {
    noEffect(a, [...dependents, HEALTH_CHECK_KIND], `without ${HEALTH_CHECK_PATH} or ${HEALTH_CHECK_KIND}: tcp, which turn health checks on`, 'dropped');
    return null;
  }
  const intervalMs = a.get('signalbox.dev/health-check-interval') ?? DEFAULT_HEALTH_CHECK.intervalMs;
  // The default timeout must stay below a short interval too: at most half of it.
  const defaultTimeoutMs = Math.min(DEFAULT_HEALTH_CHECK.timeoutMs, Math.floor(intervalMs / 2));
  let timeoutMs = a.get(HEALTH_CHECK_TIMEOUT);
  if (timeoutMs !== undefined && timeoutMs >= intervalMs) {
    a.reject(
      HEALTH_CHECK_TIMEOUT,
      `is not valid: it must be shorter than the health-check interval (${formatDuration(intervalMs)})`,
      formatDuration(defaultTimeoutMs),
    );
    timeoutMs = undefined;
  }
  if (tcp) noEffect(a, [HEALTH_CHECK_PATH, 'signalbox.dev/health-check-expected-status'], `with ${HEALTH_CHECK_KIND}: tcp (a probe only connects)`, 'dropped');
  const path = tcp ? '' : a.get(HEALTH_CHECK_PATH);
  // A bad path is reported already and leaves checks off; the other values were still checked.
  if (path === undefined) return null;
  return {
    ...(tcp ? { kind: 'tcp' as const } : {}),
    path,
    intervalMs,
    timeoutMs: timeoutMs ?? defaultTimeoutMs,
    healthyThreshold: a.get('signalbox.dev/health-check-healthy-threshold') ?? DEFAULT_HEALTH_CHECK.healthyThreshold,
    unhealthyThreshold: a.get('signalbox.dev/health-check-unhealthy-threshold') ?? DEFAULT_HEALTH_CHECK.unhealthyThreshold,
    expectedStatuses: a.get('signalbox.dev/health-check-expected-status') ?? DEFAULT_HEALTH_CHECK.expectedStatuses,
  };
}

function outlier(a: AnnotationReader): OutlierPolicy {
  const defaults = DEFAULT_CLUSTER_POLICY.outlier;
  const consecutiveFailures = a.get(OUTLIER_FAILURES) ?? defaults.consecutiveFailures;
  if (consecutiveFailures === 0) {
    const dependents = ['signalbox.dev/outlier-base-ejection-time', OUTLIER_MAX_EJECTION, 'signalbox.dev/outlier-max-ejection-percent'] as const;
    noEffect(a, dependents, `while ${OUTLIER_FAILURES} is 0 (outlier detection off)`, 'kept');
  }
  const baseEjectionMs = a.get('signalbox.dev/outlier-base-ejection-time') ?? defaults.baseEjectionMs;
  let maxEjectionMs = a.get(OUTLIER_MAX_EJECTION);
  if (maxEjectionMs !== undefined && maxEjectionMs < baseEjectionMs) {
    // The base time is capped at the default maximum, so the default is always long enough.
    a.reject(OUTLIER_MAX_EJECTION, `is not valid: it must not be shorter than the base ejection time (${formatDuration(baseEjectionMs)})`);
    maxEjectionMs = undefined;
  }
  return {
    consecutiveFailures,
    baseEjectionMs,
    maxEjectionMs: maxEjectionMs ?? defaults.maxEjectionMs,
    maxEjectionPercent: a.get('signalbox.dev/outlier-max-ejection-percent') ?? defaults.maxEjectionPercent,
  };
}

function retry(a: AnnotationReader): RetryPolicy {
  const defaults = DEFAULT_CLUSTER_POLICY.retry;
  const attempts = a.get(RETRIES) ?? defaults.attempts;
  if (attempts === 0) noEffect(a, ['signalbox.dev/retry-on', 'signalbox.dev/retry-on-grpc-status', 'signalbox.dev/retry-budget-percent', 'signalbox.dev/retry-budget-min-per-second'], `while ${RETRIES} is 0 (retries off)`, 'kept');
  const on = a.get('signalbox.dev/retry-on');
  const onGrpc = a.get('signalbox.dev/retry-on-grpc-status');
  return {
    attempts,
    onStatuses: on === undefined ? defaults.onStatuses : expandStatuses(on),
    // Kept out of the policy when not set, so that clusters without it compile as they did.
    ...(onGrpc === undefined ? {} : { onGrpcStatuses: onGrpc }),
    budgetPercent: a.get('signalbox.dev/retry-budget-percent') ?? defaults.budgetPercent,
    minRetriesPerSecond: a.get('signalbox.dev/retry-budget-min-per-second') ?? defaults.minRetriesPerSecond,
  };
}

function timeouts(a: AnnotationReader): TimeoutPolicy {
  return {
    connectMs: a.get('signalbox.dev/connect-timeout') ?? null,
    responseHeadersMs: a.get('signalbox.dev/response-header-timeout') ?? null,
    idleMs: a.get('signalbox.dev/idle-timeout') ?? null,
  };
}

function circuitBreaker(a: AnnotationReader): CircuitBreakerPolicy {
  const defaults = DEFAULT_CLUSTER_POLICY.circuitBreaker;
  return {
    maxConnections: a.get('signalbox.dev/max-connections') ?? defaults.maxConnections,
    maxPendingRequests: a.get('signalbox.dev/max-pending-requests') ?? defaults.maxPendingRequests,
    maxRequests: a.get('signalbox.dev/max-requests') ?? defaults.maxRequests,
  };
}

function pause(a: AnnotationReader): PausePolicy {
  const defaults = DEFAULT_CLUSTER_POLICY.pause;
  return {
    maxWaitMs: a.get('signalbox.dev/pause-max-wait') ?? defaults.maxWaitMs,
    maxRequests: a.get('signalbox.dev/pause-queue-size') ?? defaults.maxRequests,
    maxBodyBytes: a.get('signalbox.dev/pause-queue-bytes') ?? defaults.maxBodyBytes,
  };
}

function upgradeProtocols(a: AnnotationReader): readonly string[] {
  const listed = a.get(UPGRADE_PROTOCOLS);
  if (listed === undefined) return DEFAULT_UPGRADE_PROTOCOLS;
  if (!listed.includes(H2C)) return listed;
  const kept = listed.filter((p) => p !== H2C);
  const then = kept.length === 0 ? 'no upgrade is tunnelled to this Service' : `the others are kept (${kept.join(', ')})`;
  a.warn(UPGRADE_PROTOCOLS, ANNOTATION_CODES.ignored, `${UPGRADE_PROTOCOLS} lists h2c, which is never tunnelled (an h2c upgrade is served as plain HTTP/1.1); h2c is dropped and ${then}`);
  return kept;
}

/**
 * Warns about each of `names` that is set to a valid value (a bad one is reported already): it has
 * no effect `why`. `kept` says whether its value still appears in the policy.
 */
function noEffect(a: AnnotationReader, names: readonly AnnotationName[], why: string, kept: 'kept' | 'dropped'): void {
  const outcome = kept === 'kept' ? 'it is kept but unused' : 'it is ignored';
  for (const name of names) {
    if (a.get(name) !== undefined) a.warn(name, ANNOTATION_CODES.ignored, `${name} has no effect ${why}; ${outcome}`);
  }
}
