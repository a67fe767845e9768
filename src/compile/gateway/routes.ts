/**
 * What the route readers (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute) share: our routes
 * found and ranked by age, their hostnames read, their parents attached, and the record each
 * leaves for its status.
 */
import type { BackendCandidate, RankedOwner } from '../shared/candidates.ts';
import { compareAge, withAge } from '../shared/age.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import { field } from '../shared/guards.ts';
import { indexObjects, type Identified } from '../shared/objects.ts';
import { isGatewayHostname } from './hostnames.ts';
import type { RouteKind } from './names.ts';
import { attachRoute, type ParentContext, type ParentResult } from './parent-refs.ts';
import { REFERENCE_REASONS, type RouteProblem } from './route-problems.ts';
import { readBackendRefs, type BackendUse } from './backend-refs.ts';

/** One of our routes as its status needs it. */
export interface RouteRecord {
  readonly owner: RankedOwner;
  readonly kind: RouteKind;
  /** Toward each parentRef naming one of our Gateways. */
  readonly parents: readonly ParentResult[];
  /** Every problem found (rules dropped, references unresolved). */
  readonly problems: readonly RouteProblem[];
  /** How many rules it has, and how many of them are served. */
  readonly rules: number;
  readonly rulesKept: number;
}

/** A route of ours before its rules are read: it names at least one of our Gateways. */
export interface OurRoute {
  readonly owner: RankedOwner;
  readonly item: Identified;
  readonly hostnames: readonly string[];
  readonly parents: readonly ParentResult[];
  readonly problems: RouteProblem[];
}

/**
 * The routes of `kind` in `list` that name one of our Gateways, oldest first (ties by
 * namespace/name, as the Gateway API's precedence asks). Routes that name none are not ours: they
 * are skipped without a trace, however broken.
 */
export function ourRoutes(kind: RouteKind, list: unknown, context: ParentContext, sink: DiagnosticSink, withHostnames: boolean): OurRoute[] {
  const mine = (Array.isArray(list) ? (list as unknown[]) : []).filter((obj) => {
    const namespace = field(field(obj, 'metadata'), 'namespace') ?? 'default';
    return typeof namespace === 'string' && attachRoute(kind, namespace, field(field(obj, 'spec'), 'parentRefs'), [], context).length > 0;
  });
  const items = [...indexObjects(mine, kind, true, sink).values()]
    .map((item) => guarded(sink, item.id, { ...item, created: null }, () => withAge(item, sink)))
    .sort(compareAge);
  return items.map((item, rank) => {
    const owner: RankedOwner = { id: item.id, rank, created: item.created };
    const problems: RouteProblem[] = [];
    const hostnames: string[] = [];
    const raw = withHostnames ? field(field(item.obj, 'spec'), 'hostnames') : undefined;
    for (const [i, h] of (Array.isArray(raw) ? (raw as unknown[]) : []).entries()) {
      if (isGatewayHostname(h)) {
        if (!hostnames.includes(h)) hostnames.push(h);
      } else problems.push({ reason: 'UnsupportedValue', message: `hostname ${JSON.stringify(h)} is not a valid hostname; it is ignored`, path: `${item.id.provenance}/hostname/${i}` });
    }
    const parents = attachRoute(kind, item.id.namespace, field(field(item.obj, 'spec'), 'parentRefs'), hostnames, context);
    return { owner, item, hostnames, parents, problems };
  });
}

/** The one rule of a TLSRoute, TCPRoute or UDPRoute, read: its backends, and whether it is dropped. */
export interface SingleRule {
  /** Provenance of the rule (`.../rule/0`). */
  readonly at: string;
  readonly backends: readonly BackendCandidate[];
  /** The rule cannot be served (none, or a backendRef that drops it); its problems are in the route's. */
  readonly dropped: boolean;
  /** How many rules the route has (at least 1, for its status). */
  readonly rules: number;
}

/**
 * Reads the first rule of a layer-4 route (`kind` TLSRoute, TCPRoute or UDPRoute: they have one)
 * and adds its problems to the route's; a second rule is reported and ignored.
 */
export function readSingleRule(kind: RouteKind, route: OurRoute, use: BackendUse): SingleRule {
  const { owner, item, problems } = route;
  const rules = field(field(item.obj, 'spec'), 'rules');
  const ruleList = Array.isArray(rules) ? (rules as unknown[]) : [];
  const at = `${owner.id.provenance}/rule/0`;
  const refs = readBackendRefs(owner.id, field(ruleList[0], 'backendRefs'), at, use);
  problems.push(...refs.problems);
  if (ruleList.length > 1) problems.push({ reason: 'UnsupportedValue', message: `a ${kind} has one rule; the others are ignored`, path: `${owner.id.provenance}/rule/1` });
  const dropped = refs.problems.some((p) => !REFERENCE_REASONS.has(p.reason)) || ruleList.length === 0;
  return { at, backends: refs.backends, dropped, rules: Math.max(ruleList.length, 1) };
}
