/**
 * The Secret an Ingress's ingress-nginx `auth-secret` names (the users of `auth-type: basic`), so
 * that the API source caches it: `name` or `namespace/name`. Only the Ingress's own namespace is
 * followed, since the compiler refuses any other (as ingress-nginx does): a Secret of another
 * namespace is never read into this process because an Ingress named it.
 */
import type { RefFinder } from './object-refs.ts';

const ANNOTATION = 'nginx.ingress.kubernetes.io/auth-secret';

/** The finder of `nginx.ingress.kubernetes.io/auth-secret` on Ingresses. */
export const NGINX_AUTH_SECRET_REFS: RefFinder = {
  kind: 'Ingress',
  find: (ingress) => {
    const namespace = ingress.metadata?.namespace ?? '';
    const value = ingress.metadata?.annotations?.[ANNOTATION]?.trim();
    if (value === undefined || value === '') return { secrets: [], configMaps: [] };
    const parts = value.split('/');
    const [ns, name] = parts.length === 1 ? [namespace, parts[0]!] : parts.length === 2 ? [parts[0]!, parts[1]!] : ['', ''];
    return { secrets: ns === namespace && name !== '' ? [`${namespace}/${name}`] : [], configMaps: [] };
  },
};
