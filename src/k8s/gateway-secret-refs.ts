/**
 * The Secrets and ConfigMaps the Gateway API's objects name, so that the API source caches them
 * before the compile looks for them:
 * - a Gateway's and a ListenerSet's listeners: `tls.certificateRefs` (Secrets);
 * - a Gateway's `spec.tls.backend.clientCertificateRef` (a Secret) and the client-certificate
 *   validation of `spec.tls.frontend` (`default` and `perPort`): `validation.caCertificateRefs`
 *   (ConfigMaps, or Secrets);
 * - a BackendTLSPolicy's `spec.validation.caCertificateRefs` (ConfigMaps, or Secrets; always the
 *   policy's own namespace).
 * A reference may name another namespace: that is allowed only with a ReferenceGrant, which the
 * compile checks. It is followed here anyway, since caching one object too many is harmless and
 * deciding grants belongs to the compile; only references of a kind that cannot hold a
 * certificate (another group, another kind) name nothing.
 */
import type { RefFinder, ReferringObject } from './object-refs.ts';
import type { ServiceRefs } from './service-secret-refs.ts';

/** A Gateway API object reference as the specs write it: group and kind defaulted or explicit. */
interface ObjectRef {
  readonly group?: unknown;
  readonly kind?: unknown;
  readonly name?: unknown;
  readonly namespace?: unknown;
}

/** Collects `namespace/name` keys per kind, skipping what cannot name an object. */
class Refs {
  readonly secrets: string[] = [];
  readonly configMaps: string[] = [];
  readonly #namespace: string;

  constructor(object: ReferringObject) {
    this.#namespace = object.metadata?.namespace ?? '';
  }

  /**
   * Adds `ref`: `defaultKind` is the kind when the reference leaves it out (Secret for
   * SecretObjectReference; ObjectReference and LocalObjectReference always say it). `local`: the
   * reference's own namespace field is not part of its type and is ignored.
   */
  add(ref: unknown, defaultKind: string | null, local = false): void {
    if (ref === null || typeof ref !== 'object') return;
    const { group, kind, name, namespace } = ref as ObjectRef;
    if (typeof name !== 'string' || name === '') return;
    if (group !== undefined && group !== '' && group !== 'core') return;
    const ns = !local && typeof namespace === 'string' && namespace !== '' ? namespace : this.#namespace;
    const effectiveKind = typeof kind === 'string' && kind !== '' ? kind : defaultKind;
    if (effectiveKind === 'Secret') this.secrets.push(`${ns}/${name}`);
    else if (effectiveKind === 'ConfigMap') this.configMaps.push(`${ns}/${name}`);
  }

  addAll(refs: unknown, defaultKind: string | null, local = false): void {
    if (Array.isArray(refs)) for (const ref of refs) this.add(ref, defaultKind, local);
  }

  result(): ServiceRefs {
    return { secrets: this.secrets, configMaps: this.configMaps };
  }
}

/** `field` of `value` when it is an object, else undefined. */
function at(value: unknown, field: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
}

/** `tls.certificateRefs` of every listener in `spec.listeners` (Gateways and ListenerSets alike). */
function listenerCertificates(object: ReferringObject, refs: Refs): void {
  const listeners = at(object.spec, 'listeners');
  if (!Array.isArray(listeners)) return;
  for (const listener of listeners) refs.addAll(at(at(listener, 'tls'), 'certificateRefs'), 'Secret');
}

/** The certificates and CA references of a Gateway. */
export const GATEWAY_REFS: RefFinder = {
  kind: 'Gateway',
  find: (gateway) => {
    const refs = new Refs(gateway);
    listenerCertificates(gateway, refs);
    const tls = at(gateway.spec, 'tls');
    refs.add(at(at(tls, 'backend'), 'clientCertificateRef'), 'Secret');
    const frontend = at(tls, 'frontend');
    refs.addAll(at(at(at(frontend, 'default'), 'validation'), 'caCertificateRefs'), null);
    const perPort = at(frontend, 'perPort');
    if (Array.isArray(perPort)) for (const port of perPort) refs.addAll(at(at(at(port, 'tls'), 'validation'), 'caCertificateRefs'), null);
    return refs.result();
  },
};

/** The listener certificates of a ListenerSet. */
export const LISTENER_SET_REFS: RefFinder = {
  kind: 'ListenerSet',
  find: (listenerSet) => {
    const refs = new Refs(listenerSet);
    listenerCertificates(listenerSet, refs);
    return refs.result();
  },
};

/** The CA bundles of a BackendTLSPolicy (LocalObjectReferences: the policy's namespace only). */
export const BACKEND_TLS_POLICY_REFS: RefFinder = {
  kind: 'BackendTLSPolicy',
  find: (policy) => {
    const refs = new Refs(policy);
    refs.addAll(at(at(policy.spec, 'validation'), 'caCertificateRefs'), null, true);
    return refs.result();
  },
};

/** The finders of the Gateway API kinds, run only while the Gateway API is watched. */
export const GATEWAY_API_REF_FINDERS: readonly RefFinder[] = Object.freeze([GATEWAY_REFS, LISTENER_SET_REFS, BACKEND_TLS_POLICY_REFS]);
