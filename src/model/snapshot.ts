/**
 * The input side of the compiler: a typed, read-only snapshot of the Kubernetes objects that
 * signalbox reads. Both sources (the Kubernetes API and a manifest directory) produce this same
 * shape, so `compile` cannot tell them apart.
 *
 * Only the fields signalbox reads are declared. The objects may come from hand-written YAML, so the
 * compiler treats every field as untrusted: types here describe what a *valid* object looks like,
 * and each processor checks what it uses before relying on it.
 */

/** The subset of `metadata` that signalbox reads. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  /** RFC 3339 time; the oldest object wins a conflict, so this decides ties between Ingresses. */
  readonly creationTimestamp?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Any Kubernetes object: apiVersion, kind and metadata. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
}

/** `networking.k8s.io/v1` IngressServiceBackend. */
export interface IngressServiceBackend {
  readonly name: string;
  /** Exactly one of `number` or `name` is set on a valid object. */
  readonly port?: { readonly number?: number; readonly name?: string };
}

/** `networking.k8s.io/v1` IngressBackend: a Service port, or a resource (not supported). */
export interface IngressBackend {
  readonly service?: IngressServiceBackend;
  readonly resource?: { readonly apiGroup?: string; readonly kind: string; readonly name: string };
}

/** One path of an HTTP rule. `pathType` is Exact, Prefix or ImplementationSpecific. */
export interface HTTPIngressPath {
  readonly path?: string;
  readonly pathType?: string;
  readonly backend: IngressBackend;
}

/** One rule: an optional host and its paths. */
export interface IngressRule {
  readonly host?: string;
  readonly http?: { readonly paths: readonly HTTPIngressPath[] };
}

/** One TLS entry: the hosts a Secret's certificate serves. */
export interface IngressTLS {
  readonly hosts?: readonly string[];
  readonly secretName?: string;
}

/** `networking.k8s.io/v1` Ingress. */
export interface Ingress extends KubeObject {
  readonly kind: 'Ingress';
  readonly spec?: {
    readonly ingressClassName?: string;
    readonly defaultBackend?: IngressBackend;
    readonly tls?: readonly IngressTLS[];
    readonly rules?: readonly IngressRule[];
  };
}

/** `networking.k8s.io/v1` IngressClass. */
export interface IngressClass extends KubeObject {
  readonly kind: 'IngressClass';
  readonly spec?: { readonly controller?: string };
}

/** One port of a Service. */
export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly protocol?: string;
  readonly appProtocol?: string;
}

/** `v1` Service. Annotations on it choose per-Service policies (later issues). */
export interface Service extends KubeObject {
  readonly kind: 'Service';
  readonly spec?: {
    readonly type?: string;
    readonly ports?: readonly ServicePort[];
    readonly externalName?: string;
  };
}

/** One endpoint of an EndpointSlice. A missing `ready`/`serving` means true, `terminating` false. */
export interface SliceEndpoint {
  readonly addresses: readonly string[];
  readonly conditions?: {
    readonly ready?: boolean | null;
    readonly serving?: boolean | null;
    readonly terminating?: boolean | null;
  };
  readonly nodeName?: string;
  readonly zone?: string;
}

/** One port of an EndpointSlice; `name` matches the Service port's name ('' when unnamed). */
export interface SlicePort {
  readonly name?: string | null;
  readonly port?: number | null;
  readonly protocol?: string;
  readonly appProtocol?: string;
}

/** `discovery.k8s.io/v1` EndpointSlice, tied to its Service by the `kubernetes.io/service-name` label. */
export interface EndpointSlice extends KubeObject {
  readonly kind: 'EndpointSlice';
  readonly addressType?: string;
  readonly endpoints?: readonly SliceEndpoint[];
  readonly ports?: readonly SlicePort[] | null;
}

/** `v1` Secret. `data` values are base64; `stringData` (files only) is plain text. */
export interface Secret extends KubeObject {
  readonly kind: 'Secret';
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
  readonly stringData?: Readonly<Record<string, string>>;
}

/** `v1` ConfigMap; a RouteScript may read its data from one key (`spec.dataFrom`). */
export interface ConfigMap extends KubeObject {
  readonly kind: 'ConfigMap';
  readonly data?: Readonly<Record<string, string>>;
}

/** What a RouteScript attaches to: an Ingress (optionally one host and/or path of it), an HTTPRoute or GRPCRoute (optionally one named rule), or a Service. */
export interface RouteScriptTargetRef {
  readonly kind: 'Ingress' | 'Service' | 'HTTPRoute' | 'GRPCRoute';
  readonly name: string;
  /** Ingress targets only: only the routes of this host (as written in the rule, case-insensitive). */
  readonly host?: string;
  /** Ingress targets only: only the routes with exactly this path (as written in the Ingress). */
  readonly path?: string;
  /** HTTPRoute and GRPCRoute targets only: only the routes of the rule with this `name`. */
  readonly sectionName?: string;
}

/** A Service port in the RouteScript's namespace, shaped like an Ingress service backend. */
export interface RouteScriptServiceRef {
  readonly name: string;
  /** Exactly one of `number` or `name`. */
  readonly port: { readonly number?: number; readonly name?: string };
}

/**
 * `signalbox.dev/v1alpha1` RouteScript: JavaScript run per request on the routes it targets. The
 * schema is `crds/routescript.yaml`; the compiler applies the same rules (defaults included).
 */
export interface RouteScript extends KubeObject {
  readonly kind: 'RouteScript';
  readonly spec?: {
    readonly targetRefs: readonly RouteScriptTargetRef[];
    /** Named backends the script may choose with a `backend` decision. */
    readonly backends?: Readonly<Record<string, { readonly service: RouteScriptServiceRef }>>;
    /** `ctx.data`: any JSON object. Replaced by `dataFrom` when that is set. */
    readonly data?: Readonly<Record<string, unknown>>;
    /** `ctx.data` from a ConfigMap key (default key `data`) holding JSON or YAML. */
    readonly dataFrom?: { readonly configMapRef: { readonly name: string; readonly key?: string } };
    /** Defaults: `timeoutMs` 5 (1..1000), `memoryMiB` 16 (8..512). */
    readonly limits?: { readonly timeoutMs?: number; readonly memoryMiB?: number };
    /** Default `fallback`. */
    readonly failurePolicy?: 'fallback' | 'reject';
    /** 400..599, default 503: the status a failed run answers with under `reject`. */
    readonly rejectStatus?: number;
    /** An ES module exporting `onRequest(req, ctx)`. */
    readonly code: string;
    /** The HTTP service behind `ctx.lookup(key)`; `path` contains `{key}`. */
    readonly lookup?: {
      readonly service: RouteScriptServiceRef;
      readonly path: string;
      readonly cacheTtlSeconds?: number;
      readonly timeoutMs?: number;
    };
    /** Request pausing: a later issue; accepted and not compiled yet. */
    readonly pause?: { readonly enabled?: boolean; readonly maxWaitSeconds?: number };
  };
}

/** `v1` Namespace: only its labels are read (a Gateway listener's `allowedRoutes.namespaces.selector`). */
export interface Namespace extends KubeObject {
  readonly kind: 'Namespace';
}

/**
 * An object of the Gateway API (`gateway.networking.k8s.io/v1`): GatewayClass, Gateway,
 * ListenerSet, HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute, ReferenceGrant or
 * BackendTLSPolicy. Their specs are read field by field by the Gateway API front end
 * (src/compile/gateway/), which checks every one as untrusted input; `status` is read only where
 * the controller's own earlier answer matters (a Gateway's assigned addresses).
 */
export interface GatewayApiObject extends KubeObject {
  readonly spec?: unknown;
  readonly status?: unknown;
}

/** The Gateway API group. */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/** Everything one compile reads, as plain data. Arrays are in no particular order. */
export interface Snapshot {
  readonly ingresses: readonly Ingress[];
  readonly ingressClasses: readonly IngressClass[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly secrets: readonly Secret[];
  /** `signalbox.dev/v1alpha1` RouteScripts. */
  readonly routeScripts: readonly RouteScript[];
  /**
   * ConfigMaps; only those named by a RouteScript's `dataFrom`, by `--tcp-services-configmap` /
   * `--udp-services-configmap` and the ingress-nginx controller ConfigMap are read.
   */
  readonly configMaps: readonly ConfigMap[];
  /**
   * Namespaces, read only when a Gateway listener selects the namespaces of its routes by label.
   * This and the Gateway API lists below are absent when the source does not read them (the
   * Gateway API CRDs are not installed): the Ingress side needs none of them.
   */
  readonly namespaces?: readonly Namespace[];
  readonly gatewayClasses?: readonly GatewayApiObject[];
  readonly gateways?: readonly GatewayApiObject[];
  readonly listenerSets?: readonly GatewayApiObject[];
  readonly httpRoutes?: readonly GatewayApiObject[];
  readonly grpcRoutes?: readonly GatewayApiObject[];
  readonly tlsRoutes?: readonly GatewayApiObject[];
  readonly tcpRoutes?: readonly GatewayApiObject[];
  readonly udpRoutes?: readonly GatewayApiObject[];
  readonly referenceGrants?: readonly GatewayApiObject[];
  readonly backendTLSPolicies?: readonly GatewayApiObject[];
}

/** Static settings that shape a compile; the same for every snapshot of one process. */
export interface CompileOptions {
  /** The IngressClass name that the deprecated `kubernetes.io/ingress.class` annotation must carry. */
  readonly ingressClass: string;
  /** `spec.controller` of the IngressClasses that are ours. */
  readonly controllerName: string;
  /**
   * Most MiB the `limits.memoryMiB` of the RouteScripts that run may add up to (each worker may
   * hold an isolate of every one); those past it, youngest first, are refused. Absent or null: no budget.
   */
  readonly scriptMemoryBudgetMiB?: number | null;
  /**
   * `namespace/name` of the ConfigMap of TCP services (`--tcp-services-configmap`, entries
   * `"PORT": "namespace/service:port"`); absent or null: none.
   */
  readonly tcpServicesConfigMap?: string | null;
  /** Likewise for UDP services (`--udp-services-configmap`). */
  readonly udpServicesConfigMap?: string | null;
  /**
   * Whose defaults Ingresses get: `signalbox` or `ingress-nginx` (src/compile/ingress-nginx/profile.ts).
   * Absent: `ingress-nginx` when `controllerName` is `k8s.io/ingress-nginx`, else `signalbox`.
   */
  readonly profile?: 'signalbox' | 'ingress-nginx';
  /**
   * `namespace/name` of the ingress-nginx controller ConfigMap (`--nginx-configmap`); null: none.
   * Absent: `ingress-nginx/ingress-nginx-controller` in the ingress-nginx profile, none otherwise.
   */
  readonly nginxConfigMap?: string | null;
  /**
   * Also take Ingresses that name no class at all, even when none of our IngressClasses is the
   * default one (ingress-nginx's `--watch-ingress-without-class`).
   */
  readonly watchIngressWithoutClass?: boolean;
  /**
   * `namespace/name` of the global default backend of ingress-nginx Ingresses
   * (`--default-backend-service`): the Service, at its first port, that serves the pages of
   * `custom-http-errors` for Ingresses without a `default-backend` of their own. Absent: none.
   */
  readonly defaultBackendService?: string;
  /**
   * `spec.controllerName` of the GatewayClasses that are ours (`--gateway-controller-name`).
   * Absent: `signalbox.dev/gateway-controller`. Null: the Gateway API is not served at all.
   */
  readonly gatewayControllerName?: string | null;
  /**
   * The Gateway listener ports the data plane's own sockets serve (`--gateway-own-ports`): the
   * ports clients reach `--http-port` and `--https-port` on, such as a Service's 80 and 443 mapped
   * onto the container's 8080 and 8443. An HTTP listener on `http`, and an HTTPS or TLS listener on
   * `https`, become table listeners with port null; any other port is opened as declared. Absent:
   * 80 and 443.
   */
  readonly gatewayOwnPorts?: { readonly http: number | null; readonly https: number | null };
  /**
   * IP addresses for Gateways of their own (`--gateway-addresses`, expanded): each of our Gateways
   * gets one (src/compile/gateway/addresses.ts), its listeners are served on it, and it is the
   * Gateway's status address. Absent or empty: every Gateway shares the data plane's address.
   */
  readonly gatewayAddresses?: readonly string[];
}

/** The default {@link CompileOptions.gatewayControllerName}. */
export const DEFAULT_GATEWAY_CONTROLLER_NAME = 'signalbox.dev/gateway-controller';

/** Defaults for {@link CompileOptions}. */
export const DEFAULT_COMPILE_OPTIONS: CompileOptions = Object.freeze({
  ingressClass: 'signalbox',
  controllerName: 'signalbox.dev/ingress-controller',
});

/** An empty snapshot, handy for tests and for the state before the first sync. */
export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  ingresses: [],
  ingressClasses: [],
  services: [],
  endpointSlices: [],
  secrets: [],
  routeScripts: [],
  configMaps: [],
});
