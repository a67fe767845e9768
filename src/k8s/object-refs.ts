/**
 * Which Secrets and ConfigMaps the API source caches: only those some object names. Each kind that
 * names them has a {@link RefFinder}; the built-in ones cover an Ingress's `spec.tls`, a
 * RouteScript's `spec.dataFrom` and a Service's backend TLS annotations (service-secret-refs.ts).
 * A front end that reads Secrets through other fields — ingress-nginx's `proxy-ssl-secret`, which
 * becomes a route's backend TLS overrides (src/compile/shared/cluster-overrides.ts) — adds a finder
 * for its kind, so that what it names is cached before the first table is built.
 */
import { serviceSecretRefs, type ServiceRefs } from './service-secret-refs.ts';

/** An object as a finder sees it: any shape, metadata read defensively. */
export interface ReferringObject {
  readonly metadata?: { readonly namespace?: string; readonly name?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: unknown;
}

/** What one object of `kind` names, as `namespace/name` keys (a finder may name other namespaces). */
export interface RefFinder {
  readonly kind: string;
  readonly find: (object: ReferringObject) => ServiceRefs;
}

/** `spec.tls[].secretName` of an Ingress. */
const INGRESS_TLS: RefFinder = {
  kind: 'Ingress',
  find: (ingress) => {
    const namespace = ingress.metadata?.namespace ?? '';
    const tls = (ingress.spec as { tls?: { secretName?: unknown }[] } | undefined)?.tls;
    const secrets = Array.isArray(tls) ? tls.flatMap((t) => (typeof t?.secretName === 'string' ? [`${namespace}/${t.secretName}`] : [])) : [];
    return { secrets, configMaps: [] };
  },
};

/** `spec.dataFrom.configMapRef.name` of a RouteScript. */
const ROUTESCRIPT_DATA: RefFinder = {
  kind: 'RouteScript',
  find: (script) => {
    const name = (script.spec as { dataFrom?: { configMapRef?: { name?: unknown } } } | undefined)?.dataFrom?.configMapRef?.name;
    return { secrets: [], configMaps: typeof name === 'string' ? [`${script.metadata?.namespace ?? ''}/${name}`] : [] };
  },
};

/** `signalbox.dev/backend-tls-ca` and `-client-certificate` of a Service. */
const SERVICE_BACKEND_TLS: RefFinder = { kind: 'Service', find: (service) => serviceSecretRefs(service) };

/** The finders every API source runs. */
export const BUILT_IN_REF_FINDERS: readonly RefFinder[] = Object.freeze([INGRESS_TLS, ROUTESCRIPT_DATA, SERVICE_BACKEND_TLS]);

/** The `namespace/name` keys of the Secrets and ConfigMaps to cache. */
export interface WantedRefs {
  readonly secrets: Set<string>;
  readonly configMaps: Set<string>;
}

/**
 * Runs every finder on the objects of its kind (`objectsOf(kind)`); `pinnedConfigMaps` are wanted
 * whatever names them. A finder that throws on a malformed object names nothing for it: caching
 * one object too few is reported by the compiler, which sees the reference as missing.
 */
export function wantedRefs(finders: readonly RefFinder[], objectsOf: (kind: string) => Iterable<ReferringObject>, pinnedConfigMaps: readonly string[] = []): WantedRefs {
  const secrets = new Set<string>();
  const configMaps = new Set<string>(pinnedConfigMaps);
  for (const finder of finders) {
    for (const object of objectsOf(finder.kind)) {
      let refs: ServiceRefs;
      try {
        refs = finder.find(object);
      } catch {
        continue;
      }
      for (const key of refs.secrets) secrets.add(key);
      for (const key of refs.configMaps) configMaps.add(key);
    }
  }
  return { secrets, configMaps };
}
