/**
 * A Gateway's client certificate for its backends (`spec.tls.backend.clientCertificateRef`,
 * apis/v1/gateway_types.go GatewayBackendTLS): the `kubernetes.io/tls` Secret the Gateway presents
 * when it connects to a backend over TLS (a Service a BackendTLSPolicy applies to). The Gateway's
 * ResolvedRefs condition says whether it could be used: False with InvalidClientCertificateRef for
 * another kind or group, a Secret that does not exist or holds no usable key pair, RefNotPermitted
 * for one in another namespace no ReferenceGrant allows; True otherwise. An unusable reference is
 * kept as the certificate's `problem`, so that the TLS backends of the Gateway's routes fail with
 * 502 `upstream-tls` rather than be reached without the certificate they were meant to see.
 */
import type { Condition } from '../../model/table.ts';
import type { BackendClientCertificate } from '../../model/policy.ts';
import { loadClientCertificate } from '../shared/backend-protocol.ts';
import type { RankedOwner } from '../shared/candidates.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field } from '../shared/guards.ts';
import type { Identified } from '../shared/objects.ts';
import { isFalse, isTrue } from './conditions.ts';
import { GATEWAY_API_GROUP } from './names.ts';
import type { ReferenceGrants } from './reference-grants.ts';

/** What a Gateway's `spec.tls.backend` decides: the certificate, and the ResolvedRefs condition. */
export interface GatewayBackendCertificate {
  readonly certificate: BackendClientCertificate;
  readonly resolvedRefs: Condition;
}

/** The Gateway's backend client certificate; null when its spec names none. */
export function readBackendClientCertificate(owner: RankedOwner, spec: unknown, secrets: ReadonlyMap<string, Identified>, configMaps: ReadonlyMap<string, Identified>, grants: ReferenceGrants, sink: DiagnosticSink): GatewayBackendCertificate | null {
  const ref = field(field(field(spec, 'tls'), 'backend'), 'clientCertificateRef');
  if (ref === undefined || ref === null) return null;
  const gateway = owner.id;
  const at = `${gateway.provenance}/spec/tls/backend/clientCertificateRef`;
  const group = field(ref, 'group') ?? '';
  const kind = field(ref, 'kind') ?? 'Secret';
  const name = field(ref, 'name');
  const namespace = field(ref, 'namespace') ?? gateway.namespace;
  const shown = `${typeof namespace === 'string' ? namespace : '?'}/${typeof name === 'string' ? name : '?'}`;
  const refuse = (reason: 'InvalidClientCertificateRef' | 'RefNotPermitted', problem: string): GatewayBackendCertificate => {
    sink.report(gateway, 'BackendTlsClientCertificateInvalid', 'error', `spec.tls.backend.clientCertificateRef: ${problem}; the Gateway's routes to backends over TLS fail with 502 upstream-tls until it can be used`, at);
    return { certificate: { secret: shown, certPem: null, keyPem: null, problem }, resolvedRefs: isFalse('ResolvedRefs', reason, `spec.tls.backend.clientCertificateRef: ${problem}.`) };
  };
  if (group !== '' || kind !== 'Secret') return refuse('InvalidClientCertificateRef', `${String(group) === '' ? '' : `${String(group)}/`}${String(kind)} is not a kind signalbox reads a client certificate from (only Secret)`);
  if (typeof name !== 'string' || name === '' || typeof namespace !== 'string' || namespace === '') return refuse('InvalidClientCertificateRef', 'the reference needs a name');
  if (namespace !== gateway.namespace && grants.grantFor({ group: GATEWAY_API_GROUP, kind: 'Gateway', namespace: gateway.namespace }, { group: '', kind: 'Secret', namespace, name }) === null) {
    return refuse('RefNotPermitted', `Secret ${namespace}/${name} is in another namespace and no ReferenceGrant there allows Gateways of ${gateway.namespace} to use it`);
  }
  const certificate = loadClientCertificate(namespace, name, { secrets, configMaps }, sink);
  if (certificate.problem !== null) return refuse('InvalidClientCertificateRef', certificate.problem);
  return { certificate, resolvedRefs: isTrue('ResolvedRefs', 'ResolvedRefs', `The client certificate for backends, Secret ${namespace}/${name}, is resolved.`) };
}
