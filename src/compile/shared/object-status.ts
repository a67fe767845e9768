/**
 * The status conditions the compiler writes on the objects it reads (Ingresses, RouteScripts):
 * `Accepted` and `ResolvedRefs`, shaped like Gateway API conditions, whose messages summarise the
 * object's diagnostics for `kubectl describe`.
 */
import type { Condition, Diagnostic, ObjectStatus } from '../../model/table.ts';
import type { ObjectIdentity } from './objects.ts';

/** Codes that mean a referenced Service or port could not be used (Ingresses and RouteScripts alike). */
export const SERVICE_REFERENCE_CODES: readonly string[] = [
  'ServiceNotFound',
  'ServicePortNotFound',
  'ServicePortProtocolUnsupported',
  'ServiceTypeUnsupported',
  'ServiceInvalid',
];

/** At most this many diagnostics are spelled out in a condition message. */
const MAX_LISTED = 5;

/** The ResolvedRefs condition: True, or False with the first reference problem's code. */
export function resolvedRefs(id: ObjectIdentity, references: readonly Diagnostic[], referenced: string): Condition {
  return references[0] === undefined
    ? { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: `All referenced ${referenced} are usable.` }
    : { type: 'ResolvedRefs', status: 'False', reason: references[0].code, message: summarise(id, references) };
}

/**
 * The Accepted condition of an object that is served, in part or whole, from its diagnostics other
 * than reference problems: True/`Accepted` (with `valid` as message) without any,
 * True/`AcceptedWithWarnings` with warnings only, True/`PartiallyAccepted` when errors dropped
 * parts but `served` says something is in the table, and False with the first error's code as
 * reason when nothing is. Every front end's objects (Ingresses, RouteScripts, routes to come) read
 * the same way in `kubectl describe`.
 */
export function acceptedCondition(id: ObjectIdentity, others: readonly Diagnostic[], served: boolean, valid: string): Condition {
  const firstError = others.find((d) => d.severity === 'error');
  if (others.length === 0) return { type: 'Accepted', status: 'True', reason: 'Accepted', message: valid };
  if (firstError === undefined) return { type: 'Accepted', status: 'True', reason: 'AcceptedWithWarnings', message: summarise(id, others) };
  if (served) return { type: 'Accepted', status: 'True', reason: 'PartiallyAccepted', message: summarise(id, others) };
  return { type: 'Accepted', status: 'False', reason: firstError.code, message: summarise(id, others) };
}

/**
 * Splits an object's diagnostics into reference problems (those whose code is in `references`:
 * they decide ResolvedRefs) and the others (they decide Accepted).
 */
export function byReference(diagnostics: readonly Diagnostic[], references: ReadonlySet<string>): { readonly references: readonly Diagnostic[]; readonly others: readonly Diagnostic[] } {
  return { references: diagnostics.filter((d) => references.has(d.code)), others: diagnostics.filter((d) => !references.has(d.code)) };
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
