/**
 * ReferenceGrants (apis/v1/referencegrant_types.go): a reference from an object in one namespace
 * to an object in another is allowed only when a ReferenceGrant in the target's namespace lists
 * the referrer's group, kind and namespace in `from` and the target's group, kind (and name, when
 * it names one) in `to`. References within one namespace need none.
 */
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isRecord } from '../shared/guards.ts';
import { indexObjects } from '../shared/objects.ts';

/** The side of a reference that refers. */
export interface ReferenceFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

/** The side of a reference that is referred to. */
export interface ReferenceTo {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

interface Grant {
  readonly provenance: string;
  readonly from: readonly ReferenceFrom[];
  readonly to: readonly { readonly group: string; readonly kind: string; readonly name: string | null }[];
}

/** Every ReferenceGrant of a snapshot, by namespace. */
export class ReferenceGrants {
  readonly #byNamespace = new Map<string, Grant[]>();

  constructor(list: unknown, sink: DiagnosticSink) {
    for (const { id, obj } of indexObjects(list, 'ReferenceGrant', true, sink).values()) {
      const spec = field(obj, 'spec');
      const from = listOf(field(spec, 'from')).flatMap((f) => {
        const group = field(f, 'group');
        const kind = field(f, 'kind');
        const namespace = field(f, 'namespace');
        return typeof group === 'string' && typeof kind === 'string' && typeof namespace === 'string' ? [{ group, kind, namespace }] : [];
      });
      const to = listOf(field(spec, 'to')).flatMap((t) => {
        const group = field(t, 'group');
        const kind = field(t, 'kind');
        const name = field(t, 'name');
        return typeof group === 'string' && typeof kind === 'string' ? [{ group, kind, name: typeof name === 'string' && name !== '' ? name : null }] : [];
      });
      const grants = this.#byNamespace.get(id.namespace);
      const grant = { provenance: id.provenance, from, to };
      if (grants === undefined) this.#byNamespace.set(id.namespace, [grant]);
      else grants.push(grant);
    }
  }

  /** Whether a reference from `from` to `to` is allowed: same namespace, or granted. */
  allows(from: ReferenceFrom, to: ReferenceTo): boolean {
    return from.namespace === to.namespace || this.grantFor(from, to) !== null;
  }

  /** The ReferenceGrant (`ReferenceGrant/ns/name`, the first by name) allowing a cross-namespace reference, or null. */
  grantFor(from: ReferenceFrom, to: ReferenceTo): string | null {
    const grants = (this.#byNamespace.get(to.namespace) ?? []).filter(
      (g) =>
        g.from.some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace) &&
        g.to.some((t) => t.group === to.group && t.kind === to.kind && (t.name === null || t.name === to.name)),
    );
    return grants.map((g) => g.provenance).sort()[0] ?? null;
  }
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]).filter(isRecord) : [];
}
