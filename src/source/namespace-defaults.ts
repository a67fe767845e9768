/**
 * Kinds that live in a namespace; every other kind signalbox reads (IngressClass, GatewayClass,
 * Namespace) is cluster-scoped.
 */
const NAMESPACED = new Set([
  'Ingress', 'Service', 'EndpointSlice', 'Secret', 'ConfigMap', 'RouteScript',
  'Gateway', 'ListenerSet', 'HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute', 'ReferenceGrant', 'BackendTLSPolicy',
]);

/**
 * Puts objects from files in the `default` namespace when they name none, as `kubectl apply` would,
 * so that the same manifests mean the same thing in a cluster and in `serve --manifests`.
 * Returns new objects; the input is not modified.
 */
export function withDefaultNamespace(objects: readonly unknown[], namespace = 'default'): unknown[] {
  return objects.map((obj) => {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return obj;
    const o = obj as { kind?: unknown; metadata?: unknown };
    if (typeof o.kind !== 'string' || !NAMESPACED.has(o.kind)) return obj;
    if (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata)) return obj;
    const meta = o.metadata as { namespace?: unknown };
    if (typeof meta.namespace === 'string' && meta.namespace !== '') return obj;
    return { ...o, metadata: { ...meta, namespace } };
  });
}
