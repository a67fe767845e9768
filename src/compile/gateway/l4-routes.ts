/**
 * TCPRoutes and UDPRoutes (apis/v1/tcproute_types.go, udproute_types.go) on TCP and UDP listeners:
 * every connection (UDP: every client's datagrams) arriving on the listener's port goes to the
 * rule's weighted backendRefs, bytes relayed as they are. A listener has one stream route: of
 * several routes attached to it, the oldest is served and the others are accepted but say they are
 * not (in their ResolvedRefs message). A backendRef that cannot be used refuses its share.
 */
import type { Listener } from '../../model/table.ts';
import type { BackendCandidate } from '../shared/candidates.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import type { StreamCandidate } from '../streams/stream-candidates.ts';
import { backendUse, type BackendLookup } from './backend-refs.ts';
import type { ParentContext } from './parent-refs.ts';
import { problemCode } from './route-problems.ts';
import { ourRoutes, readSingleRule, type RouteRecord } from './routes.ts';

/** The stream candidates of one kind's routes and a record of each route. */
export interface L4RoutesResult {
  readonly streams: StreamCandidate[];
  readonly records: RouteRecord[];
}

/** Reads the TCPRoutes or UDPRoutes of a snapshot; `listenerOf` gives the table listener of a Gateway listener. */
export function readL4Routes(kind: 'TCPRoute' | 'UDPRoute', list: unknown, context: ParentContext, lookup: BackendLookup, listenerOf: (tableName: string) => Listener | undefined, sink: DiagnosticSink): L4RoutesResult {
  const result: L4RoutesResult = { streams: [], records: [] };
  const taken = new Map<string, string>();
  for (const route of ourRoutes(kind, list, context, sink, false)) {
    guarded(sink, route.owner.id, undefined, () => {
      const { owner, problems } = route;
      const rule = readSingleRule(kind, route, backendUse(lookup, route.parents, false, false));
      const { at, dropped } = rule;
      const backends: BackendCandidate[] = kind === 'UDPRoute' ? rule.backends.map((b) => (b.service === null ? b : { ...b, service: { ...b.service, protocol: 'UDP' } })) : [...rule.backends];
      for (const parent of route.parents) {
        for (const { listener } of parent.attachments) {
          const table = listener.programmed ? listenerOf(listener.tableName) : undefined;
          if (table === undefined || dropped) continue;
          const holder = taken.get(listener.tableName);
          if (holder !== undefined) {
            if (holder !== owner.id.provenance) sink.report(owner.id, 'RouteListenerTaken', 'warning', `listener ${listener.name} of Gateway ${listener.gateway.id.namespace}/${listener.gateway.id.name} already serves the older ${holder}: this ${kind} is not served there`, owner.id.provenance);
            continue;
          }
          taken.set(listener.tableName, owner.id.provenance);
          result.streams.push({ owner, listener: table, hostnames: [], service: null, backends, sendProxyProtocol: false, provenance: at });
        }
      }
      for (const p of problems) sink.report(owner.id, problemCode(p.reason), 'error', p.message, p.path);
      result.records.push({ owner, kind, parents: route.parents, problems, rules: rule.rules, rulesKept: dropped ? 0 : 1 });
    });
  }
  return result;
}
