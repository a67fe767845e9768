/**
 * What the route readers (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute) share: our routes
 * found and ranked by age, their hostnames read, their parents attached, and the record each
 * leaves for its status.
 */
import type { RankedOwner } from '../shared/candidates.ts';
import { compareAge, withAge } from '../shared/age.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import { field } from '../shared/guards.ts';
import { indexObjects, type Identified } from '../shared/objects.ts';
import { isGatewayHostname } from './hostnames.ts';
import type { RouteKind } from './names.ts';
import { attachRoute, type ParentContext, type ParentResult } from './parent-refs.ts';
import type { RouteProblem } from './route-problems.ts';

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
