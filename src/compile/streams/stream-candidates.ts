/**
 * What the layer-4 front ends (the TCP/UDP services ConfigMaps, the Ingress's ssl-passthrough)
 * hand to stream-routes.ts: one candidate per port or per SNI name, its backend still a Service
 * reference.
 */
import type { Listener, Provenance } from '../../model/table.ts';
import type { BackendCandidate, RankedOwner, ServiceBackendRef } from '../shared/candidates.ts';

/** One stream route asked for, before its Service is resolved to a cluster. */
export interface StreamCandidate {
  readonly owner: RankedOwner;
  /** The listener it serves (several candidates may name one TLS listener, each with its own names). */
  readonly listener: Listener;
  /** TLS only: the SNI names, lower case; empty for TCP and UDP. */
  readonly hostnames: readonly string[];
  /** Its one backend (weight 1); null when `backends` gives them. */
  readonly service: ServiceBackendRef | null;
  /** Weighted backends (a Gateway API TLSRoute's backendRefs); a null Service's share is refused. */
  readonly backends?: readonly BackendCandidate[];
  readonly sendProxyProtocol: boolean;
  readonly provenance: Provenance;
}
