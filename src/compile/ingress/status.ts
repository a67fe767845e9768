/**
 * Status of our Ingresses: two conditions, shaped like Gateway API route conditions, that
 * summarise the diagnostics of each Ingress for `kubectl describe`.
 */
import type { Diagnostic, ObjectStatus } from '../../model/table.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import { acceptedCondition, byReference, objectStatus, resolvedRefs, SERVICE_REFERENCE_CODES } from '../shared/object-status.ts';

/** Codes that mean a reference (Service, port, Secret) could not be used, rather than bad YAML. */
const REFERENCE_CODES: ReadonlySet<string> = new Set([...SERVICE_REFERENCE_CODES, 'TLSSecretNotFound', 'TLSSecretInvalid']);

/**
 * The status of one of our Ingresses, from its diagnostics (sorted) and whether any part of it made
 * it into the table (a route, the default route or a certificate).
 * - `Accepted`: True/`Accepted` when the Ingress has no problems; True/`AcceptedWithWarnings` with
 *   warnings only; True/`PartiallyAccepted` when errors dropped parts but something is served;
 *   False with the first error code as reason when nothing of it is served.
 * - `ResolvedRefs`: False, with the first such code as reason, when a referenced Service, port or
 *   Secret is missing or unusable; True otherwise.
 * Reference problems count only for ResolvedRefs.
 */
export function ingressStatus(id: ObjectIdentity, diagnostics: readonly Diagnostic[], served: boolean): ObjectStatus {
  const { references, others } = byReference(diagnostics, REFERENCE_CODES);
  const accepted = acceptedCondition(id, others, served, 'The Ingress is valid.');
  return objectStatus('Ingress', id, accepted, resolvedRefs(id, references, 'Services and Secrets'));
}
