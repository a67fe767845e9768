/**
 * Every diagnostic code signalbox emits, with its severity and what it means. A diagnostic's code
 * is stable and machine-readable (it is the reason of the Kubernetes Event and a label of
 * `signalbox_diagnostics`), so the list is closed: the compiler's `DiagnosticSink.report` accepts
 * only these codes, each with its own severity, and test/compile/diagnostic-codes.test.ts checks
 * that docs/troubleshooting.md lists every one.
 *
 * Severity: `error` means something was dropped (a path, a TLS entry, an object) or is answered
 * with an error; `warning` means it was kept, with a caveat.
 */

/** What the catalogue says of one code. */
export interface DiagnosticCodeSpec {
  readonly severity: 'error' | 'warning';
  /** One line: what was found, and what signalbox did about it. */
  readonly meaning: string;
}

/** The catalogue, by code. */
export const DIAGNOSTIC_CODES = {
  // Any object, or a file
  ObjectInvalid: { severity: 'error', meaning: 'the object (or the part named by path) has the wrong shape: it is ignored' },
  ObjectDuplicate: { severity: 'warning', meaning: 'several objects share one kind, namespace and name: one is chosen by content, the others ignored' },
  ObjectVersionUnsupported: { severity: 'error', meaning: 'the apiVersion of the object is not one signalbox reads: it is ignored' },
  CreationTimestampInvalid: { severity: 'warning', meaning: 'metadata.creationTimestamp is not an RFC 3339 time: the object counts as the newest in conflicts' },
  TableInvariantViolated: { severity: 'error', meaning: 'a bug in signalbox: this object was translated into a routing table that breaks its own rules, so the object is left out (everything else is served); please report the message' },
  ManifestParseError: { severity: 'error', meaning: 'a manifest file is not valid YAML (serve --manifests keeps the last good content of the file)' },

  // IngressClass and Ingress
  IngressClassAnnotationIgnored: { severity: 'warning', meaning: 'the Ingress sets both kubernetes.io/ingress.class and spec.ingressClassName: the annotation is ignored' },
  IngressClassNameInvalid: { severity: 'warning', meaning: 'spec.ingressClassName is not a string: it is ignored' },
  IngressRuleInvalid: { severity: 'error', meaning: 'an Ingress rule (or its http.paths) has the wrong shape: the rule is ignored' },
  IngressHostInvalid: { severity: 'error', meaning: 'a rule or TLS host is not a valid DNS name or wildcard: the rule or TLS host is ignored' },
  IngressPathInvalid: { severity: 'error', meaning: 'a path is missing, does not start with /, or could never match a normalised request path: the path is ignored' },
  IngressPathTypeInvalid: { severity: 'error', meaning: 'pathType is missing or not Exact, Prefix or ImplementationSpecific: the path is ignored' },
  IngressPathRegexNotSupported: { severity: 'warning', meaning: 'an ImplementationSpecific path looks like a regular expression but is served as a Prefix' },
  IngressBackendInvalid: { severity: 'error', meaning: 'a backend is not a valid Service name and port: its path (or the default backend) is ignored' },
  BackendResourceUnsupported: { severity: 'error', meaning: 'a backend names a resource instead of a Service: its path (or the default backend) is ignored' },
  RouteConflict: { severity: 'error', meaning: 'the same host and path are already routed by an older Ingress or an earlier path: this path is ignored' },
  RoutePatternInvalid: { severity: 'error', meaning: 'a regular expression of the route (a path, header or query match, a regex rewrite) cannot run on the linear-time engine: the route is ignored' },
  DefaultBackendConflict: { severity: 'error', meaning: 'an older Ingress already sets the default backend: this one is ignored' },
  TLSConfigInvalid: { severity: 'error', meaning: 'a spec.tls entry has the wrong shape, no secretName or no hosts: the entry is ignored' },
  TLSSecretNotFound: { severity: 'error', meaning: 'the Secret of a TLS entry does not exist: its hosts get the default certificate' },
  TLSSecretInvalid: { severity: 'error', meaning: 'the Secret of a TLS entry is not a usable kubernetes.io/tls key pair: its hosts get the default certificate' },
  TLSHostConflict: { severity: 'error', meaning: 'a host is already served with another Secret by an older Ingress or an earlier entry: this entry does not serve it' },

  // Services a route or RouteScript uses (reported on the object that refers to them)
  ServiceNotFound: { severity: 'error', meaning: 'the referenced Service does not exist: requests get 503 until it does' },
  ServicePortNotFound: { severity: 'error', meaning: 'the referenced Service has no such port: requests get 503' },
  ServicePortProtocolUnsupported: { severity: 'error', meaning: 'the referenced Service port is not TCP: requests get 503' },
  ServiceTypeUnsupported: { severity: 'error', meaning: 'the referenced Service is of type ExternalName: requests get 503' },
  ServiceInvalid: { severity: 'error', meaning: 'the referenced Service could not be read: requests get 503' },
  ServiceAppProtocolUnknown: { severity: 'warning', meaning: 'a Service port has an appProtocol signalbox does not know: it is proxied as HTTP/1.1' },
  BackendTlsCaInvalid: { severity: 'error', meaning: 'the Secret or ConfigMap key named by signalbox.dev/backend-tls-ca (or by a route\'s backend TLS overrides) is missing or not PEM: the system root CAs verify the endpoints' },
  BackendTlsClientCertificateInvalid: { severity: 'error', meaning: 'the Secret named by signalbox.dev/backend-tls-client-certificate (or by a route\'s backend TLS overrides) is missing, not kubernetes.io/tls, not PEM or its key does not match: the requests fail with 502 upstream-tls until it is fixed' },

  // signalbox.dev/* annotations of Services and EndpointSlices
  AnnotationInvalid: { severity: 'error', meaning: 'an annotation value does not parse or contradicts another: its default is used' },
  AnnotationUnknown: { severity: 'warning', meaning: 'a signalbox.dev/ annotation that does not exist (a typo?): it is ignored' },
  AnnotationIgnored: { severity: 'warning', meaning: 'an annotation that has no effect where it is (on an Ingress, or without what it needs)' },
  AnnotationMissing: { severity: 'warning', meaning: 'an annotation needs another one to take effect, which is missing' },

  // ingress-nginx: its annotations on Ingresses and its controller ConfigMap
  AnnotationUnsupported: { severity: 'warning', meaning: 'an ingress-nginx annotation signalbox does not honour: it is ignored, the rest of the Ingress is served' },
  AnnotationDiffers: { severity: 'warning', meaning: 'an ingress-nginx annotation honoured with a difference (the message says which)' },
  AnnotationRiskRefused: { severity: 'error', meaning: 'an ingress-nginx annotation above annotations-risk-level (snippets, by default): nothing of the Ingress is served' },
  AccessAnnotationUnsupported: { severity: 'error', meaning: 'an ingress-nginx access-control annotation signalbox cannot enforce (digest authentication): nothing of the Ingress is served rather than served without the check' },
  SnippetUnsupported: { severity: 'error', meaning: 'a snippet holds a directive outside the subset signalbox applies, or one it cannot read: nothing of the Ingress is served' },
  AuthSecretInvalid: { severity: 'error', meaning: 'the auth-secret of auth-type: basic is missing, in another namespace, without its auth key or of an unknown auth-secret-type: the paths answer 503 (ingress-nginx denies the location); or it holds no usable user: every request gets 401' },
  AuthTLSSecretInvalid: { severity: 'error', meaning: 'the auth-tls-secret of an Ingress is missing, in another namespace, without a ca.crt, or holds a ca.crt or ca.crl that does not parse: nothing of the Ingress is served rather than served without its client-certificate check' },
  AuthUserUnsupported: { severity: 'error', meaning: 'users of the auth Secret have a hash signalbox cannot verify (bcrypt, DES crypt, malformed): those users are refused (401), the others work' },
  DefaultBackendNotFound: { severity: 'error', meaning: 'the Service named by an ingress-nginx default-backend annotation (or --default-backend-service) does not exist or has no port: the Ingress is served without it (no error pages from it, no fallback for paths without endpoints)' },
  CanaryInvalid: { severity: 'error', meaning: 'a canary Ingress has no Ingress to be the canary of on a host and path, or conflicting canary annotations: that path of it is ignored' },
  NginxConfigMapNotFound: { severity: 'warning', meaning: 'the ConfigMap named by --nginx-configmap does not exist: ingress-nginx\'s defaults apply' },
  NginxConfigInvalid: { severity: 'error', meaning: 'a key of the ingress-nginx ConfigMap does not parse: its default is used' },
  NginxConfigUnsupported: { severity: 'warning', meaning: 'the ingress-nginx ConfigMap sets keys signalbox does not honour: they are ignored' },

  // EndpointSlices
  EndpointSliceInvalid: { severity: 'warning', meaning: 'an EndpointSlice, endpoint or port has the wrong shape: that part is ignored' },
  EndpointSliceAddressTypeUnsupported: { severity: 'warning', meaning: 'an EndpointSlice of addressType FQDN: it is ignored' },

  // RouteScripts
  RouteScriptInvalid: { severity: 'error', meaning: 'the RouteScript spec is invalid: it is ignored (or fails closed with failurePolicy reject)' },
  RouteScriptFieldUnknown: { severity: 'warning', meaning: 'the RouteScript spec has a field signalbox does not know: it is ignored' },
  RouteScriptCompileError: { severity: 'error', meaning: 'the script code does not compile: the RouteScript is ignored (or fails closed)' },
  RouteScriptDataInvalid: { severity: 'error', meaning: 'the data of the RouteScript (inline or from its ConfigMap) is not a usable object' },
  ConfigMapNotFound: { severity: 'error', meaning: 'the ConfigMap of spec.dataFrom does not exist' },
  ConfigMapKeyNotFound: { severity: 'error', meaning: 'the ConfigMap of spec.dataFrom has no such key' },
  RouteScriptRejecting: { severity: 'error', meaning: 'an invalid RouteScript with failurePolicy reject: the routes it targets answer its rejectStatus' },
  RouteScriptTargetNotFound: { severity: 'warning', meaning: 'a targetRef matches no route: the script runs nowhere for it' },
  RouteScriptOverMemoryBudget: { severity: 'error', meaning: 'the scripts together would exceed the memory budget: this one is not loaded' },

  // Layer 4: TCP/UDP services ConfigMaps and TLS passthrough
  StreamServicesConfigMapNotFound: { severity: 'warning', meaning: 'the ConfigMap named by --tcp-services-configmap or --udp-services-configmap does not exist: no port of it is served' },
  StreamServiceEntryInvalid: { severity: 'error', meaning: 'a tcp-services or udp-services entry is not "PORT": "namespace/service:port[:PROXY[:PROXY]]": it is ignored' },
  StreamProxyProtocolUnsupported: { severity: 'error', meaning: 'a services entry asks for a PROXY protocol signalbox cannot give it (decoding PROXY from clients, or PROXY on UDP): it is ignored' },
  PassthroughHostInvalid: { severity: 'error', meaning: 'an ssl-passthrough Ingress rule has no host (SNI needs a name): it is not passed through' },
  PassthroughNoRootPath: { severity: 'error', meaning: 'an ssl-passthrough host has no Prefix / path naming its backend: it is not passed through' },
  PassthroughConflict: { severity: 'error', meaning: 'an older Ingress already passes this host through: this one is not passed through' },

  // The Gateway API: GatewayClasses, Gateways and their listeners, routes
  GatewayClassParametersUnsupported: { severity: 'error', meaning: 'a GatewayClass of ours names parametersRef, which signalbox does not read: the class is not accepted and its Gateways are not served' },
  GatewayAddressUnsupported: { severity: 'error', meaning: 'a Gateway cannot be given an address: it asks for spec.addresses without --gateway-addresses, or for ones not in the pool or taken, or the pool is used up: it is not served' },
  GatewayListenerInvalid: { severity: 'error', meaning: 'a Gateway listener has a protocol, hostname, TLS mode or allowedRoutes signalbox cannot serve: that listener is not served' },
  GatewayListenerRefInvalid: { severity: 'error', meaning: 'a listener certificate reference (wrong kind, Secret missing or not a key pair) or route kind cannot be used: the listener is served without it, or not at all when it has no certificate left' },
  GatewayFrontendValidationInvalid: { severity: 'error', meaning: "a CA reference of a Gateway's spec.tls.frontend client-certificate validation (a kind other than ConfigMap or Secret, an object missing or without PEM certificates in ca.crt, another namespace no ReferenceGrant opens) cannot be used: the HTTPS listeners of its port verify against the other references, or are not served when none is left (Accepted False, NoValidCACertificate); a mode other than AllowValidOnly or AllowInsecureFallback is read as AllowValidOnly" },
  GatewayReferenceNotPermitted: { severity: 'error', meaning: 'a listener names a Secret in another namespace that no ReferenceGrant opens: it is not used' },
  ListenerSetNotAllowed: { severity: 'error', meaning: 'a ListenerSet names a Gateway of ours whose spec.allowedListeners does not take its namespace: none of its listeners is served (Accepted False, NotAllowed)' },
  GatewayListenerConflicted: { severity: 'error', meaning: 'listeners of one Gateway share a port with other protocols, or a port and hostname: none of them is served (Conflicted)' },
  RouteRuleInvalid: { severity: 'error', meaning: 'a route rule has a match, filter, timeout or backendRef signalbox cannot apply as written: that rule is not served (the others are)' },
  RouteBackendKindUnsupported: { severity: 'error', meaning: 'a route backendRef (or ExtensionRef filter) names a kind signalbox does not serve: its share of requests is answered 500' },
  RouteReferenceNotPermitted: { severity: 'error', meaning: 'a route backendRef names a Service in another namespace that no ReferenceGrant opens: its share of requests is answered 500' },
  BackendTlsPolicyInvalid: { severity: 'error', meaning: 'a BackendTLSPolicy cannot be applied as written (hostname, a subjectAltNames entry that is neither a hostname nor an absolute URI, no usable CA, well-known CAs other than System): the backends it targets answer 500, never reached without TLS' },
  BackendTlsPolicyConflicted: { severity: 'warning', meaning: 'an older BackendTLSPolicy targets the same Service port: this one is not applied there (Accepted False, Conflicted)' },
  RouteListenerTaken: { severity: 'warning', meaning: 'a TCPRoute or UDPRoute attaches to a listener an older route already serves: a listener has one stream route, so this one is not served there' },
  RouteExtensionRefNotFound: { severity: 'error', meaning: 'a route rule\'s ExtensionRef names a RouteScript that is not loaded: the rule\'s requests are answered 500, never served without it' },
  RouteBackendInvalid: { severity: 'error', meaning: 'a route backendRef cannot be used: its share of requests is answered 500' },
} as const satisfies Readonly<Record<string, DiagnosticCodeSpec>>;

/** A diagnostic code: a key of {@link DIAGNOSTIC_CODES}. */
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** The severity the catalogue gives `C` (for a union of codes, the union of their severities). */
export type SeverityOf<C extends DiagnosticCode> = (typeof DIAGNOSTIC_CODES)[C]['severity'];

/** Whether `code` is in the catalogue. */
export function isDiagnosticCode(code: string): code is DiagnosticCode {
  return Object.hasOwn(DIAGNOSTIC_CODES, code);
}
