/**
 * Cluster names: how a reference to a Service port becomes the key of a cluster in the table.
 */
import { withOverridesSuffix } from '../../model/override-digest.ts';
import type { ClusterOverrides } from '../../model/policy.ts';
import type { ServiceRef } from './candidates.ts';

/**
 * The cluster name for a Service port reference, `namespace/service:port`, given the Service port
 * number (`spec.ports[].port`) it resolved to:
 * - resolved: the port is that number, however it was referenced, so a reference by number and
 *   one by name to the same Service port share one cluster (`shop/web:80`);
 * - unresolved (null): the port as referenced, `shop/web:8080` or `shop/web:http`, so each broken
 *   reference stays visible on its own.
 * A number in a cluster name therefore always means `spec.ports[].port`, and a name always has a
 * letter (see `isIanaSvcName`), so an unresolved name never equals a resolved one: a number that
 * resolved is a TCP port of the Service, one that did not is not (see services.ts).
 *
 * A resolved reference with `overrides` (canonical, see cluster-overrides.ts) is a cluster of its
 * own: `shop/web:80~<digest>` (src/model/override-digest.ts). An unresolved one has no policy to
 * override, so its overrides are not part of its name.
 */
export function clusterName(namespace: string, ref: ServiceRef, servicePort: number | null, overrides: ClusterOverrides | null = null): string {
  // A UDP port's cluster is set apart: DNS Services use one number for a TCP and a UDP port.
  const base = `${namespace}/${ref.service}:${servicePort ?? ref.port}${ref.protocol === 'UDP' ? '/UDP' : ''}`;
  return servicePort === null ? base : withOverridesSuffix(base, overrides);
}

/**
 * Gives the cluster name of a reference read in `namespace` (resolving it; see clusters.ts), with
 * the overrides its route gives, as written (they are checked and made canonical first).
 */
export type ClusterNamer = (namespace: string, ref: ServiceRef, overrides?: unknown) => string;
