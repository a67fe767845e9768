/**
 * What a compile says about its input besides the table: diagnostics (what was dropped or kept
 * with a caveat, and why) and the status of each object, to be written back by the controller.
 * Re-exported by table.ts.
 */
import type { Provenance } from './table.ts';

/** How bad a diagnostic is: `error` dropped something, `warning` kept it with a caveat. */
export type Severity = 'error' | 'warning';

/**
 * A problem found in the input. Bad input never throws: the offending object, or only its bad
 * part, is dropped and a diagnostic says what and why.
 */
export interface Diagnostic {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Stable, machine-readable code, e.g. `IngressPathInvalid`, `ServiceNotFound`. */
  readonly code: string;
  readonly message: string;
  readonly severity: Severity;
  /** The part of the object concerned, in provenance form (`Ingress/ns/name/rule/0/path/1`). */
  readonly path?: Provenance;
}

/** A condition to report on an object, shaped like Kubernetes `metav1.Condition` minus timestamps. */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** A Gateway API `ParentReference`, every field filled in (defaults applied) as status echoes it. */
export interface ParentReference {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Absent when the route's reference names no section (listener). */
  readonly sectionName?: string;
  /** Absent when the route's reference names no port. */
  readonly port?: number;
}

/**
 * A Gateway API route's status toward one of its parents (`status.parents[]` of an HTTPRoute,
 * GRPCRoute, TLSRoute, TCPRoute or UDPRoute): only parents whose Gateway is ours are listed; the
 * writer adds `controllerName` and keeps the entries of other controllers as they are.
 */
export interface RouteParentStatus {
  /** The parentRef as written in the route, defaults filled in. */
  readonly parentRef: ParentReference;
  /** `Accepted` and `ResolvedRefs`, with the reasons the Gateway API names. */
  readonly conditions: readonly Condition[];
}

/** A Gateway (or ListenerSet) listener's status (`status.listeners[]`). */
export interface ListenerStatus {
  readonly name: string;
  /** The route kinds the listener takes, in the order of the spec's `allowedRoutes.kinds`. */
  readonly supportedKinds: readonly { readonly group: string; readonly kind: string }[];
  /** How many routes are attached: Accepted toward this listener. */
  readonly attachedRoutes: number;
  /** `Accepted`, `Programmed`, `ResolvedRefs`, `Conflicted`. */
  readonly conditions: readonly Condition[];
}

/** A Gateway address as `status.addresses[]` carries it. */
export interface GatewayStatusAddress {
  /** `IPAddress` or `Hostname`. */
  readonly type: 'IPAddress' | 'Hostname';
  readonly value: string;
}

/** Status collected during a compile, written back by the controller after publishing. */
export interface ObjectStatus {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly generation?: number;
  /**
   * The object's own conditions; each gets `observedGeneration` = {@link generation} when written.
   * Empty for Gateway API routes, whose conditions are per parent.
   */
  readonly conditions: readonly Condition[];
  /**
   * Gateway API routes: the status toward each parentRef whose Gateway is ours. BackendTLSPolicies:
   * toward each of our Gateways whose routes use a Service it targets (written as `status.ancestors`).
   */
  readonly parents?: readonly RouteParentStatus[];
  /** Gateways and ListenerSets: per-listener status, in spec order. */
  readonly listeners?: readonly ListenerStatus[];
  /**
   * Gateways: the addresses assigned by the compile (from `spec.addresses`); absent when the
   * writer publishes the data plane's own address (as for Ingresses: the publish Service, the
   * configured addresses or the pod IP).
   */
  readonly addresses?: readonly GatewayStatusAddress[];
  /** Gateways: how many ListenerSets are attached (accepted, with at least one valid listener). */
  readonly attachedListenerSets?: number;
  /** GatewayClasses: the Gateway API features their Gateways support, sorted (`status.supportedFeatures[].name`). */
  readonly supportedFeatures?: readonly string[];
}
