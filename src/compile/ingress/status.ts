/**
 * Status of our Ingresses: two conditions, shaped like Gateway API route conditions, that
 * summarise the diagnostics of each Ingress for `kubectl describe`.
 */
import type { Condition, Diagnostic, ObjectStatus } from '../../model/table.ts';
import type { ObjectIdentity } from '../shared/objects.ts';

/** Codes that mean a referenced Service or port could not be used (Ingresses and RouteScripts alike). */
export const SERVICE_REFERENCE_CODES: readonly string[] = [
  'ServiceNotFound',
  'ServicePortNotFound',
  'ServicePortProtocolUnsupported',
  'ServiceTypeUnsupported',
  'ServiceInvalid',
];

/** Codes that mean a reference (Service, port, Secret) could not be used, rather than bad YAML. */
const REFERENCE_CODES: ReadonlySet<string> = new Set([...SERVICE_REFERENCE_CODES, 'TLSSecretNotFound', 'TLSSecretInvalid']);

/** At most this many diagnostics are spelled out in a condition message. */
const MAX_LISTED = 5;

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
  const references = diagnostics.filter((d) => REFERENCE_CODES.has(d.code));
  const others = diagnostics.filter((d) => !REFERENCE_CODES.has(d.code));
  const firstError = others.find((d) => d.severity === 'error');
  let accepted: Condition;
  if (others.length === 0) {
    accepted = { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'The Ingress is valid.' };
  } else if (firstError === undefined) {
    accepted = { type: 'Accepted', status: 'True', reason: 'AcceptedWithWarnings', message: summarise(id, others) };
  } else if (served) {
    accepted = { type: 'Accepted', status: 'True', reason: 'PartiallyAccepted', message: summarise(id, others) };
  } else {
    accepted = { type: 'Accepted', status: 'False', reason: firstError.code, message: summarise(id, others) };
  }
  return objectStatus('Ingress', id, accepted, resolvedRefs(id, references, 'Services and Secrets'));
}

/** The ResolvedRefs condition: True, or False with the first reference problem's code. */
export function resolvedRefs(id: ObjectIdentity, references: readonly Diagnostic[], referenced: string): Condition {
  return references[0] === undefined
    ? { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: `All referenced ${referenced} are usable.` }
    : { type: 'ResolvedRefs', status: 'False', reason: references[0].code, message: summarise(id, references) };
}

/** An object's status with its Accepted and ResolvedRefs conditions. */
export function objectStatus(kind: string, id: ObjectIdentity, accepted: Condition, resolved: Condition): ObjectStatus {
  return {
    kind,
    namespace: id.namespace,
    name: id.name,
    ...(id.generation === undefined ? {} : { generation: id.generation }),
    conditions: [accepted, resolved],
  };
}

/**
 * One line per diagnostic — `Code at rule/0/path/1: message` — joined with ` | ` (messages contain
 * `;`), at most {@link MAX_LISTED} of them.
 */
export function summarise(id: ObjectIdentity, diagnostics: readonly Diagnostic[]): string {
  const prefix = `${id.provenance}/`;
  const lines = diagnostics.map((d) => {
    const where = d.path === undefined ? '' : ` at ${d.path.startsWith(prefix) ? d.path.slice(prefix.length) : d.path}`;
    return `${d.code}${where}: ${d.message}`;
  });
  const listed = lines.slice(0, MAX_LISTED);
  const more = lines.length - listed.length;
  return listed.join(' | ') + (more > 0 ? ` | and ${more} more` : '');
}
