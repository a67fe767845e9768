/**
 * TLSRoutes (apis/v1/tlsroute_types.go) on TLS listeners: connections whose SNI name is one of the
 * route's hostnames (intersected with the listener's) go to the rule's weighted backendRefs —
 * undecrypted in Passthrough mode; in Terminate mode (TLSRouteModeTerminate) the handshake is made
 * with the listener's certificate and the plain stream is relayed (a BackendTLSPolicy's
 * re-encryption to the backend is not applied: the backend gets plain TCP). An SNI name of one listener goes to the oldest route that names
 * it; a route without a hostname on a listener without one cannot be told apart by SNI and is
 * reported. A backendRef that cannot be used refuses its share of connections.
 */
import type { Listener } from '../../model/table.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import type { StreamCandidate } from '../streams/stream-candidates.ts';
import { backendUse, type BackendLookup } from './backend-refs.ts';
import type { ParentContext } from './parent-refs.ts';
import { problemCode } from './route-problems.ts';
import { ourRoutes, readSingleRule, type RouteRecord } from './routes.ts';

/** The stream candidates of the TLSRoutes and a record of each route. */
export interface TlsRoutesResult {
  readonly streams: StreamCandidate[];
  readonly records: RouteRecord[];
}

/** Reads the TLSRoutes of a snapshot; `listenerOf` gives the table listener of a TLS Gateway listener. */
export function readTlsRoutes(list: unknown, context: ParentContext, lookup: BackendLookup, listenerOf: (tableName: string) => Listener | undefined, sink: DiagnosticSink): TlsRoutesResult {
  const result: TlsRoutesResult = { streams: [], records: [] };
  const taken = new Set<string>();
  for (const route of ourRoutes('TLSRoute', list, context, sink, true)) {
    guarded(sink, route.owner.id, undefined, () => {
      const { owner, problems } = route;
      const rule = readSingleRule('TLSRoute', route, backendUse(lookup, route.parents, false, false));
      const { at, dropped } = rule;
      for (const parent of route.parents) {
        for (const { listener, hostnames } of parent.attachments) {
          const table = listener.programmed ? listenerOf(listener.tableName) : undefined;
          if (table === undefined || dropped) continue;
          const names = hostnames.filter((h): h is string => h !== null).filter((h) => !taken.has(`${listener.tableName} ${h}`));
          if (hostnames.includes(null)) problems.push({ reason: 'UnsupportedValue', message: `neither the TLSRoute nor listener ${listener.name} names a hostname, and a TLS listener chooses routes by SNI`, path: owner.id.provenance });
          if (names.length === 0) continue;
          for (const h of names) taken.add(`${listener.tableName} ${h}`);
          result.streams.push({ owner, listener: table, hostnames: names, service: null, backends: rule.backends, sendProxyProtocol: false, provenance: at });
        }
      }
      for (const p of problems) sink.report(owner.id, problemCode(p.reason), 'error', p.message, p.path);
      result.records.push({ owner, kind: 'TLSRoute', parents: route.parents, problems, rules: rule.rules, rulesKept: dropped ? 0 : 1 });
    });
  }
  return result;
}
