/**
 * The Secret an Ingress's ingress-nginx `auth-secret` names (the users of `auth-type: basic`), so
 * that the API source caches it: `name` or `namespace/name`. Only the Ingress's own namespace is
 * followed, since the compiler refuses any other (as ingress-nginx does): a Secret of another
 * namespace is never read into this process because an Ingress named it.
 */
import { sameNamespaceRef } from './same-namespace-ref.ts';
import type { RefFinder } from './object-refs.ts';

const ANNOTATION = 'nginx.ingress.kubernetes.io/auth-secret';

/** The finder of `nginx.ingress.kubernetes.io/auth-secret` on Ingresses. */
export const NGINX_AUTH_SECRET_REFS: RefFinder = {
  kind: 'Ingress',
  find: (ingress) => {
    const ref = sameNamespaceRef(ingress, ANNOTATION);
    return { secrets: ref === null ? [] : [ref], configMaps: [] };
  },
};

/**
 * The finder of `nginx.ingress.kubernetes.io/auth-tls-secret` on Ingresses: the CA bundle (`ca.crt`,
 * `ca.crl`) client certificates are verified against, in the Ingress's own namespace only, as the
 * compiler reads it.
 */
export const NGINX_AUTH_TLS_SECRET_REFS: RefFinder = {
  kind: 'Ingress',
  find: (ingress) => {
    const ref = sameNamespaceRef(ingress, 'nginx.ingress.kubernetes.io/auth-tls-secret');
    return { secrets: ref === null ? [] : [ref], configMaps: [] };
  },
};
