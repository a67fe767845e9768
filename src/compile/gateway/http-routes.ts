/**
 * HTTPRoutes and GRPCRoutes (apis/v1/httproute_types.go, grpcroute_types.go) as route candidates:
 * every match of every rule, on every listener the route attached to and every hostname it serves
 * there. A rule that cannot be served as written is dropped whole (its problem is the route's
 * status); a backend that cannot be used answers 500 for its share.
 */
import type { RouteMatch, RouteTimeouts } from '../../model/table.ts';
import type { BackendCandidate, CandidateRoute, FilterCandidate, RouteCandidate } from '../shared/candidates.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isUnset } from '../shared/guards.ts';
import { canonicalJson } from '../shared/order.ts';
import { backendUse, readBackendRefs, type BackendLookup, type BackendUse } from './backend-refs.ts';
import { parseGatewayDuration } from './duration.ts';
import { hostOf } from './hostnames.ts';
import { readHttpFilters } from './http-filters.ts';
import { readMatches } from './http-matches.ts';
import { grpcMatches, GRPC_FILTERS, grpcOverrides } from './grpc-matches.ts';
import type { GatewayMatchCandidate } from './precedence.ts';
import type { ParentContext } from './parent-refs.ts';
import { problemCode, REFERENCE_REASONS, type RouteProblem } from './route-problems.ts';
import { ourRoutes, type OurRoute, type RouteRecord } from './routes.ts';

const HTTP_FILTERS: ReadonlySet<string> = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror', 'CORS', 'ExtensionRef']);

/** The candidates of a kind's routes, their precedence data, and a record of each route. */
export interface HttpRoutesResult {
  readonly candidates: RouteCandidate[];
  readonly order: Map<RouteCandidate, GatewayMatchCandidate>;
  readonly records: RouteRecord[];
  /** By route provenance (`HTTPRoute/ns/name/rule/0/match/1`): its rule's name and ExtensionRef scripts, when it has either. */
  readonly rules: Map<string, RuleTargets>;
}

/** What RouteScripts target a rule's routes by: the rule's `name`, and the scripts its ExtensionRef filters name. */
export interface RuleTargets {
  readonly section?: string;
  readonly extensionRefs?: readonly string[];
}

/** A rule read: its routes (one per match), or nothing when it was dropped. */
interface Rule {
  readonly index: number;
  readonly targets: RuleTargets;
  readonly matches: readonly RouteMatch[];
  readonly route: (match: RouteMatch, matchIndex: number) => CandidateRoute;
}

/** Reads the HTTPRoutes (`kind` HTTPRoute) or GRPCRoutes of a snapshot. */
export function readHttpRoutes(kind: 'HTTPRoute' | 'GRPCRoute', list: unknown, context: ParentContext, lookup: BackendLookup, sink: DiagnosticSink): HttpRoutesResult {
  const result: HttpRoutesResult = { candidates: [], order: new Map(), records: [], rules: new Map() };
  for (const route of ourRoutes(kind, list, context, sink, true)) {
    guarded(sink, route.owner.id, undefined, () => readRoute(kind, route, lookup, result, sink));
  }
  return result;
}

function readRoute(kind: 'HTTPRoute' | 'GRPCRoute', route: OurRoute, lookup: BackendLookup, result: HttpRoutesResult, sink: DiagnosticSink): void {
  const use = backendUse(lookup, route.parents, kind === 'GRPCRoute', true);
  const { owner, item } = route;
  const problems = route.problems;
  const rawRules = field(field(item.obj, 'spec'), 'rules');
  const ruleList = Array.isArray(rawRules) && rawRules.length > 0 ? (rawRules as unknown[]) : [{}];
  const rules: Rule[] = [];
  for (const [index, rule] of ruleList.entries()) {
    const at = `${owner.id.provenance}/rule/${index}`;
    const read = readRule(kind, route, rule, at, use, problems);
    if (read !== null) rules.push({ index, ...read });
  }
  for (const p of problems) sink.report(owner.id, problemCode(p.reason), 'error', `${p.message}${REFERENCE_REASONS.has(p.reason) ? '' : '; the rule is not served'}`, p.path);
  result.records.push({ owner, kind, parents: route.parents, problems, rules: ruleList.length, rulesKept: rules.length });
  if (rules.length === 0) return;

  const seen = new Set<string>();
  for (const parent of route.parents) {
    for (const { listener, hostnames } of parent.attachments) {
      if (!listener.programmed) continue;
      for (const hostname of hostnames) {
        const key = `${listener.tableName} ${hostname ?? '*'}`;
        if (seen.has(key)) continue;
        seen.add(key);
        for (const rule of rules) {
          for (const [matchIndex, match] of rule.matches.entries()) {
            const candidate: RouteCandidate = {
              owner,
              host: hostOf(hostname),
              listeners: [listener.tableName],
              route: rule.route(match, matchIndex),
              // The same match twice on one listener: the first claim (the older route, the earlier
              // rule) takes its requests; the other could never be reached and is left out.
              conflictKey: `${listener.tableName} ${canonicalJson(match)}`,
              ruleProvenance: `${owner.id.provenance}/rule/${rule.index}`,
              // Per listener, so per port: the Gateway's frontend validation of the listener's port.
              ...(listener.clientAuth === undefined ? {} : { clientAuth: listener.clientAuth }),
            };
            result.candidates.push(candidate);
            if (rule.targets.section !== undefined || rule.targets.extensionRefs !== undefined) result.rules.set(candidate.route.provenance, rule.targets);
            result.order.set(candidate, { match, created: owner.created, namespace: owner.id.namespace, name: owner.id.name, ruleIndex: rule.index, matchIndex });
          }
        }
      }
    }
  }
}

/** One rule: its matches and how to build the route of each, or null (with a problem) when dropped. */
function readRule(kind: 'HTTPRoute' | 'GRPCRoute', route: OurRoute, rule: unknown, at: string, use: BackendUse, problems: RouteProblem[]): Omit<Rule, 'index'> | null {
  const { owner } = route;
  const matches = kind === 'HTTPRoute' ? readMatches(field(rule, 'matches'), at) : grpcMatches(field(rule, 'matches'), at);
  if ('reason' in matches) {
    problems.push(matches);
    return null;
  }
  const filters = readHttpFilters(owner.id, field(rule, 'filters'), matches, at, use, kind === 'HTTPRoute' ? HTTP_FILTERS : GRPC_FILTERS);
  if ('reason' in filters) {
    problems.push(filters);
    return null;
  }
  problems.push(...filters.problems);
  const timeouts = kind === 'HTTPRoute' ? readTimeouts(field(rule, 'timeouts'), at) : {};
  if ('reason' in timeouts) {
    problems.push(timeouts as RouteProblem);
    return null;
  }
  const refs = readBackendRefs(owner.id, field(rule, 'backendRefs'), at, use);
  const dropping = refs.problems.find((p) => !REFERENCE_REASONS.has(p.reason));
  problems.push(...refs.problems);
  if (dropping !== undefined) return null;
  const backends: BackendCandidate[] = kind === 'GRPCRoute' ? refs.backends.map((b) => grpcOverrides(b, use.appProtocolOf)) : refs.backends;
  const served: readonly BackendCandidate[] = filters.failClosed ? backends.map((b) => ({ ...b, service: null })) : backends;
  // An ExtensionRef that no filter implements fails closed: with no backend, its requests get 500.
  const finalBackends = filters.failClosed && served.length === 0 ? [{ service: null, weight: 1, provenance: `${at}/filter` }] : served;
  const routeFilters: readonly FilterCandidate[] = filters.filters;
  const name = field(rule, 'name');
  const targets: RuleTargets = {
    ...(typeof name === 'string' && name !== '' ? { section: name } : {}),
    ...(filters.scripts.length === 0 ? {} : { extensionRefs: filters.scripts }),
  };
  return {
    matches,
    targets,
    route: (match, matchIndex) => ({
      match,
      backends: finalBackends,
      filters: routeFilters,
      ...(Object.keys(timeouts).length === 0 ? {} : { timeouts: timeouts as RouteTimeouts }),
      provenance: `${at}/match/${matchIndex}`,
    }),
  };
}

/** `timeouts.request` and `timeouts.backendRequest` (zero: no limit), or the problem with them. */
function readTimeouts(value: unknown, at: string): RouteTimeouts | RouteProblem {
  if (isUnset(value)) return {};
  const out: { requestMs?: number; backendRequestMs?: number } = {};
  for (const [key, target] of [['request', 'requestMs'], ['backendRequest', 'backendRequestMs']] as const) {
    const raw = field(value, key);
    if (isUnset(raw)) continue;
    const ms = parseGatewayDuration(raw);
    if (ms === null) return { reason: 'UnsupportedValue', message: `timeouts.${key} ${JSON.stringify(raw)} is not a duration such as 10s or 500ms`, path: `${at}/timeouts` };
    if (ms > 0) out[target] = ms;
  }
  if (out.requestMs !== undefined && out.backendRequestMs !== undefined && out.backendRequestMs > out.requestMs) {
    return { reason: 'UnsupportedValue', message: 'timeouts.backendRequest is longer than timeouts.request', path: `${at}/timeouts` };
  }
  return out;
}
