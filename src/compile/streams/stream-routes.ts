/**
 * The layer-4 part of the table: stream candidates (TCP/UDP services, TLS passthrough) turned into
 * listeners and stream routes whose backends name clusters, resolved like every other backend
 * (same cluster names, the Service's policy, its EndpointSlices) — UDP ones to UDP Service ports.
 */
import type { Listener, StreamRoute } from '../../model/table.ts';
import type { ClusterNamer } from '../shared/cluster-names.ts';
import { compareStrings } from '../shared/order.ts';
import type { ClusterUse } from '../shared/placed-route.ts';
import type { StreamCandidate } from './stream-candidates.ts';

/** The listeners, stream routes and cluster uses of the stream candidates. */
export interface StreamPart {
  /** Sorted by name, once each. */
  readonly listeners: Listener[];
  readonly routes: StreamRoute[];
  readonly uses: ClusterUse[];
}

/** Resolves `candidates` to stream routes (sorted by listener, then hostname) and their listeners. */
export function buildStreamPart(candidates: readonly StreamCandidate[], clusterOf: ClusterNamer): StreamPart {
  const listeners = new Map<string, Listener>();
  const routes: StreamRoute[] = [];
  const uses: ClusterUse[] = [];
  for (const c of candidates) {
    listeners.set(c.listener.name, c.listener);
    const provenance = c.provenance;
    const wanted = c.backends ?? [{ service: c.service, weight: 1, provenance }];
    const backends = wanted.map((b) => {
      if (b.service === null) return { cluster: null, weight: b.weight, provenance: b.provenance };
      const { namespace, referenceGrant, overrides: _overrides, ...ref } = b.service;
      const cluster = clusterOf(namespace, ref);
      uses.push({ cluster, namespace, ref, owner: c.owner, provenance });
      return { cluster, weight: b.weight, provenance: b.provenance, ...(referenceGrant === undefined ? {} : { referenceGrant }) };
    });
    routes.push({
      listener: c.listener.name,
      hostnames: [...c.hostnames].sort(compareStrings),
      backends,
      idleTimeoutMs: null,
      sendProxyProtocol: c.sendProxyProtocol,
      provenance,
    });
  }
  routes.sort((a, b) => compareStrings(a.listener, b.listener) || compareStrings(a.hostnames[0] ?? '', b.hostnames[0] ?? ''));
  return { listeners: [...listeners.values()].sort((a, b) => compareStrings(a.name, b.name)), routes, uses };
}
