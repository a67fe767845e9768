/**
 * The invariants of a routing table: what the router, the data plane and the TLS listener rely on
 * without checking again, and what table.ts promises in its comments. `compile` must only ever
 * produce tables that pass; the golden and robustness tests hold it to that.
 *
 * The checker takes the shape of a table for granted (that is the type checker's job) and checks
 * what types cannot say: references that resolve, names in their canonical form, values in range,
 * the orders that make compiled JSON deterministic, provenance on every node, and plain JSON.
 */
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { jsonProblems, member } from './plain-json.ts';
import { DEFAULT_CLUSTER_POLICY, LB_POLICIES, MAX_HASH_SUBSET_SIZE, MAX_RETRY_TIMEOUT_MS, type ClusterOverrides, type ClusterPolicy } from './policy.ts';
import { canonicalTlsParameters, tlsParameterOptions, tlsParametersProblem } from './tls-parameters.ts';
import { checkRoute, checkRouteOrder, type RouteRefs } from './check-routes.ts';
import { canonicalJson, withOverridesSuffix } from './override-digest.ts';
import { checkStreamListener, checkStreamRoutes } from './check-stream-routes.ts';
import { checkListenerPorts } from './check-listener-ports.ts';
import { checkClientAuth } from './check-client-auth.ts';
import type { Certificate, Cluster, CompiledScript, Listener, Provenance, Route, RoutingTable, VirtualHost } from './table.ts';

/** One broken invariant. */
export interface TableViolation {
  /** Where in the table, as a property path: `virtualHosts[0].routes[2]`, `clusters["shop/web:80"]`. */
  readonly at: string;
  /** The provenance of the node concerned (the first, for nodes with several); '' when it has none. */
  readonly provenance: Provenance;
  readonly message: string;
}

// `Kind/namespace/name`, then the part of the object: `Ingress/shop/web/rule/0/path/1`.
const PROVENANCE = /^[A-Z][A-Za-z0-9]*(\/[^/]+){2,}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MATCH_ORDER: Readonly<Record<VirtualHost['match'], number>> = { exact: 0, wildcard: 1, suffix: 2, any: 3 };
/** A lower-case header field name (RFC 9110 §5.1). */
const ADDRESS_HEADER = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/**
 * Checks a routing table; returns every violation found, in table order, or an empty list when the
 * table is sound. Pure: it reads the table and nothing else.
 */
export function checkTable(table: RoutingTable): TableViolation[] {
  const out: TableViolation[] = [];
  const report = (at: string, provenance: Provenance | readonly Provenance[], message: string): void => {
    out.push({ at, provenance: typeof provenance === 'string' ? provenance : (provenance[0] ?? ''), message });
  };
  for (const p of jsonProblems(table)) report(p.at, '', `not plain JSON: ${p.message}`);
  const provenanceOf = (at: string, value: Provenance | readonly Provenance[]): void => {
    const list = typeof value === 'string' ? [value] : value;
    if (list.length === 0) report(at, '', 'has no provenance');
    for (const p of list) if (!PROVENANCE.test(p)) report(at, p, `provenance ${JSON.stringify(p)} is not of the form Kind/namespace/name/...`);
  };
  const used = new Set<string>();
  const clusterRef = (at: string, provenance: Provenance, name: string, namespace: string | null, what: string, grant?: Provenance): void => {
    used.add(name);
    // Ingresses and RouteScripts reach only Services of their own namespace: anything else crosses
    // tenants, and is allowed only with a ReferenceGrant of the cluster's namespace (Gateway API routes).
    const cluster = Object.hasOwn(table.clusters, name) ? table.clusters[name] : undefined;
    if (cluster === undefined) report(at, provenance, `${what} ${JSON.stringify(name)} is not in clusters`);
    else if (namespace !== null && cluster.namespace !== namespace) {
      if (grant === undefined) report(at, provenance, `${what} ${name} is in namespace ${cluster.namespace}, not ${namespace}`);
      else if (!grant.startsWith(`ReferenceGrant/${cluster.namespace}/`)) report(at, provenance, `${what} ${name} is in namespace ${cluster.namespace}, and ${grant} is not a ReferenceGrant of that namespace`);
    }
  };

  const refsFor = (namespace: string | null): RouteRefs => ({
    cluster: (at, p, name, what, grant, anyNamespace) => clusterRef(at, p, name, anyNamespace === true ? null : namespace, what, grant),
    script: (at, p, name) => {
      if (!Object.hasOwn(table.scripts, name)) report(at, p, `script ${JSON.stringify(name)} is not in scripts`);
      else if (namespace !== null && name.split('/')[0] !== namespace) report(at, p, `script ${name} is not in namespace ${namespace}`);
    },
  });
  const route = (at: string, r: Route): void => {
    provenanceOf(at, r.provenance);
    checkRoute(at, r, refsFor(namespaceOf(r.provenance)), report);
  };

  const listenerNames = new Set<string>();
  const streamPorts = new Set<string>();
  table.listeners.forEach((listener, i) => {
    const at = `listeners[${i}]`;
    checkListener(at, listener, table.listeners[i - 1], table.certificates, report);
    checkStreamListener(at, listener, streamPorts, report);
    // Virtual hosts may name only HTTP and HTTPS listeners; the others serve stream routes.
    if (listener.protocol === 'HTTP' || listener.protocol === 'HTTPS') listenerNames.add(listener.name);
  });
  checkListenerPorts(table.listeners, report);
  checkStreamRoutes(table.streamRoutes, {
    listeners: table.listeners,
    cluster: (at, p, name, grant) => {
      // A services ConfigMap is the operator's (named by a flag), and reaches Services of any namespace.
      clusterRef(at, p, name, p.startsWith('ConfigMap/') ? null : namespaceOf(p), 'cluster', grant);
      return Object.hasOwn(table.clusters, name) ? table.clusters[name] : undefined;
    },
    hostProblem: (host) => hostProblem(host, host.startsWith('*.') ? 'wildcard' : 'exact'),
  }, report);
  const hostsOn = new Map<string, Set<string>>();
  table.virtualHosts.forEach((vhost, i) => {
    const at = `virtualHosts[${i}]`;
    provenanceOf(at, vhost.provenance);
    const problem = hostProblem(vhost.host, vhost.match);
    if (problem !== null) report(at, vhost.provenance, problem);
    if (vhost.listeners.length === 0) report(at, vhost.provenance, `host ${vhost.host} is served on no listener`);
    const twice: string[] = [];
    vhost.listeners.forEach((name, k) => {
      if (!listenerNames.has(name)) report(at, vhost.provenance, `listener ${JSON.stringify(name)} is not an HTTP or HTTPS listener of listeners`);
      const before = vhost.listeners[k - 1];
      if (before !== undefined && compareStrings(before, name) >= 0) report(at, vhost.provenance, `listener ${name} comes after ${before}: listeners are sorted, once each`);
      let hosts = hostsOn.get(name);
      if (hosts === undefined) hostsOn.set(name, (hosts = new Set()));
      if (hosts.has(vhost.host)) twice.push(name);
      hosts.add(vhost.host);
    });
    if (twice.length > 0) report(at, vhost.provenance, `host ${vhost.host} has a second virtual host on ${twice.join(', ')}, which the router would never use`);
    const previous = table.virtualHosts[i - 1];
    if (previous !== undefined && (MATCH_ORDER[previous.match] - MATCH_ORDER[vhost.match] || compareStrings(previous.host, vhost.host) || compareStrings(previous.listeners.join(), vhost.listeners.join())) > 0) {
      report(at, vhost.provenance, `host ${vhost.host} comes after ${previous.host}: exact hosts come first, then wildcards, then *, each by name`);
    }
    if (vhost.clientAuth !== undefined) checkClientAuth(`${at}.clientAuth`, vhost, vhost.clientAuth, report);
    if (vhost.tlsParameters !== undefined) {
      const problem = tlsParametersProblem(vhost.tlsParameters);
      const prefer = vhost.tlsParameters.preferServerCiphers;
      if (problem !== null) report(`${at}.tlsParameters`, vhost.provenance, problem);
      else if (prefer !== undefined && typeof prefer !== 'boolean') report(`${at}.tlsParameters`, vhost.provenance, 'preferServerCiphers is true, false or absent');
      else if (Object.keys(vhost.tlsParameters).length === 0) report(`${at}.tlsParameters`, vhost.provenance, 'TLS parameters that set nothing are written as none');
    }
    if (vhost.routes.length === 0) report(at, vhost.provenance, `host ${vhost.host} has no routes`);
    vhost.routes.forEach((r, j) => route(`${at}.routes[${j}]`, r));
    checkRouteOrder(`${at}.routes`, vhost.routes, report);
  });
  const fallback = table.defaultRoute;
  if (fallback !== null) {
    route('defaultRoute', fallback);
    const m = fallback.match;
    if (m.path.type !== 'Prefix' || m.path.value !== '/' || m.method !== undefined || m.headers !== undefined || m.queryParams !== undefined) {
      report('defaultRoute', fallback.provenance, 'the default route must be Prefix / without conditions');
    }
  }

  const addressHeader = table.clientAddressHeader;
  if (addressHeader !== undefined && (typeof addressHeader !== 'string' || !ADDRESS_HEADER.test(addressHeader) || addressHeader === 'host' || addressHeader === 'connection')) {
    report('clientAddressHeader', '', `clientAddressHeader ${JSON.stringify(addressHeader)} is not a lower-case header name other than host and connection`);
  }

  sortedKeys('scripts', table.scripts, report);
  for (const [key, script] of Object.entries(table.scripts)) checkScript(member('scripts', key), key, script, report, clusterRef);

  sortedKeys('clusters', table.clusters, report);
  for (const [key, cluster] of Object.entries(table.clusters)) {
    const at = member('clusters', key);
    provenanceOf(at, cluster.provenance);
    checkCluster(at, key, cluster, report);
    if (!used.has(key)) report(at, cluster.provenance, `cluster ${key} is used by no route and no script`);
    const endpoints = new Set<string>();
    cluster.endpoints.forEach((e, i) => {
      const eAt = `${at}.endpoints[${i}]`;
      provenanceOf(eAt, e.provenance);
      const id = `${e.address} port ${e.port}`;
      if (isIP(e.address) === 0) report(eAt, e.provenance, `address ${JSON.stringify(e.address)} is not an IP address`);
      if (!inRange(e.port, 1, 65535)) report(eAt, e.provenance, `port ${e.port} is not a port number (1-65535)`);
      if (!inRange(e.weight, 1, 1000)) report(eAt, e.provenance, `weight ${e.weight} is not an integer from 1 to 1000`);
      const namespace = namespaceOf(e.provenance);
      if (namespace !== null && namespace !== cluster.namespace) report(eAt, e.provenance, `endpoint of namespace ${namespace} in a cluster of namespace ${cluster.namespace}`);
      if (endpoints.has(id)) report(eAt, e.provenance, `${id} is listed twice`);
      endpoints.add(id);
    });
  }

  const sni = new Map<string, string>();
  table.certificates.forEach((certificate, i) => {
    const at = `certificates[${i}]`;
    provenanceOf(at, certificate.provenance);
    const before = table.certificates[i - 1];
    if (before !== undefined && compareStrings(before.name, certificate.name) >= 0) report(at, certificate.provenance, `certificate ${certificate.name} comes after ${before.name}: certificates are sorted by name, once each`);
    checkCertificate(at, certificate, sni, report);
    // Offered only where a listener lists it: one no listener lists would be offered nowhere.
    if (certificate.listenerBound === true && !table.listeners.some((l) => l.tls?.certificates?.includes(certificate.name) === true)) report(at, certificate.provenance, `certificate ${certificate.name} is bound to listeners, but no listener lists it`);
  });
  return out;
}

type Report = (at: string, provenance: Provenance | readonly Provenance[], message: string) => void;

// The listeners a front end makes from the data plane's own flags name no object: `Listener/http`.
const OWN_LISTENER = /^Listener\/[a-z0-9][-a-z0-9]*$/;
// A Gateway listener's table name (src/compile/gateway/names.ts).
const GATEWAY_LISTENER = /^(?:gateway|listenerset)\/[a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*\/[a-z0-9][-a-z0-9]*$/;

function checkListener(at: string, l: Listener, before: Listener | undefined, certificates: readonly Certificate[], report: Report): void {
  const p = l.provenance;
  if (!PROVENANCE.test(p) && !OWN_LISTENER.test(p)) report(at, p, `provenance ${JSON.stringify(p)} is not of the form Kind/namespace/name/... or Listener/name`);
  if (!/^[a-z0-9][-a-z0-9]*$/.test(l.name) && !GATEWAY_LISTENER.test(l.name)) report(at, p, `listener name ${JSON.stringify(l.name)} is not a lower-case name (or gateway/<namespace>/<name>/<listener>)`);
  if (before !== undefined && compareStrings(before.name, l.name) >= 0) report(at, p, `listener ${l.name} comes after ${before.name}: listeners are sorted by name, once each`);
  if (!['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'].includes(l.protocol)) report(at, p, `protocol ${JSON.stringify(l.protocol)} is not HTTP, HTTPS, TLS, TCP or UDP`);
  if (l.port !== null && !inRange(l.port, 1, 65535)) report(at, p, `port ${l.port} is not a port number (1-65535)`);
  // The data plane binds a socket to it: a name would need resolving, and could mean several.
  if (l.address !== undefined && isIP(l.address) === 0) report(at, p, `address ${JSON.stringify(l.address)} is not an IP address`);
  if (l.hostname !== null) {
    const problem = hostProblem(l.hostname, l.hostname.startsWith('*.') ? 'wildcard' : 'exact');
    if (problem !== null) report(at, p, problem);
  }
  // A TLS listener terminates (settings) or passes through (none); the others are fixed by their protocol.
  if (l.protocol !== 'TLS' && (l.protocol === 'HTTPS') !== (l.tls !== null)) report(at, p, 'an HTTPS listener has TLS settings and an HTTP one has none');
  if (l.protocol === 'TLS' && l.tls !== null && (l.tls.certificates === null || l.tls.certificates.length === 0)) report(at, p, 'a terminating TLS listener names its certificates');
  for (const name of l.tls?.certificates ?? []) if (!certificates.some((c) => c.name === name)) report(at, p, `certificate ${JSON.stringify(name)} is not in certificates`);
  if (l.tlsParameters !== undefined) {
    const problem = tlsParametersProblem(l.tlsParameters);
    const prefer = l.tlsParameters.preferServerCiphers;
    if (l.protocol !== 'HTTPS') report(`${at}.tlsParameters`, p, 'only an HTTPS listener has TLS parameters');
    else if (problem !== null) report(`${at}.tlsParameters`, p, problem);
    else if (prefer !== undefined && typeof prefer !== 'boolean') report(`${at}.tlsParameters`, p, 'preferServerCiphers is true, false or absent');
    else if (Object.keys(l.tlsParameters).length === 0) report(`${at}.tlsParameters`, p, 'TLS parameters that set nothing are written as none');
  }
}

function checkCluster(at: string, key: string, c: Cluster, report: Report): void {
  if (c.name !== key) report(at, c.provenance, `cluster ${c.name} is listed under another name, ${key}`);
  const base = `${c.namespace}/${c.service}:`;
  const suffix = c.transport === 'UDP' ? '/UDP' : '';
  if (c.transport !== undefined && c.transport !== 'UDP') report(at, c.provenance, `transport ${JSON.stringify(c.transport)} is not UDP (TCP is written as no transport)`);
  if (c.servicePort !== null) {
    // Overrides make a cluster of their own, named by their digest, so that the name says which.
    const name = withOverridesSuffix(`${base}${c.servicePort}${suffix}`, c.overrides ?? null);
    if (!inRange(c.servicePort, 1, 65535) || c.name !== name) report(at, c.provenance, `a cluster of Service port ${c.servicePort} must be named ${name}, not ${c.name}`);
    if (c.overrides !== undefined && canonicalJson(c.overrides) === '{}') report(at, c.provenance, 'overrides that set nothing are written as no overrides');
    if (c.overrides !== undefined) for (const field of unappliedOverrides(c.overrides, c.policy)) report(at, c.provenance, `the policy does not apply its overrides' ${field}`);
  }
  if (c.servicePort === null) {
    if (c.overrides !== undefined) report(at, c.provenance, 'an unresolved cluster has overrides');
    if (!c.name.startsWith(base) || c.name.length === base.length) report(at, c.provenance, `an unresolved cluster must be named ${base}<port as referenced>, not ${c.name}`);
    if (c.endpoints.length > 0) report(at, c.provenance, 'an unresolved cluster has endpoints');
    if (!isDeepStrictEqual(c.policy, DEFAULT_CLUSTER_POLICY)) report(at, c.provenance, 'an unresolved cluster has a policy other than the default');
  }
  const subset = c.policy.hashSubsetSize;
  if (subset !== undefined && (!inRange(subset, 1, MAX_HASH_SUBSET_SIZE) || c.policy.lbPolicy !== 'ring-hash')) report(at, c.provenance, `hashSubsetSize ${subset} is not a whole number from 1 to ${MAX_HASH_SUBSET_SIZE} on a ring-hash cluster`);
  const nonIdempotent = c.policy.retry.nonIdempotent;
  if (nonIdempotent !== undefined && nonIdempotent !== true) report(at, c.provenance, 'retry.nonIdempotent is neither true nor absent');
  const retryMs = c.policy.retry.timeoutMs;
  if (retryMs !== undefined && !inRange(retryMs, 1, MAX_RETRY_TIMEOUT_MS)) report(at, c.provenance, `retry.timeoutMs ${retryMs} is not a whole number of milliseconds from 1 to ${MAX_RETRY_TIMEOUT_MS}`);
  if (!LB_POLICIES.includes(c.policy.lbPolicy)) report(at, c.provenance, `lbPolicy ${JSON.stringify(c.policy.lbPolicy)} is not one of ${LB_POLICIES.join(', ')}`);
  if (c.policy.tls !== null) {
    const problem = tlsParametersProblem(c.policy.tls);
    if (problem !== null) report(at, c.provenance, `policy.tls: ${problem}`);
    else if (canonicalJson(canonicalTlsParameters(c.policy.tls)) !== canonicalJson(tlsParameterOptions(c.policy.tls))) report(at, c.provenance, 'policy.tls: a TLS version equal to the default is written as none');
  }
}

/**
 * The fields of `overrides` that `policy` does not carry: a cluster's policy is its Service's with
 * every override applied (certificate checks only when the protocol runs over TLS).
 */
function unappliedOverrides(overrides: ClusterOverrides, policy: ClusterPolicy): string[] {
  const out: string[] = [];
  const same = (field: string, wanted: unknown, actual: unknown): void => {
    if (wanted !== undefined && !isDeepStrictEqual(wanted, actual)) out.push(field);
  };
  same('protocol', overrides.protocol, policy.protocol);
  same('lbPolicy', overrides.lbPolicy, policy.lbPolicy);
  same('hashOn', overrides.hashOn, policy.hashOn);
  same('hashSubsetSize', overrides.hashSubsetSize, policy.hashSubsetSize);
  same('affinity', overrides.affinity, policy.affinity);
  for (const [key, value] of Object.entries(overrides.timeouts ?? {})) same(`timeouts.${key}`, value, policy.timeouts[key as keyof ClusterPolicy['timeouts']]);
  for (const [key, value] of Object.entries(overrides.retry ?? {})) same(`retry.${key}`, value, policy.retry[key as keyof ClusterPolicy['retry']]);
  if (policy.tls !== null) {
    same('tls.verify', overrides.tls?.verify, policy.tls.verify);
    same('tls.serverName', overrides.tls?.serverName, policy.tls.serverName);
    same('tls.subjectAltNames', overrides.tls?.subjectAltNames, policy.tls.subjectAltNames);
    if (overrides.tls?.clientCertificate !== undefined && policy.tls.clientCertificate?.secret.split('/')[1] !== overrides.tls.clientCertificate) out.push('tls.clientCertificate');
    const fromGateway = overrides.tls?.gatewayClientCertificate;
    if (fromGateway !== undefined && (policy.tls.clientCertificate?.secret !== fromGateway.secret || (fromGateway.problem !== null && policy.tls.clientCertificate.problem === null))) out.push('tls.gatewayClientCertificate');
    same('tls.minVersion', overrides.tls?.minVersion, policy.tls.minVersion ?? 'TLSv1.2');
    same('tls.maxVersion', overrides.tls?.maxVersion, policy.tls.maxVersion ?? 'TLSv1.3');
    same('tls.ciphers', overrides.tls?.ciphers, policy.tls.ciphers);
  }
  return out;
}

function checkScript(at: string, key: string, s: CompiledScript, report: Report, clusterRef: (at: string, p: Provenance, name: string, ns: string | null, what: string) => void): void {
  const p = s.provenance;
  if (s.name !== key || !/^[^/]+\/[^/]+$/.test(key)) report(at, p, `script ${s.name} must be listed under its namespace/name, not ${key}`);
  if (p !== `RouteScript/${key}`) report(at, p, `a script's provenance must be RouteScript/${key}`);
  if (!inRange(s.limits.timeoutMs, 1, 1000)) report(at, p, `limits.timeoutMs ${s.limits.timeoutMs} is not an integer from 1 to 1000`);
  if (!inRange(s.limits.memoryMiB, 8, 512)) report(at, p, `limits.memoryMiB ${s.limits.memoryMiB} is not an integer from 8 to 512`);
  if (s.failurePolicy !== 'fallback' && s.failurePolicy !== 'reject') report(at, p, `failurePolicy ${JSON.stringify(s.failurePolicy)} is not fallback or reject`);
  if (!inRange(s.rejectStatus, 400, 599)) report(at, p, `rejectStatus ${s.rejectStatus} is not an integer from 400 to 599`);
  if (s.pause !== null && !inRange(s.pause.maxWaitMs, 1, Number.MAX_SAFE_INTEGER)) report(at, p, `pause.maxWaitMs ${s.pause.maxWaitMs} is not a positive integer`);
  const namespace = key.split('/')[0]!;
  sortedKeys(`${at}.backends`, s.backends, report, p);
  for (const [name, cluster] of Object.entries(s.backends)) clusterRef(member(`${at}.backends`, name), p, cluster, namespace, `backend ${name}: cluster`);
  if (s.lookup !== null) {
    clusterRef(`${at}.lookup`, p, s.lookup.cluster, namespace, 'lookup cluster');
    if (!s.lookup.path.startsWith('/') || !s.lookup.path.includes('{key}')) report(`${at}.lookup`, p, `lookup path ${JSON.stringify(s.lookup.path)} must start with / and contain {key}`);
    if (!inRange(s.lookup.timeoutMs, 1, 1000)) report(`${at}.lookup`, p, `lookup timeoutMs ${s.lookup.timeoutMs} is not an integer from 1 to 1000`);
    if (!inRange(s.lookup.cacheTtlMs, 0, Number.MAX_SAFE_INTEGER)) report(`${at}.lookup`, p, `lookup cacheTtlMs ${s.lookup.cacheTtlMs} is not a whole number of milliseconds`);
  }
  if (s.invalid) {
    // An invalid script fails closed: nothing of it may run, only its rejectStatus is answered.
    if (s.failurePolicy !== 'reject' || s.code !== '' || Object.keys(s.backends).length > 0 || s.lookup !== null || s.pause !== null) {
      report(at, p, 'an invalid script must fail closed: failurePolicy reject, and no code, backends, lookup or pause');
    }
  } else if (s.code === '') report(at, p, 'a valid script has no code');
}

function checkCertificate(at: string, c: Certificate, sni: Map<string, string>, report: Report): void {
  if (!/^[^/]+\/[^/]+$/.test(c.name)) report(at, c.provenance, `certificate name ${JSON.stringify(c.name)} is not namespace/secretName`);
  for (const p of c.provenance) {
    // A Gateway's (or ListenerSet's) certificateRefs reach another namespace where a ReferenceGrant
    // there allows it, which the front end checked; an Ingress's TLS entry never does.
    const namespace = /^(Gateway|ListenerSet)\//.test(p) ? null : namespaceOf(p);
    if (namespace !== null && namespace !== c.name.split('/')[0]) report(at, p, `certificate ${c.name} serves a TLS entry of namespace ${namespace}`);
  }
  if (!c.certPem.includes('-----BEGIN CERTIFICATE-----')) report(at, c.provenance, `certificate ${c.name} has no PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(c.keyPem)) report(at, c.provenance, `certificate ${c.name} has no PEM private key`);
  if (c.hosts.length === 0) report(at, c.provenance, `certificate ${c.name} serves no host`);
  if (c.listenerBound !== undefined && c.listenerBound !== true) report(at, c.provenance, `certificate ${c.name}: listenerBound is true or absent`);
  c.hosts.forEach((host, i) => {
    const problem = hostProblem(host, host.startsWith('*.') ? 'wildcard' : 'exact');
    if (problem !== null) report(`${at}.hosts[${i}]`, c.provenance, problem);
    const before = c.hosts[i - 1];
    if (before !== undefined && compareStrings(before, host) >= 0) report(`${at}.hosts[${i}]`, c.provenance, `host ${host} comes after ${before}: hosts are sorted, once each`);
    const holder = sni.get(host);
    // The TLS listener keys certificates by SNI name: a second one for a name would silently replace the first.
    if (holder !== undefined && holder !== c.name) report(`${at}.hosts[${i}]`, c.provenance, `SNI name ${host} is also served by certificate ${holder}`);
    sni.set(host, c.name);
  });
}

/** Why `host` is not a host of this kind of match, or null. */
function hostProblem(host: string, match: VirtualHost['match']): string | null {
  if (match === 'any') return host === '*' ? null : `the catch-all virtual host must be named *, not ${host}`;
  if (match === 'wildcard' || match === 'suffix') {
    return host.startsWith('*.') && isDnsName(host.slice(2)) ? null : `wildcard ${JSON.stringify(host)} is not *. and a lower-case DNS name`;
  }
  if (match !== 'exact') return `match ${JSON.stringify(match)} is not exact, wildcard, suffix or any`;
  return isDnsName(host) && isIP(host) === 0 ? null : `host ${JSON.stringify(host)} is not a lower-case DNS name`;
}

function isDnsName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => DNS_LABEL.test(label));
}




function sortedKeys(at: string, record: Readonly<Record<string, unknown>>, report: Report, provenance: Provenance = ''): void {
  const keys = Object.keys(record);
  const i = keys.findIndex((key, n) => n > 0 && compareStrings(keys[n - 1]!, key) > 0);
  if (i > 0) report(member(at, keys[i]!), provenance, `key ${keys[i]} comes after ${keys[i - 1]}: keys are sorted, so that the table serialises deterministically`);
}

/** The namespace a provenance names, or null when it is malformed (reported on its own). */
function namespaceOf(provenance: Provenance): string | null {
  return PROVENANCE.test(provenance) ? provenance.split('/')[1]! : null;
}

function inRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** Code-unit order, as the compiler sorts (never locale order). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
