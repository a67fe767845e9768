/**
 * Names the Gateway API front end shares: the API group, the route kinds and how a Gateway
 * listener is named in the routing table.
 */
import { GATEWAY_API_GROUP } from '../../model/snapshot.ts';

export { GATEWAY_API_GROUP };

/** A route kind of the Gateway API that signalbox serves. */
export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

/** A `RouteGroupKind` as listener status lists it. */
export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/** The route kinds each listener protocol takes when `allowedRoutes.kinds` is empty, and the only ones it may name. */
export const KINDS_OF_PROTOCOL: Readonly<Record<string, readonly RouteKind[]>> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

/**
 * The routing-table name of a Gateway's listener: `gateway/<namespace>/<gateway>/<listener>`, or a
 * ListenerSet's: `listenerset/<namespace>/<name>/<listener>` (a listener name is a DNS-1123 label,
 * so the parts never run together).
 */
export function tableListenerName(namespace: string, gateway: string, listener: string, kind: 'Gateway' | 'ListenerSet' = 'Gateway'): string {
  return `${kind === 'ListenerSet' ? 'listenerset' : 'gateway'}/${namespace}/${gateway}/${listener}`;
}
