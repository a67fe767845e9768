/** One Ingress path as the ingress-nginx translation carries it, and the backend it names. */
import type { IngressPath } from '../ingress/ingress.ts';
import type { RankedOwner, ServiceBackendRef } from '../shared/candidates.ts';
import type { NginxIngress } from './ingress-annotations.ts';

/** One path of one Ingress, with what its Ingress's annotations ask for. */
export interface NginxPath {
  readonly owner: RankedOwner;
  readonly path: IngressPath;
  readonly ingress: NginxIngress;
}

/** The backend of a path: its Service, in its Ingress's namespace, with its Ingress's backend settings. */
export function serviceOf(p: NginxPath): ServiceBackendRef {
  const overrides = p.ingress.overrides;
  return { namespace: p.owner.id.namespace, ...p.path.ref, ...(Object.keys(overrides).length > 0 ? { overrides } : {}) };
}
