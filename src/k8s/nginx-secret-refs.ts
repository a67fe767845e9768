/**
 * The Secret an Ingress's `nginx.ingress.kubernetes.io/proxy-ssl-secret` names, so that the API
 * source caches it: the front end turns it into the CA of the route's backend TLS overrides
 * (src/compile/ingress-nginx/backend-annotations.ts), and without this finder the Secret would
 * never be in the snapshot the compiler reads.
 *
 * The value is `namespace/name`, as ingress-nginx documents it (a bare name is read in the
 * Ingress's namespace, as the front end reads it). Only the Ingress's own namespace is followed: the
 * front end refuses another one (ingress-nginx's `allow-cross-namespace-resources` is not
 * supported), so caching it would only put a Secret of someone else's namespace into memory.
 */
import { NGINX_AUTH_SECRET_REFS, NGINX_AUTH_TLS_SECRET_REFS } from './nginx-auth-secret-refs.ts';
import type { ReferringObject, RefFinder } from './object-refs.ts';
import { sameNamespaceRef } from './same-namespace-ref.ts';
import type { ServiceRefs } from './service-secret-refs.ts';

/**
 * The annotation, spelled out rather than imported from the front end: `k8s/` does not import
 * `compile/` (see /work/shared/ARCHITECTURE.md's import direction).
 */
export const PROXY_SSL_SECRET_ANNOTATION = 'nginx.ingress.kubernetes.io/proxy-ssl-secret';


/** The Secret `ingress`'s `proxy-ssl-secret` names in its own namespace (none when absent, malformed or elsewhere). */
export function nginxSecretRefs(ingress: ReferringObject): ServiceRefs {
  const ref = sameNamespaceRef(ingress, PROXY_SSL_SECRET_ANNOTATION);
  return { secrets: ref === null ? [] : [ref], configMaps: [] };
}

/** The finder `signalbox controller` adds to the built-in ones: Ingresses of either profile may carry the annotation. */
export const NGINX_PROXY_SSL_SECRET: RefFinder = Object.freeze({ kind: 'Ingress', find: nginxSecretRefs });

/** The ConfigMap of `nginx.ingress.kubernetes.io/custom-headers` (the Ingress's namespace only, as the front end reads it). */
const NGINX_CUSTOM_HEADERS: RefFinder = Object.freeze({
  kind: 'Ingress',
  find: (ingress: ReferringObject) => {
    const ref = sameNamespaceRef(ingress, 'nginx.ingress.kubernetes.io/custom-headers');
    return { secrets: [], configMaps: ref === null ? [] : [ref] };
  },
});

/** The ConfigMap of `nginx.ingress.kubernetes.io/auth-proxy-set-headers`: the fields of the auth subrequest (its namespace only, too). */
const NGINX_AUTH_PROXY_SET_HEADERS: RefFinder = Object.freeze({
  kind: 'Ingress',
  find: (ingress: ReferringObject) => {
    const ref = sameNamespaceRef(ingress, 'nginx.ingress.kubernetes.io/auth-proxy-set-headers');
    return { secrets: [], configMaps: ref === null ? [] : [ref] };
  },
});

/**
 * Every finder of the Secrets and ConfigMaps ingress-nginx annotations name (`proxy-ssl-secret`,
 * `auth-secret`, `auth-tls-secret`, `custom-headers`, `auth-proxy-set-headers`):
 * what `signalbox controller` and `signalbox migrate --cluster` add to the built-in ones.
 */
export const NGINX_REF_FINDERS: readonly RefFinder[] = Object.freeze([NGINX_PROXY_SSL_SECRET, NGINX_AUTH_SECRET_REFS, NGINX_AUTH_TLS_SECRET_REFS, NGINX_CUSTOM_HEADERS, NGINX_AUTH_PROXY_SET_HEADERS]);

/**
 * The ConfigMaps the ingress-nginx controller ConfigMap `name` (`namespace/name`) names in
 * `proxy-set-headers` and `add-headers` (`namespace/name`, or a name in its own namespace): cached
 * so that their headers reach the compiler.
 */
export function nginxHeaderConfigMaps(name: string): RefFinder {
  return Object.freeze({
    kind: 'ConfigMap',
    find: (object: ReferringObject) => {
      const namespace = object.metadata?.namespace ?? '';
      if (`${namespace}/${object.metadata?.name ?? ''}` !== name) return { secrets: [], configMaps: [] };
      const data = (object as { data?: Record<string, unknown> }).data ?? {};
      const configMaps = ['proxy-set-headers', 'add-headers'].flatMap((key) => {
        const value = data[key];
        if (typeof value !== 'string' || value.trim() === '') return [];
        return [value.includes('/') ? value.trim() : `${namespace}/${value.trim()}`];
      });
      return { secrets: [], configMaps };
    },
  });
}

/** {@link NGINX_REF_FINDERS}, and the header ConfigMaps of the controller ConfigMap `name` when there is one. */
export function withHeaderConfigMaps(name: string | null): readonly RefFinder[] {
  return name === null ? NGINX_REF_FINDERS : [...NGINX_REF_FINDERS, nginxHeaderConfigMaps(name)];
}
