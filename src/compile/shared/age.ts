/**
 * The age of an object, which decides every conflict between objects of one front end (Ingresses)
 * and between RouteScripts: the oldest wins.
 */
import type { DiagnosticSink } from './diagnostics.ts';
import type { Identified } from './objects.ts';
import { field, isUnset } from './guards.ts';
import { compareNumbers, compareStrings } from './order.ts';

/** An identified object with its creation time. */
export interface Aged extends Identified {
  /** Milliseconds since the epoch from `metadata.creationTimestamp`, or null when unknown. */
  readonly created: number | null;
}

/**
 * Reads `metadata.creationTimestamp` (RFC 3339). An unparseable value is reported as
 * `CreationTimestampInvalid` (warning) and treated like a missing one.
 */
export function withAge(item: Identified, sink: DiagnosticSink): Aged {
  const value = field(item.obj.metadata, 'creationTimestamp');
  if (isUnset(value)) return { ...item, created: null };
  // A YAML loader with the 1.1 schema turns timestamps into Dates; accept those too.
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    sink.report(item.id, 'CreationTimestampInvalid', 'warning', `metadata.creationTimestamp is not an RFC 3339 time; the ${item.id.kind} counts as the newest`);
    return { ...item, created: null };
  }
  return { ...item, created: ms };
}

/**
 * Oldest first. Objects without a creation time (hand-written manifests) count as newer than all
 * others; ties, including between those, go by namespace then name.
 */
export function compareAge(a: Aged, b: Aged): number {
  return (
    compareNumbers(a.created ?? Number.POSITIVE_INFINITY, b.created ?? Number.POSITIVE_INFINITY) ||
    compareStrings(a.id.namespace, b.id.namespace) ||
    compareStrings(a.id.name, b.id.name)
  );
}

/**
 * How to name the winner of a conflict in a message: "the older Ingress ns/name", or, when both
 * are equally old (or both undated), "Ingress ns/name (as old, first by namespace/name)".
 */
export function describeWinner(
  winner: { readonly created: number | null; readonly kind: string; readonly namespace: string; readonly name: string },
  loserCreated: number | null,
): string {
  return winner.created === loserCreated
    ? `${winner.kind} ${winner.namespace}/${winner.name} (as old, first by namespace/name)`
    : `the older ${winner.kind} ${winner.namespace}/${winner.name}`;
}
