/**
 * The kinds the controller watches, and where they live in the API. List responses do not carry
 * `kind` and `apiVersion` on their items, so the reflector stamps them from here: the compiler reads
 * objects exactly as a manifest file would give them.
 */
export interface ResourceType {
  readonly kind: string;
  readonly apiVersion: string;
  /** The lower-case plural of the URL. */
  readonly plural: string;
  /** A field selector for list and watch, where only some objects of the kind matter. */
  readonly fieldSelector?: string;
  /**
   * Several field selectors, each listed and watched on its own (a field selector cannot say
   * "this or that"); the kind's objects are the union. Takes the place of `fieldSelector`.
   */
  readonly fieldSelectors?: readonly string[];
}

/** What `signalbox controller` watches. */
export const WATCHED: readonly ResourceType[] = [
  { kind: 'IngressClass', apiVersion: 'networking.k8s.io/v1', plural: 'ingressclasses' },
  { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', plural: 'ingresses' },
  { kind: 'Service', apiVersion: 'v1', plural: 'services' },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices' },
  // TLS Secrets serve certificates; Opaque ones hold CA bundles and htpasswd files (ingress-nginx's
  // auth-secret). Service account tokens, registry credentials and Helm's release Secrets are
  // never even listed; of the two types, only the Secrets something names are kept (kube-source.ts).
  { kind: 'Secret', apiVersion: 'v1', plural: 'secrets', fieldSelectors: ['type=kubernetes.io/tls', 'type=Opaque'] },
  { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps' },
  { kind: 'RouteScript', apiVersion: 'signalbox.dev/v1alpha1', plural: 'routescripts' },
];

/** The Gateway API group version signalbox reads (every kind of the v1.6 standard channel is v1). */
export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';

/**
 * What `signalbox controller` watches besides {@link WATCHED} while the Gateway API is on (a
 * gateway controller name is set and the group is served): only the kinds discovery lists are
 * watched, so a cluster with some of the CRDs (an older bundle without ListenerSet) still works.
 */
export const GATEWAY_API_WATCHED: readonly ResourceType[] = [
  { kind: 'GatewayClass', apiVersion: GATEWAY_API_VERSION, plural: 'gatewayclasses' },
  { kind: 'Gateway', apiVersion: GATEWAY_API_VERSION, plural: 'gateways' },
  { kind: 'ListenerSet', apiVersion: GATEWAY_API_VERSION, plural: 'listenersets' },
  { kind: 'HTTPRoute', apiVersion: GATEWAY_API_VERSION, plural: 'httproutes' },
  { kind: 'GRPCRoute', apiVersion: GATEWAY_API_VERSION, plural: 'grpcroutes' },
  { kind: 'TLSRoute', apiVersion: GATEWAY_API_VERSION, plural: 'tlsroutes' },
  { kind: 'TCPRoute', apiVersion: GATEWAY_API_VERSION, plural: 'tcproutes' },
  { kind: 'UDPRoute', apiVersion: GATEWAY_API_VERSION, plural: 'udproutes' },
  { kind: 'ReferenceGrant', apiVersion: GATEWAY_API_VERSION, plural: 'referencegrants' },
  { kind: 'BackendTLSPolicy', apiVersion: GATEWAY_API_VERSION, plural: 'backendtlspolicies' },
];

/**
 * Namespaces, watched only with the Gateway API on: a listener's `allowedRoutes.namespaces.selector`
 * reads their labels, and nothing on the Ingress side needs them.
 */
export const NAMESPACES: ResourceType = { kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces' };

/** The Gateway API route kinds, whose status is `status.parents`. */
export const GATEWAY_API_ROUTE_KINDS: ReadonlySet<string> = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute']);

const CLUSTER_SCOPED: ReadonlySet<string> = new Set(['IngressClass', 'GatewayClass', 'Namespace']);

/** The list-and-watch streams of `type`: one per field selector (one without any when it has none). */
export function selectedStreams(type: ResourceType): ResourceType[] {
  if (type.fieldSelectors === undefined) return [type];
  const { fieldSelectors, ...rest } = type;
  return fieldSelectors.map((fieldSelector) => ({ ...rest, fieldSelector }));
}

/** IngressClasses, GatewayClasses and Namespaces are cluster-scoped; everything else is namespaced. */
export function isClusterScoped(type: ResourceType): boolean {
  return CLUSTER_SCOPED.has(type.kind);
}

/** The collection URL of `type`, in `namespace` (null: all namespaces). */
export function collectionPath(type: ResourceType, namespace: string | null): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const scope = namespace === null || isClusterScoped(type) ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${scope}/${type.plural}`;
}

/** The URL of one object of `type`. */
export function objectPath(type: ResourceType, namespace: string | null, name: string): string {
  return `${collectionPath(type, isClusterScoped(type) ? null : namespace)}/${encodeURIComponent(name)}`;
}
