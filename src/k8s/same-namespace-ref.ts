/** Reading an annotation that names a Secret or ConfigMap of the annotated object's own namespace. */
import type { ReferringObject } from './object-refs.ts';

// A DNS-1123 subdomain, the names Secrets and ConfigMaps may have; anything else names nothing that could exist.
const SECRET_NAME = /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;

/**
 * The `namespace/name` an annotation of `object` names in the object's own namespace — written as
 * `namespace/name` or a bare name, as the front end reads it — or null when absent, malformed or in
 * another namespace (which the front end refuses).
 */
export function sameNamespaceRef(object: ReferringObject, annotation: string): string | null {
  const value = object.metadata?.annotations?.[annotation];
  const namespace = object.metadata?.namespace ?? '';
  if (typeof value !== 'string') return null;
  const parts = value.trim().split('/');
  const [ns, name] = parts.length === 2 ? parts : parts.length === 1 ? [namespace, parts[0]] : [];
  if (ns !== namespace || name === undefined || !SECRET_NAME.test(name)) return null;
  return `${namespace}/${name}`;
}
