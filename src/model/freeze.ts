/**
 * Freezes a plain value and everything it contains, in place, and returns it. Published tables are
 * frozen so that no consumer — the router, a worker, the admin server — can change a table another
 * one is reading.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
