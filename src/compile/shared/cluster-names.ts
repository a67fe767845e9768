/**
 * Cluster names: how a reference to a Service port becomes the key of a cluster in the table.
 */
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
 */
export function clusterName(namespace: string, ref: ServiceRef, servicePort: number | null): string {
  // A UDP port's cluster is set apart: DNS Services use one number for a TCP and a UDP port.
  return `${namespace}/${ref.service}:${servicePort ?? ref.port}${ref.protocol === 'UDP' ? '/UDP' : ''}`;
}

/** Gives the cluster name of a reference read in `namespace` (resolving it; see clusters.ts). */
export type ClusterNamer = (namespace: string, ref: ServiceRef) => string;
