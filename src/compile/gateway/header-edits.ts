/**
 * A Gateway API `HTTPHeaderFilter` (the `requestHeaderModifier` and `responseHeaderModifier` of a
 * rule's or a backendRef's filters) as the table's header edits: names lower-cased, each named once
 * across `set` and `add`, values without line breaks.
 */
import type { HeaderEdits } from '../../model/table.ts';
import { field, isUnset } from '../shared/guards.ts';

/** The edits of `value`, or why they cannot be applied. */
export function headerEdits(value: unknown): HeaderEdits | string {
  const out: { set?: { name: string; value: string }[]; add?: { name: string; value: string }[]; remove?: string[] } = {};
  const names = new Set<string>();
  for (const key of ['set', 'add'] as const) {
    const list = field(value, key);
    if (isUnset(list)) continue;
    if (!Array.isArray(list)) return `${key} must be a list`;
    const entries: { name: string; value: string }[] = [];
    for (const h of list as unknown[]) {
      const name = field(h, 'name');
      const text = field(h, 'value');
      if (typeof name !== 'string' || !/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name) || typeof text !== 'string' || /[\r\n\0]/.test(text)) return `${key}: every header needs a valid name and a value without line breaks`;
      const lower = name.toLowerCase();
      if (names.has(lower)) return `header ${name} is named twice`;
      names.add(lower);
      entries.push({ name: lower, value: text });
    }
    if (entries.length > 0) out[key] = entries;
  }
  const remove = field(value, 'remove');
  if (!isUnset(remove)) {
    if (!Array.isArray(remove) || remove.some((r) => typeof r !== 'string' || r === '')) return 'remove must be a list of header names';
    const list = [...new Set((remove as string[]).map((r) => r.toLowerCase()))];
    if (list.length > 0) out.remove = list;
  }
  return out;
}
