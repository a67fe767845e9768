/**
 * Whether a value is plain JSON: what `JSON.stringify` then `JSON.parse` gives back unchanged. The
 * routing table must be, because it is diffed and golden-tested as JSON, shown at `/debug/table`
 * and compared with the previous table to skip republishing an identical one.
 */

/** One place where a value is not plain JSON. */
export interface JsonProblem {
  /** Where, as a property path from the value's root: `clusters["shop/web:80"].endpoints[0].zone`. */
  readonly at: string;
  readonly message: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `base.key` (`key` at the root), or `base["key"]` when the key is not an identifier. */
export function member(base: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === '' ? key : `${base}.${key}`;
}

/**
 * Every place where `value` would not survive a JSON round trip: `undefined`, functions, symbols,
 * BigInts, non-finite numbers, holes in arrays, symbol keys, objects that are not plain (a `Date`,
 * a `Map`, a class instance, a null prototype) and cycles. An object reached twice without a cycle
 * is fine: JSON writes it out twice, equal.
 */
export function jsonProblems(value: unknown, at = '', ancestors: Set<object> = new Set()): JsonProblem[] {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [{ at, message: `${value} is not a JSON number` }];
  if (typeof value !== 'object') return [{ at, message: `${typeof value} is not JSON` }];
  if (ancestors.has(value)) return [{ at, message: 'a cycle: this object contains itself' }];
  const array = Array.isArray(value);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== (array ? Array.prototype : Object.prototype)) {
    return [{ at, message: `${(value as object).constructor?.name ?? 'an object without prototype'} is not a plain ${array ? 'array' : 'object'}` }];
  }
  const problems: JsonProblem[] = [];
  if (Object.getOwnPropertySymbols(value).length > 0) problems.push({ at, message: 'symbol keys are not JSON' });
  ancestors.add(value);
  if (array) {
    const list = value as readonly unknown[];
    for (let i = 0; i < list.length; i++) {
      if (!(i in list)) problems.push({ at: `${at}[${i}]`, message: 'a hole in an array is not JSON' });
      else problems.push(...jsonProblems(list[i], `${at}[${i}]`, ancestors));
    }
  } else {
    for (const [key, child] of Object.entries(value)) problems.push(...jsonProblems(child, member(at, key), ancestors));
  }
  ancestors.delete(value);
  return problems;
}
