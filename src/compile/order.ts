/**
 * Deterministic ordering helpers. Everything the compiler sorts goes through plain UTF-16 code-unit
 * comparison, never `localeCompare`, whose result depends on the ICU data and locale of the
 * process: the same snapshot must give byte-identical output on every machine.
 */

/** Compares two strings by code units: -1, 0 or 1. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two numbers ascending. */
export function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const DIGITS = /^[0-9]+$/;

/**
 * Compares provenance paths segment by segment (`/`-separated), numeric segments as numbers:
 * `Ingress/a/b/rule/2` < `Ingress/a/b/rule/10` < `Ingress/a/b/tls`.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const left = a.split('/');
  const right = b.split('/');
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const x = left[i]!;
    const y = right[i]!;
    if (x === y) continue;
    if (DIGITS.test(x) && DIGITS.test(y)) return compareNumbers(Number(x), Number(y)) || compareStrings(x, y);
    return compareStrings(x, y);
  }
  return compareNumbers(left.length, right.length);
}

/**
 * A canonical JSON text for any value: object keys sorted, so two objects that differ only in key
 * order give the same text. Used to pick deterministically between duplicate objects. Never
 * throws: values JSON cannot represent (cycles, BigInt) fall back to a fixed marker.
 */
export function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        // A null prototype, so a `__proto__` key is copied as data instead of setting the prototype.
        const sorted: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        for (const k of Object.keys(v).sort(compareStrings)) sorted[k] = (v as Record<string, unknown>)[k];
        return sorted;
      }
      return v;
    }) ?? '';
  } catch {
    return '\u0000unserialisable';
  }
}
