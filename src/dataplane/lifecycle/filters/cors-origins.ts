/**
 * The origin test of a CORS filter, built once per table swap from `allowOrigins` (checked by
 * src/model/check-cors.ts: lower case, `scheme://host[:port]`, `*.` for one label, or `null`).
 */

/** Whether a request's `Origin` value is allowed. */
export type OriginTest = (origin: string) => boolean;

/** One `scheme://*.rest` origin, split around its wildcard label. */
interface WildcardOrigin {
  /** `https://` */
  readonly head: string;
  /** `.example.com:8443` */
  readonly tail: string;
}

// What the wildcard stands for: one DNS label, as ingress-nginx's `[A-Za-z0-9\-]+` (compared lower
// case); or, for the Gateway API, one or more labels.
const LABEL = /^[a-z0-9-]+$/;
const LABELS = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*$/;

/**
 * The test for `allowOrigins` other than `['*']`: an exact origin is a set lookup, a wildcard one
 * a prefix and suffix comparison around one label. Comparison is case-insensitive, as nginx's
 * `~*` is: browsers send origins lower case, other clients need not.
 */
export function originTest(allowOrigins: readonly string[], labels: 'one' | 'any' = 'one'): OriginTest {
  const part = labels === 'one' ? LABEL : LABELS;
  const exact = new Set<string>();
  const wildcards: WildcardOrigin[] = [];
  for (const origin of allowOrigins) {
    const star = origin.indexOf('://*.');
    if (star === -1) exact.add(origin);
    else wildcards.push({ head: origin.slice(0, star + 3), tail: origin.slice(star + 4) });
  }
  return (origin) => {
    const value = origin.toLowerCase();
    if (exact.has(value)) return true;
    for (const w of wildcards) {
      const end = value.length - w.tail.length;
      if (end > w.head.length && value.startsWith(w.head) && value.endsWith(w.tail) && part.test(value.slice(w.head.length, end))) return true;
    }
    return false;
  };
}
