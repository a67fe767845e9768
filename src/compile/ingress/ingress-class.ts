/**
 * IngressClass selection: deciding which Ingresses are ours. Ingresses of other controllers are
 * ignored silently — no diagnostic, no status — because in a shared cluster they are none of our
 * business.
 */
import type { CompileOptions } from '../../model/snapshot.ts';
import type { Identified } from '../shared/objects.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isUnset, mapValue, stringField } from '../shared/guards.ts';

/** The deprecated annotation that named the class before `spec.ingressClassName` existed. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
/** Marks the IngressClass that Ingresses without any class belong to. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

/** The IngressClasses whose `spec.controller` is ours. */
export interface OurClasses {
  /** Names of our IngressClasses. */
  readonly names: ReadonlySet<string>;
  /** True when one of them carries `is-default-class: "true"`. */
  readonly hasDefault: boolean;
}

/** Picks our IngressClasses out of all of them (already identified and deduplicated). */
export function ourClasses(classes: ReadonlyMap<string, Identified>, options: CompileOptions, sink: DiagnosticSink): OurClasses {
  const names = new Set<string>();
  let hasDefault = false;
  for (const { id, obj } of classes.values()) {
    guarded(sink, id, undefined, () => {
      if (stringField(field(obj, 'spec'), 'controller') !== options.controllerName) return;
      names.add(id.name);
      if (mapValue(field(obj, 'metadata'), 'annotations', DEFAULT_CLASS_ANNOTATION) === 'true') hasDefault = true;
    });
  }
  return { names, hasDefault };
}

/** The codes of the warnings ownership can give. */
export type IngressClassWarning = 'IngressClassAnnotationIgnored' | 'IngressClassNameInvalid';

/** Why an Ingress is ours, with the warnings that decision carries. */
export interface Ownership {
  readonly via: 'field' | 'annotation' | 'default';
  /** Problems with the class fields that did not stop us from claiming the Ingress. */
  readonly warnings: readonly { readonly code: IngressClassWarning; readonly message: string }[];
}

/**
 * Decides whether an Ingress (any shape) is ours, per networking.k8s.io/v1:
 * 1. `spec.ingressClassName` names one of our IngressClasses. When it is set, it alone decides —
 *    the annotation is ignored (with a warning if it is set too).
 * 2. Otherwise the deprecated annotation equals `options.ingressClass`.
 * 3. Otherwise, with no class at all, one of our IngressClasses is the default class (or
 *    `options.watchIngressWithoutClass`, ingress-nginx's `--watch-ingress-without-class`).
 * A `spec.ingressClassName` that is not a string counts as unset, with a warning.
 * Returns null when the Ingress is not ours.
 */
export function ownership(ingress: unknown, ours: OurClasses, options: CompileOptions): Ownership | null {
  const className = field(field(ingress, 'spec'), 'ingressClassName');
  const annotation = field(field(field(ingress, 'metadata'), 'annotations'), INGRESS_CLASS_ANNOTATION);
  const warnings: { code: IngressClassWarning; message: string }[] = [];
  if (typeof className === 'string' && className !== '') {
    if (!ours.names.has(className)) return null;
    if (!isUnset(annotation)) {
      warnings.push({
        code: 'IngressClassAnnotationIgnored',
        message: `both spec.ingressClassName and the deprecated ${INGRESS_CLASS_ANNOTATION} annotation are set; spec.ingressClassName "${className}" is used`,
      });
    }
    return { via: 'field', warnings };
  }
  if (!isUnset(className)) {
    warnings.push({ code: 'IngressClassNameInvalid', message: 'spec.ingressClassName must be a string; it is ignored' });
  }
  if (!isUnset(annotation)) return annotation === options.ingressClass ? { via: 'annotation', warnings } : null;
  return ours.hasDefault || options.watchIngressWithoutClass === true ? { via: 'default', warnings } : null;
}
