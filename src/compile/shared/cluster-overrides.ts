/**
 * Per-route cluster overrides (`ServiceBackendRef.overrides`, see ClusterOverrides in
 * src/model/policy.ts): checking what a front end gave, and applying it on top of the policy the
 * Service's annotations compiled to.
 *
 * Overrides win. A field a route sets replaces the Service's, silently: the route is the more
 * specific statement, as in ingress-nginx, whose Ingress annotations are the only place such
 * settings live (its Services carry none). A field a route does not set keeps the Service's value.
 * Overrides that cannot be applied — a bad value, or a reference the Service port does not resolve
 * for — never break the reference: a bad field is reported (`ObjectInvalid`) and dropped, and an
 * unresolved reference keeps the default policy and the plain cluster name, overrides unread.
 */
import type { BackendSubjectAltName, BackendTlsOverrides, BackendTlsPolicy, ClusterOverrides, ClusterPolicy, HashOn, OverrideCaRef, RetryPolicy, TimeoutPolicy } from '../../model/policy.ts';
import { BACKEND_PROTOCOLS, DEFAULT_BACKEND_TLS, LB_POLICIES, MAX_HASH_SUBSET_SIZE, MAX_RETRY_TIMEOUT_MS } from '../../model/policy.ts';
import { canonicalTlsParameters, TLS_VERSIONS, type TlsVersion } from '../../model/tls-parameters.ts';
import { parseHashOn, parsePath, isToken } from './annotation-values.ts';
import { cipherListProblem } from './cipher-list.ts';
import { isTlsProtocol, loadCa, loadClientCertificate, type CaSources } from './backend-protocol.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { isDns1123Subdomain, isRecord } from './guards.ts';

/** One field of the overrides that was dropped, and why. */
export interface OverrideProblem {
  /** The field's path in the overrides: `timeouts.connectMs`. */
  readonly field: string;
  readonly message: string;
}

/** What {@link normalizeOverrides} keeps of a front end's overrides. */
export interface NormalizedOverrides {
  /** The valid fields, in canonical form (fixed key order, empty parts left out); null when none. */
  readonly overrides: ClusterOverrides | null;
  readonly problems: readonly OverrideProblem[];
}

const NONE: NormalizedOverrides = Object.freeze({ overrides: null, problems: Object.freeze([]) as readonly OverrideProblem[] });

/** The bounds of the Service annotations of the same meaning (annotations.ts), in ms. */
const TIMEOUT_BOUNDS: Readonly<Record<keyof TimeoutPolicy, { readonly min: number; readonly max: number; readonly zero: boolean }>> = {
  connectMs: { min: 10, max: 60_000, zero: false },
  responseHeadersMs: { min: 100, max: 3_600_000, zero: true },
  idleMs: { min: 1_000, max: 3_600_000, zero: true },
};

/**
 * Checks overrides as a front end (or a YAML test case) wrote them, any shape: each valid field is
 * kept, each invalid one is a problem and dropped. `undefined`, `null` and overrides that set
 * nothing give no overrides at all, so they name the Service port's own cluster.
 */
export function normalizeOverrides(raw: unknown): NormalizedOverrides {
  if (raw === undefined || raw === null) return NONE;
  const problems: OverrideProblem[] = [];
  const bad = (field: string, message: string): undefined => void problems.push({ field, message });
  if (!isRecord(raw)) {
    bad('', 'must be an object');
    return { overrides: null, problems };
  }
  const out: Record<string, unknown> = {};
  const known = new Set(['protocol', 'timeouts', 'lbPolicy', 'hashOn', 'hashSubsetSize', 'affinity', 'retry', 'tls']);
  for (const key of Object.keys(raw).sort()) if (!known.has(key)) bad(key, 'is not a cluster setting a route can override');

  const protocol = raw['protocol'];
  if (protocol !== undefined) {
    if (typeof protocol === 'string' && (BACKEND_PROTOCOLS as readonly string[]).includes(protocol)) out['protocol'] = protocol;
    else bad('protocol', `must be one of ${BACKEND_PROTOCOLS.join(', ')}, got ${JSON.stringify(protocol)}`);
  }
  const timeouts = section(raw['timeouts'], 'timeouts', bad, (t) => {
    const kept: Record<string, number | null> = {};
    for (const name of ['connectMs', 'responseHeadersMs', 'idleMs'] as const) {
      const value = t[name];
      if (value === undefined) continue;
      const bounds = TIMEOUT_BOUNDS[name];
      const fits = value === null || (Number.isInteger(value) && (((value as number) >= bounds.min && (value as number) <= bounds.max) || (bounds.zero && value === 0)));
      if (fits) kept[name] = value as number | null;
      else bad(`timeouts.${name}`, `must be null or a whole number of ms from ${bounds.min} to ${bounds.max}${bounds.zero ? ' (0: none)' : ''}, got ${JSON.stringify(value)}`);
    }
    return kept;
  });
  if (timeouts !== undefined) out['timeouts'] = timeouts;
  const lbPolicy = raw['lbPolicy'];
  if (lbPolicy !== undefined) {
    if (typeof lbPolicy === 'string' && (LB_POLICIES as readonly string[]).includes(lbPolicy)) out['lbPolicy'] = lbPolicy;
    else bad('lbPolicy', `must be one of ${LB_POLICIES.join(', ')}, got ${JSON.stringify(lbPolicy)}`);
  }
  const hashOn = raw['hashOn'];
  if (hashOn !== undefined) {
    const parsed = isRecord(hashOn) && typeof hashOn['source'] === 'string' ? parseHashOn(hashOnText(hashOn)) : undefined;
    if (parsed?.ok === true) out['hashOn'] = parsed.value;
    else bad('hashOn', parsed === undefined ? 'must be {source, name?}' : parsed.problem);
  }
  const subset = raw['hashSubsetSize'];
  if (subset !== undefined) {
    if (Number.isInteger(subset) && (subset as number) >= 1 && (subset as number) <= MAX_HASH_SUBSET_SIZE) out['hashSubsetSize'] = subset;
    else bad('hashSubsetSize', `must be a whole number from 1 to ${MAX_HASH_SUBSET_SIZE}, got ${JSON.stringify(subset)}`);
  }
  const affinity = raw['affinity'];
  if (affinity !== undefined) {
    const problem = affinityProblem(affinity);
    if (problem === null) {
      const a = affinity as Record<string, unknown>;
      out['affinity'] = {
        cookieName: a['cookieName'],
        ttlSeconds: a['ttlSeconds'],
        path: a['path'],
        ...(a['sameSite'] === undefined ? {} : { sameSite: a['sameSite'] }),
        ...(a['sameSiteNoneCompatibleOnly'] === undefined ? {} : { sameSiteNoneCompatibleOnly: true }),
        ...(a['domain'] === undefined ? {} : { domain: a['domain'] }),
      };
    } else bad('affinity', problem);
  }
  const retry = section(raw['retry'], 'retry', bad, (r) => retryFields(r, bad));
  if (retry !== undefined) out['retry'] = retry;
  const tls = section(raw['tls'], 'tls', bad, (t) => ({ ...tlsFields(t, bad) }));
  if (tls !== undefined) out['tls'] = tls;
  return { overrides: Object.keys(out).length === 0 ? null : (out as ClusterOverrides), problems };
}

/** A nested part of the overrides: checked by `fields`, left out when nothing of it is kept. */
function section(value: unknown, name: string, bad: (field: string, message: string) => undefined, fields: (v: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) return bad(name, 'must be an object');
  const kept = fields(value);
  return Object.keys(kept).length === 0 ? undefined : kept;
}

function hashOnText(h: Record<string, unknown>): string {
  return h['source'] === 'client-ip' || h['source'] === 'uri' ? String(h['source']) : `${String(h['source'])}:${typeof h['name'] === 'string' ? h['name'] : ''}`;
}

const AFFINITY_FIELDS = new Set(['cookieName', 'ttlSeconds', 'path', 'sameSite', 'sameSiteNoneCompatibleOnly', 'domain']);
const COOKIE_DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function affinityProblem(value: unknown): string | null {
  if (!isRecord(value)) return 'must be {cookieName, ttlSeconds, path} (and optionally sameSite, sameSiteNoneCompatibleOnly, domain)';
  const { cookieName, ttlSeconds, path, sameSite, sameSiteNoneCompatibleOnly, domain } = value;
  const extra = Object.keys(value).find((k) => !AFFINITY_FIELDS.has(k));
  if (extra !== undefined) return `${extra} is not an affinity setting`;
  if (sameSite !== undefined && sameSite !== 'None' && sameSite !== 'Lax' && sameSite !== 'Strict') return `sameSite ${JSON.stringify(sameSite)} is not None, Lax or Strict`;
  if (sameSiteNoneCompatibleOnly !== undefined && (sameSiteNoneCompatibleOnly !== true || sameSite !== 'None')) return 'sameSiteNoneCompatibleOnly is true, with sameSite None, or absent';
  if (domain !== undefined && (typeof domain !== 'string' || !COOKIE_DOMAIN.test(domain))) return `domain ${JSON.stringify(domain)} is not a lower-case domain name without a leading dot`;
  if (typeof cookieName !== 'string' || !isToken(cookieName)) return `cookieName ${JSON.stringify(cookieName)} is not an HTTP token`;
  if (!Number.isInteger(ttlSeconds) || (ttlSeconds as number) < 0 || (ttlSeconds as number) > 8760 * 3600) return `ttlSeconds ${JSON.stringify(ttlSeconds)} is not a whole number of seconds from 0 (a session cookie) to 8760 hours`;
  if (typeof path !== 'string') return 'path must be a string';
  const parsed = parsePath(path);
  return parsed.ok ? null : `path ${JSON.stringify(path)}: ${parsed.problem}`;
}

function retryFields(r: Record<string, unknown>, bad: (field: string, message: string) => undefined): Partial<RetryPolicy> {
  const kept: { -readonly [K in keyof RetryPolicy]?: RetryPolicy[K] } = {};
  const int = (name: 'attempts' | 'budgetPercent' | 'minRetriesPerSecond', max: number): void => {
    const value = r[name];
    if (value === undefined) return;
    if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max) kept[name] = value as number;
    else bad(`retry.${name}`, `must be a whole number from 0 to ${max}, got ${JSON.stringify(value)}`);
  };
  int('attempts', 10);
  const on = r['onStatuses'];
  if (on !== undefined) {
    // Sorted and without repeats, as the Service's retry-on gives them.
    if (Array.isArray(on) && on.every((s) => Number.isInteger(s) && s >= 500 && s <= 599)) kept.onStatuses = [...new Set(on as number[])].sort((a, b) => a - b);
    else bad('retry.onStatuses', `must be a list of statuses from 500 to 599, got ${JSON.stringify(on)}`);
  }
  const onGrpc = r['onGrpcStatuses'];
  if (onGrpc !== undefined) {
    if (Array.isArray(onGrpc) && onGrpc.every((s) => Number.isInteger(s) && s >= 1 && s <= 16)) kept.onGrpcStatuses = [...new Set(onGrpc as number[])].sort((a, b) => a - b);
    else bad('retry.onGrpcStatuses', `must be a list of gRPC status codes from 1 to 16, got ${JSON.stringify(onGrpc)}`);
  }
  int('budgetPercent', 100);
  int('minRetriesPerSecond', 1000);
  const ms = r['timeoutMs'];
  if (ms !== undefined) {
    if (Number.isInteger(ms) && (ms as number) >= 1 && (ms as number) <= MAX_RETRY_TIMEOUT_MS) kept.timeoutMs = ms as number;
    else bad('retry.timeoutMs', `must be a whole number of ms from 1 to ${MAX_RETRY_TIMEOUT_MS}, got ${JSON.stringify(ms)}`);
  }
  const nonIdempotent = r['nonIdempotent'];
  if (nonIdempotent !== undefined) {
    if (nonIdempotent === true) kept.nonIdempotent = true;
    else bad('retry.nonIdempotent', `must be true or absent, got ${JSON.stringify(nonIdempotent)}`);
  }
  return kept;
}

function tlsFields(t: Record<string, unknown>, bad: (field: string, message: string) => undefined): BackendTlsOverrides {
  const kept: { -readonly [K in keyof BackendTlsOverrides]?: BackendTlsOverrides[K] } = {};
  if (t['verify'] !== undefined) {
    if (typeof t['verify'] === 'boolean') kept.verify = t['verify'];
    else bad('tls.verify', `must be true or false, got ${JSON.stringify(t['verify'])}`);
  }
  const serverName = t['serverName'];
  if (serverName !== undefined) {
    if (typeof serverName === 'string' && isDns1123Subdomain(serverName.toLowerCase())) kept.serverName = serverName.toLowerCase();
    else bad('tls.serverName', `must be a DNS name, got ${JSON.stringify(serverName)}`);
  }
  const ca = t['ca'];
  if (ca !== undefined) {
    const ok = isRecord(ca) && (ca['kind'] === 'Secret' || ca['kind'] === 'ConfigMap') && isObjectName(ca['name']) && typeof ca['key'] === 'string' && ca['key'] !== '';
    if (ok) kept.ca = { kind: ca['kind'], name: ca['name'], key: ca['key'] } as OverrideCaRef;
    else bad('tls.ca', `must be {kind: Secret or ConfigMap, name, key} in the reference's namespace, got ${JSON.stringify(ca)}`);
  }
  const versions: { minVersion?: TlsVersion; maxVersion?: TlsVersion } = {};
  for (const name of ['minVersion', 'maxVersion'] as const) {
    const value = t[name];
    if (value === undefined) continue;
    if (typeof value === 'string' && (TLS_VERSIONS as readonly string[]).includes(value)) versions[name] = value as TlsVersion;
    else bad(`tls.${name}`, `must be one of ${TLS_VERSIONS.join(', ')} (TLS 1.0 and 1.1 are never offered), got ${JSON.stringify(value)}`);
  }
  if (versions.minVersion !== undefined && versions.maxVersion !== undefined && TLS_VERSIONS.indexOf(versions.minVersion) > TLS_VERSIONS.indexOf(versions.maxVersion)) {
    bad('tls.maxVersion', `must not be older than minVersion ${versions.minVersion}, got ${versions.maxVersion}`);
    delete versions.maxVersion;
  }
  // Written out in full, so that the overrides alone say which versions the route speaks.
  if (versions.minVersion !== undefined || versions.maxVersion !== undefined) {
    kept.minVersion = versions.minVersion ?? 'TLSv1.2';
    kept.maxVersion = versions.maxVersion ?? 'TLSv1.3';
  }
  const ciphers = t['ciphers'];
  if (ciphers !== undefined) {
    const problem = typeof ciphers === 'string' ? cipherListProblem(ciphers) : 'must be a string';
    if (problem === null) kept.ciphers = ciphers as string;
    else bad('tls.ciphers', problem);
  }
  const client = t['clientCertificate'];
  if (client !== undefined) {
    if (isObjectName(client)) kept.clientCertificate = client;
    else bad('tls.clientCertificate', `must be the name of a kubernetes.io/tls Secret in the reference's namespace, got ${JSON.stringify(client)}`);
  }
  const fromGateway = t['gatewayClientCertificate'];
  if (fromGateway !== undefined) {
    const ok = isRecord(fromGateway) && typeof fromGateway['secret'] === 'string' && /^[^/]+\/[^/]+$/.test(fromGateway['secret']) && (fromGateway['problem'] === null || typeof fromGateway['problem'] === 'string') && Object.keys(fromGateway).length === 2;
    if (ok) kept.gatewayClientCertificate = { secret: fromGateway['secret'] as string, problem: fromGateway['problem'] as string | null };
    else bad('tls.gatewayClientCertificate', `must be {secret: namespace/name, problem: null or a string}, got ${JSON.stringify(fromGateway)}`);
  }
  const sans = t['subjectAltNames'];
  if (sans !== undefined) {
    const ok = Array.isArray(sans) && sans.length > 0 && sans.every((n) => isRecord(n) && (n['type'] === 'Hostname' || n['type'] === 'URI') && typeof n['value'] === 'string' && n['value'] !== '' && Object.keys(n).length === 2);
    if (ok) kept.subjectAltNames = (sans as BackendSubjectAltName[]).map(({ type, value }) => ({ type, value }));
    else bad('tls.subjectAltNames', `must be a non-empty list of {type: Hostname or URI, value}, got ${JSON.stringify(sans)}`);
  }
  return kept;
}

function isObjectName(value: unknown): value is string {
  return typeof value === 'string' && isDns1123Subdomain(value);
}

/** A problem with a Secret or ConfigMap the overrides name, to report on every route that uses them. */
export interface OverrideTlsProblem {
  readonly code: 'BackendTlsCaInvalid' | 'BackendTlsClientCertificateInvalid';
  readonly field: string;
  readonly message: string;
}

/**
 * `policy` (the Service port's) with `overrides` applied: every field they set replaces the
 * Service's. The certificate checks start from the Service's when its port already runs over TLS,
 * else from the defaults (a Service's `backend-tls-*` annotations never reach a port the Service
 * itself does not reach over TLS, with or without overrides); the override's CA and client
 * certificate are read from `sources` in `namespace`, the reference's. A protocol without TLS
 * drops the certificate checks, as on a Service.
 */
export function applyOverrides(policy: ClusterPolicy, overrides: ClusterOverrides, namespace: string, sources: CaSources, sink: DiagnosticSink): { policy: ClusterPolicy; problems: OverrideTlsProblem[] } {
  const problems: OverrideTlsProblem[] = [];
  const protocol = overrides.protocol ?? policy.protocol;
  let tls: BackendTlsPolicy | null = null;
  if (isTlsProtocol(protocol)) {
    const base = isTlsProtocol(policy.protocol) ? (policy.tls ?? DEFAULT_BACKEND_TLS) : DEFAULT_BACKEND_TLS;
    tls = overrides.tls === undefined ? base : tlsWith(base, overrides.tls, namespace, sources, sink, problems);
  }
  const hashOn: HashOn | null = overrides.hashOn ?? policy.hashOn;
  return {
    policy: {
      ...policy,
      lbPolicy: overrides.lbPolicy ?? policy.lbPolicy,
      hashOn,
      ...(overrides.hashSubsetSize === undefined ? {} : { hashSubsetSize: overrides.hashSubsetSize }),
      affinity: overrides.affinity ?? policy.affinity,
      retry: overrides.retry === undefined ? policy.retry : { ...policy.retry, ...overrides.retry },
      timeouts: overrides.timeouts === undefined ? policy.timeouts : { ...policy.timeouts, ...overrides.timeouts },
      protocol,
      tls,
    },
    problems,
  };
}

function tlsWith(base: BackendTlsPolicy, o: BackendTlsOverrides, namespace: string, sources: CaSources, sink: DiagnosticSink, problems: OverrideTlsProblem[]): BackendTlsPolicy {
  let caPem = base.caPem;
  if (o.ca !== undefined) {
    const ca = loadCa(namespace, o.ca, sources);
    if (typeof ca === 'string') caPem = ca;
    else {
      // As for the Service's CA: the system roots then verify, which fails closed for a private CA.
      problems.push({ code: 'BackendTlsCaInvalid', field: 'tls.ca', message: `${ca.problem}; the system's root CAs are used instead` });
      caPem = null;
    }
  }
  let clientCertificate = base.clientCertificate;
  const fromGateway = o.gatewayClientCertificate;
  if (fromGateway !== undefined) {
    // Checked and reported on the Gateway; one that cannot be used fails the requests (upstream-tls).
    const [secretNamespace = '', secretName = ''] = fromGateway.secret.split('/');
    clientCertificate = fromGateway.problem === null ? loadClientCertificate(secretNamespace, secretName, sources, sink) : { secret: fromGateway.secret, certPem: null, keyPem: null, problem: fromGateway.problem };
  } else if (o.clientCertificate !== undefined) {
    clientCertificate = loadClientCertificate(namespace, o.clientCertificate, sources, sink);
    if (clientCertificate.problem !== null) {
      problems.push({ code: 'BackendTlsClientCertificateInvalid', field: 'tls.clientCertificate', message: `${clientCertificate.problem}; the route's requests fail with 502 upstream-tls until it is a usable kubernetes.io/tls Secret` });
    }
  }
  // The versions are one setting: a route that gives them replaces both of the Service's.
  const versions = o.minVersion === undefined && o.maxVersion === undefined ? { minVersion: base.minVersion, maxVersion: base.maxVersion } : { minVersion: o.minVersion, maxVersion: o.maxVersion };
  const parameters = canonicalTlsParameters({
    ...(versions.minVersion === undefined ? {} : { minVersion: versions.minVersion }),
    ...(versions.maxVersion === undefined ? {} : { maxVersion: versions.maxVersion }),
    ...((o.ciphers ?? base.ciphers) === undefined ? {} : { ciphers: (o.ciphers ?? base.ciphers)! }),
  });
  const subjectAltNames = o.subjectAltNames ?? base.subjectAltNames;
  return { serverName: o.serverName ?? base.serverName, caPem, verify: o.verify ?? base.verify, clientCertificate, ...parameters, ...(subjectAltNames === undefined ? {} : { subjectAltNames }) };
}
