/**
 * Object identity: reading and validating `metadata` of untrusted objects, and choosing one object
 * when a snapshot holds two with the same name. Every processor starts here, so an object without a
 * usable name is reported once and then never seen again.
 */
import { guarded, type DiagnosticSink, type DiagnosticSubject } from './diagnostics.ts';
import { field, isDns1123Label, isDns1123Subdomain, isRecord, isUnset, type Dict } from './guards.ts';
import { canonicalJson, compareStrings } from './order.ts';

/**
 * The namespace of a namespaced object whose manifest names none, as `kubectl apply` would do
 * without `-n`.
 */
export const DEFAULT_NAMESPACE = 'default';

/** Who an object is: enough to name it in diagnostics, provenance and indexes. */
export interface ObjectIdentity {
  readonly kind: string;
  /** '' for cluster-scoped kinds. */
  readonly namespace: string;
  readonly name: string;
  /** Index key: `namespace/name`, or `name` for cluster-scoped kinds. */
  readonly key: string;
  /** Provenance prefix: `Kind/namespace/name`, or `Kind/name` for cluster-scoped kinds. */
  readonly provenance: string;
  /** `metadata.generation` when it is an integer. */
  readonly generation: number | undefined;
}

/** An object whose metadata passed {@link identify}; the rest of it is still unchecked. */
export interface Identified {
  readonly id: ObjectIdentity;
  readonly obj: Dict;
}

/**
 * Validates the envelope of one object: it must be an object with `metadata.name` (a DNS-1123
 * subdomain) and, for namespaced kinds, an optional `metadata.namespace` (a DNS-1123 label).
 * Reports `ObjectInvalid` and returns null otherwise. The `kind` field of the object itself is not
 * read: the snapshot array it sits in says what it is.
 */
export function identify(obj: unknown, kind: string, namespaced: boolean, sink: DiagnosticSink): Identified | null {
  const metadata = field(obj, 'metadata');
  const rawName = field(metadata, 'name');
  const rawNamespace = field(metadata, 'namespace');
  const subject = {
    kind,
    namespace: namespaced && typeof rawNamespace === 'string' ? rawNamespace : '',
    name: typeof rawName === 'string' ? rawName : '',
  };
  const invalid = (message: string): null => {
    sink.report(subject, 'ObjectInvalid', 'error', `${message}; the object is ignored`);
    return null;
  };
  if (!isRecord(obj)) return invalid(`a ${kind} must be an object, got ${describe(obj)}`);
  if (!isRecord(metadata)) return invalid(`metadata must be an object, got ${describe(metadata)}`);
  if (typeof rawName !== 'string' || rawName === '') {
    return invalid(isUnset(rawName) ? 'metadata.name is missing' : `metadata.name must be a string, got ${describe(rawName)}`);
  }
  if (!isDns1123Subdomain(rawName)) return invalid(`metadata.name "${rawName}" is not a valid DNS-1123 subdomain`);
  let namespace = '';
  if (namespaced) {
    if (isUnset(rawNamespace)) namespace = DEFAULT_NAMESPACE;
    else if (typeof rawNamespace === 'string' && isDns1123Label(rawNamespace)) namespace = rawNamespace;
    else return invalid(`metadata.namespace ${JSON.stringify(rawNamespace) ?? describe(rawNamespace)} is not a valid namespace`);
  }
  const generation = field(metadata, 'generation');
  const key = namespaced ? `${namespace}/${rawName}` : rawName;
  return {
    id: {
      kind,
      namespace,
      name: rawName,
      key,
      provenance: `${kind}/${key}`,
      generation: typeof generation === 'number' && Number.isInteger(generation) ? generation : undefined,
    },
    obj,
  };
}

/**
 * Indexes identified objects by key. Two objects with one key (possible with a manifest directory,
 * never with the API) keep the one with the smallest canonical JSON — arbitrary but independent of
 * input order — and report `ObjectDuplicate`.
 */
export function indexByKey(items: readonly Identified[], sink: DiagnosticSink): Map<string, Identified> {
  const groups = new Map<string, Identified[]>();
  for (const item of items) {
    const group = groups.get(item.id.key);
    if (group === undefined) groups.set(item.id.key, [item]);
    else group.push(item);
  }
  const index = new Map<string, Identified>();
  for (const key of [...groups.keys()].sort(compareStrings)) {
    const group = groups.get(key)!;
    if (group.length > 1) {
      group.sort((a, b) => compareStrings(canonicalJson(a.obj), canonicalJson(b.obj)));
      sink.report(
        group[0]!.id,
        'ObjectDuplicate',
        'warning',
        `${group.length} objects share this name; one was chosen by content and the others ignored`,
      );
    }
    index.set(key, group[0]!);
  }
  return index;
}

/** Identifies and indexes one snapshot array, which may itself be anything. */
export function indexObjects(list: unknown, kind: string, namespaced: boolean, sink: DiagnosticSink): Map<string, Identified> {
  const items: Identified[] = [];
  for (const obj of Array.isArray(list) ? (list as unknown[]) : []) {
    const item = guarded(sink, subjectOf(obj, kind), null, () => identify(obj, kind, namespaced, sink));
    if (item !== null) items.push(item);
  }
  return indexByKey(items, sink);
}

/**
 * The best-effort subject of a diagnostic about an object that may not even be readable: its
 * name and namespace when they are strings, '' otherwise.
 */
export function subjectOf(obj: unknown, kind: string): DiagnosticSubject {
  try {
    const metadata = field(obj, 'metadata');
    const name = field(metadata, 'name');
    const namespace = field(metadata, 'namespace');
    return { kind, namespace: typeof namespace === 'string' ? namespace : '', name: typeof name === 'string' ? name : '' };
  } catch {
    return { kind, namespace: '', name: '' };
  }
}

/** A short description of a value's type for messages: `a string`, `null`, `an array`… */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}
