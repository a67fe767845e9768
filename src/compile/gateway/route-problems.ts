/**
 * What goes wrong in a Gateway API route, in the terms of its status: a problem that drops a rule
 * (it counts for `Accepted`: UnsupportedValue, IncompatibleFilters) or that leaves a reference
 * unresolved (it counts for `ResolvedRefs`: InvalidKind, RefNotPermitted, BackendNotFound,
 * UnsupportedProtocol). Each is also reported as a diagnostic.
 */
import type { DiagnosticCode } from '../../model/diagnostic-codes.ts';

/** One problem of a route. */
export interface RouteProblem {
  /** The status reason it gives. */
  readonly reason: 'UnsupportedValue' | 'IncompatibleFilters' | 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound' | 'UnsupportedProtocol';
  readonly message: string;
  /** The part of the route concerned, in provenance form. */
  readonly path: string;
}

/** The reasons that concern references (ResolvedRefs) rather than the route's own content (Accepted). */
export const REFERENCE_REASONS: ReadonlySet<RouteProblem['reason']> = new Set(['InvalidKind', 'RefNotPermitted', 'BackendNotFound', 'UnsupportedProtocol']);

/** The diagnostic code a problem is reported with. */
export function problemCode(reason: RouteProblem['reason']): DiagnosticCode {
  switch (reason) {
    case 'InvalidKind':
      return 'RouteBackendKindUnsupported';
    case 'RefNotPermitted':
      return 'RouteReferenceNotPermitted';
    case 'BackendNotFound':
    case 'UnsupportedProtocol':
      return 'RouteBackendInvalid';
    case 'IncompatibleFilters':
    case 'UnsupportedValue':
      return 'RouteRuleInvalid';
  }
}
