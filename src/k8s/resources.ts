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
}

/** What `signalbox controller` watches. */
export const WATCHED: readonly ResourceType[] = [
  { kind: 'IngressClass', apiVersion: 'networking.k8s.io/v1', plural: 'ingressclasses' },
  { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', plural: 'ingresses' },
  { kind: 'Service', apiVersion: 'v1', plural: 'services' },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices' },
  // Only TLS Secrets can serve an Ingress's tls; the field selector keeps the rest out of memory.
  { kind: 'Secret', apiVersion: 'v1', plural: 'secrets', fieldSelector: 'type=kubernetes.io/tls' },
  { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps' },
  { kind: 'RouteScript', apiVersion: 'signalbox.dev/v1alpha1', plural: 'routescripts' },
];

/** IngressClasses are cluster-scoped; everything else is namespaced. */
export function isClusterScoped(type: ResourceType): boolean {
  return type.kind === 'IngressClass';
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
