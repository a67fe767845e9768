/**
 * Reading a request's Accept-Encoding (RFC 9110 §12.5.3): which content codings the client takes.
 */

/**
 * Whether `header` accepts `coding` (lower-case): named with a q-value above 0, or not named and
 * covered by a `*` above 0. `x-gzip` counts as `gzip` (RFC 9110 §8.4.1.3). No header: nothing is
 * accepted but the identity, which is what every proxy in front of a cache assumes.
 */
export function acceptsCoding(header: string | string[] | undefined, coding: string): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  let named: number | null = null;
  let star: number | null = null;
  for (const part of text.split(',')) {
    const [token = '', ...params] = part.split(';');
    let name = token.trim().toLowerCase();
    if (name === 'x-gzip') name = 'gzip';
    if (name !== coding && name !== '*') continue;
    const q = qValue(params);
    if (name === '*') star = Math.max(star ?? 0, q);
    else named = Math.max(named ?? 0, q);
  }
  return (named ?? star ?? 0) > 0;
}

// A q parameter that does not parse is taken as absent (1), as browsers and nginx are lenient here.
function qValue(params: readonly string[]): number {
  for (const p of params) {
    const [key = '', value = ''] = p.split('=');
    if (key.trim().toLowerCase() !== 'q') continue;
    const q = Number(value.trim());
    return Number.isFinite(q) && value.trim() !== '' ? q : 1;
  }
  return 1;
}
