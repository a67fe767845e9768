/**
 * A Kubernetes `LabelSelector` (`matchLabels` and `matchExpressions`), as a Gateway listener's
 * `allowedRoutes.namespaces.selector` gives it: every term must hold. An unreadable selector
 * selects nothing (the safe reading of a rule meant to admit), and says why.
 */
import { field, isRecord } from '../shared/guards.ts';

/** A compiled selector, or the reason it could not be read. */
export type LabelSelector = { readonly matches: (labels: Readonly<Record<string, string>>) => boolean } | { readonly problem: string };

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** Compiles `value`, a LabelSelector from the API. An empty selector selects every namespace. */
export function labelSelector(value: unknown): LabelSelector {
  if (!isRecord(value)) return { problem: 'the selector is not an object' };
  const terms: ((labels: Readonly<Record<string, string>>) => boolean)[] = [];
  const matchLabels = field(value, 'matchLabels');
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isRecord(matchLabels)) return { problem: 'matchLabels is not a map' };
    for (const [key, wanted] of Object.entries(matchLabels)) {
      if (typeof wanted !== 'string') return { problem: `matchLabels ${key} is not a string` };
      terms.push((labels) => labels[key] === wanted);
    }
  }
  const expressions = field(value, 'matchExpressions');
  if (expressions !== undefined && expressions !== null) {
    if (!Array.isArray(expressions)) return { problem: 'matchExpressions is not a list' };
    for (const [i, e] of (expressions as unknown[]).entries()) {
      const key = field(e, 'key');
      const operator = field(e, 'operator');
      const values = field(e, 'values') ?? [];
      if (typeof key !== 'string' || typeof operator !== 'string' || !OPERATORS.has(operator)) return { problem: `matchExpressions[${i}] needs a key and an operator In, NotIn, Exists or DoesNotExist` };
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) return { problem: `matchExpressions[${i}].values is not a list of strings` };
      const set = new Set(values as string[]);
      if (operator === 'In') terms.push((labels) => labels[key] !== undefined && set.has(labels[key]));
      else if (operator === 'NotIn') terms.push((labels) => labels[key] === undefined || !set.has(labels[key]));
      else if (operator === 'Exists') terms.push((labels) => labels[key] !== undefined);
      else terms.push((labels) => labels[key] === undefined);
    }
  }
  return { matches: (labels) => terms.every((t) => t(labels)) };
}
