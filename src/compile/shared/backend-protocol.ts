/**
 * The protocol of a cluster: the Service's `signalbox.dev/backend-protocol` annotation when set,
 * else its port's `appProtocol` (Kubernetes' standard names, and `https`, `http`, `h2c`, `grpc`),
 * else HTTP/1.1. For a TLS protocol, the certificate checks come from the `backend-tls-*`
 * annotations, the CA bundle from a Secret or ConfigMap key in the Service's namespace.
 */
import { DEFAULT_BACKEND_TLS, type BackendClientCertificate, type BackendProtocol, type BackendTlsPolicy, type ClusterPolicy } from '../../model/policy.ts';
import type { ObjectKeyRef } from './annotation-kinds.ts';
import { guarded, type DiagnosticSink } from './diagnostics.ts';
import { field } from './guards.ts';
import type { Identified } from './objects.ts';
import type { BackendAnnotations } from './service-policy.ts';
import { readKey, readKeyPair } from './tls.ts';

/** The Secrets and ConfigMaps a CA bundle may come from, keyed `namespace/name`. */
export interface CaSources {
  readonly secrets: ReadonlyMap<string, Identified>;
  readonly configMaps: ReadonlyMap<string, Identified>;
}

/** No Secrets or ConfigMaps: every CA reference is missing. */
export const NO_CA_SOURCES: CaSources = Object.freeze({ secrets: new Map(), configMaps: new Map() });

/**
 * `appProtocol` values (lower-cased) and what they mean. `kubernetes.io/ws` and `wss` are WebSocket,
 * which starts as HTTP/1.1; `kubernetes.io/wss` runs over TLS.
 */
const APP_PROTOCOLS: Readonly<Record<string, BackendProtocol>> = {
  http: 'http1',
  'kubernetes.io/ws': 'http1',
  https: 'https',
  'kubernetes.io/wss': 'https',
  h2c: 'h2c',
  'kubernetes.io/h2c': 'h2c',
  grpc: 'h2c',
  h2: 'h2',
  grpcs: 'h2',
};

/** The protocol `appProtocol` names, or undefined for a name signalbox does not know. */
export function protocolOfAppProtocol(appProtocol: string): BackendProtocol | undefined {
  return APP_PROTOCOLS[appProtocol.toLowerCase()];
}

/** Whether `protocol` runs over TLS. */
export function isTlsProtocol(protocol: BackendProtocol): boolean {
  return protocol === 'https' || protocol === 'h2';
}

/**
 * Resolves what the backend annotations of a Service in `namespace` say of the CA into a PEM, or
 * null (system roots). A missing or unreadable CA is reported on the Service and leaves the system
 * roots: verification then fails for a private CA (502), which is safer than not verifying.
 */
export function resolveBackendTls(service: Identified, namespace: string, backend: BackendAnnotations, sources: CaSources, sink: DiagnosticSink): BackendTlsPolicy {
  const caPem = backend.caRef === null ? null : readCa(service, namespace, backend.caRef, sources, sink);
  const clientCertificate = backend.clientCertificate === null ? null : readClientCertificate(service, namespace, backend.clientCertificate, sources, sink);
  const parameters = backend.parameters;
  const noParameters = Object.keys(parameters).length === 0;
  if (caPem === null && backend.serverName === null && backend.verify && clientCertificate === null && noParameters) return DEFAULT_BACKEND_TLS;
  return { serverName: backend.serverName, caPem, verify: backend.verify, clientCertificate, ...parameters };
}

/**
 * The client certificate of `signalbox.dev/backend-tls-client-certificate`. An unusable Secret is
 * reported and kept as a `problem`: the data plane then fails the cluster's requests with
 * `upstream-tls`, since connecting without the certificate would hide the mistake (an endpoint that
 * requires it refuses anyway, and one that merely accepts it would see a different client).
 */
function readClientCertificate(service: Identified, namespace: string, name: string, sources: CaSources, sink: DiagnosticSink): BackendClientCertificate {
  const certificate = loadClientCertificate(namespace, name, sources, sink);
  if (certificate.problem !== null) {
    const path = `${service.id.provenance}/annotations/signalbox.dev/backend-tls-client-certificate`;
    sink.report(service.id, 'BackendTlsClientCertificateInvalid', 'error', `${certificate.problem}; the Service's requests fail with 502 upstream-tls until it is a usable kubernetes.io/tls Secret`, path);
  }
  return certificate;
}

/**
 * The key pair of the `kubernetes.io/tls` Secret `namespace/name`, or why it cannot be used (the
 * caller reports it: the Service's annotation or a route's override). A Secret that throws when
 * read is reported here, as `ObjectInvalid` on the Secret.
 */
export function loadClientCertificate(namespace: string, name: string, sources: CaSources, sink: DiagnosticSink): BackendClientCertificate {
  const secret = `${namespace}/${name}`;
  const unreadable = { code: 'TLSSecretInvalid', message: `Secret ${secret} could not be read` } as const;
  const pair = guarded(sink, { kind: 'Secret', namespace, name }, unreadable, () => readKeyPair(secret, sources.secrets.get(secret)));
  if ('certPem' in pair) return { secret, certPem: pair.certPem, keyPem: pair.keyPem, problem: null };
  return { secret, certPem: null, keyPem: null, problem: pair.message };
}

function readCa(service: Identified, namespace: string, ref: ObjectKeyRef, sources: CaSources, sink: DiagnosticSink): string | null {
  const ca = loadCa(namespace, ref, sources);
  if (typeof ca === 'string') return ca;
  const path = `${service.id.provenance}/annotations/signalbox.dev/backend-tls-ca`;
  sink.report(service.id, 'BackendTlsCaInvalid', 'error', `${ca.problem}; the system's root CAs are used instead`, path);
  return null;
}

/**
 * The PEM of a CA bundle in a Secret or ConfigMap key of `namespace`, or why it cannot be used
 * (`Secret ns/name not found`; the caller reports it).
 */
export function loadCa(namespace: string, ref: ObjectKeyRef, sources: CaSources): string | { readonly problem: string } {
  const shown = `${ref.kind} ${namespace}/${ref.name}`;
  const fail = (why: string): { problem: string } => ({ problem: `${shown} ${why}` });
  const key = `${namespace}/${ref.name}`;
  let pem: string;
  if (ref.kind === 'Secret') {
    const secret = sources.secrets.get(key);
    if (secret === undefined) return fail('not found');
    const read = readKey(secret, ref.key);
    if (typeof read !== 'string') return fail(read.problem);
    pem = read;
  } else {
    const map = sources.configMaps.get(key);
    if (map === undefined) return fail('not found');
    const value = field(field(map.obj, 'data'), ref.key);
    if (typeof value !== 'string' || value === '') return fail(`has no ${ref.key}`);
    pem = value;
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return fail(`has a ${ref.key} that is not a PEM certificate`);
  return pem;
}

/**
 * The policy of the clusters of one Service port: the Service's policy with the port's protocol.
 * An unknown `appProtocol` is reported (once per port, by the caller) and means HTTP/1.1.
 */
export function withProtocol(policy: ClusterPolicy, protocol: BackendProtocol, tls: BackendTlsPolicy): ClusterPolicy {
  if (protocol === policy.protocol && !isTlsProtocol(protocol)) return policy;
  return { ...policy, protocol, tls: isTlsProtocol(protocol) ? tls : null };
}
