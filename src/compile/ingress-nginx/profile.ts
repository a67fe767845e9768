/**
 * The profiles a compile runs in. `signalbox` is signalbox's own defaults; `ingress-nginx` is what
 * a controller that takes over an ingress-nginx installation needs: the defaults of ingress-nginx
 * v1.12–v1.15 with its default ConfigMap (a 1m body limit, the redirect to HTTPS once a host has
 * TLS, HSTS, ingress-nginx's path matching), changed by its controller ConfigMap when it exists.
 * Both read the `nginx.ingress.kubernetes.io/*` annotations of their Ingresses; only the defaults
 * differ.
 */
import type { CompileOptions } from '../../model/snapshot.ts';

/** `spec.controller` of ingress-nginx's IngressClasses. */
export const INGRESS_NGINX_CONTROLLER = 'k8s.io/ingress-nginx';

/** The ConfigMap ingress-nginx's official chart gives its controller. */
export const DEFAULT_NGINX_CONFIGMAP = 'ingress-nginx/ingress-nginx-controller';

/** A set of defaults. */
export type Profile = 'signalbox' | 'ingress-nginx';

/**
 * The profile of a compile: `options.profile` when set, else `ingress-nginx` when the controller
 * name is ingress-nginx's (so that `--controller-name k8s.io/ingress-nginx` is all it takes).
 */
export function profileOf(options: CompileOptions): Profile {
  return options.profile ?? (options.controllerName === INGRESS_NGINX_CONTROLLER ? 'ingress-nginx' : 'signalbox');
}

/**
 * `namespace/name` of the ingress-nginx controller ConfigMap to read, or null for none:
 * `options.nginxConfigMap` when given (null: none), else the chart's name in the ingress-nginx
 * profile and none in signalbox's.
 */
export function nginxConfigMapOf(options: CompileOptions): string | null {
  if (options.nginxConfigMap !== undefined) return options.nginxConfigMap;
  return profileOf(options) === 'ingress-nginx' ? DEFAULT_NGINX_CONFIGMAP : null;
}
