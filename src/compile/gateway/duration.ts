/**
 * The Gateway API `Duration` (GEP-2257): one to four numbers each with a unit `h`, `m`, `s` or
 * `ms`, such as `1h`, `10s`, `500ms`, `1m30s`; no sign, no fraction. Zero means "no limit".
 */

const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const PART = /([0-9]{1,5})(h|ms|m|s)/g;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** Milliseconds of a Gateway API duration, or null when `text` is not one. */
export function parseGatewayDuration(text: unknown): number | null {
  if (typeof text !== 'string' || !DURATION.test(text)) return null;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  return ms;
}
