/**
 * ingress-nginx's `auth-cache-key` and `auth-cache-duration` (and the ConfigMap's
 * `global-auth-cache-key`, `global-auth-cache-duration`) read into an {@link ExternalAuthCache}:
 * the key enables the cache; the duration is nginx's `proxy_cache_valid` arguments, comma-separated
 * (`200 202 10m, 401 5m`), `200 202 401 5m` by default.
 */
import { CACHE_KEY_PREFIXES, CACHE_KEY_VARIABLES, unknownCacheKeyVariable } from '../../model/check-external-auth.ts';
import type { ExternalAuthCache } from '../../model/table.ts';
import type { Parsed } from './values.ts';

/** ingress-nginx's DefaultCacheDuration. */
export const DEFAULT_CACHE_DURATION = '200 202 401 5m';

/** nginx's time units (nginx.org/en/docs/syntax.html), in milliseconds. */
const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };
/** What `proxy_cache_valid` caches when it names no status. */
const NGINX_DEFAULT_STATUSES: readonly number[] = [200, 301, 302];
/** Every status, for `any`. */
const ANY: readonly number[] = Array.from({ length: 500 }, (_, i) => i + 100);

/** The cache key as written: the variables the data plane expands, and at least one of them. */
export function cacheKey(text: string): Parsed<string> {
  const t = text.trim();
  if (t === '' || !/\$\{?[A-Za-z_]/.test(t)) return { ok: false, message: `${JSON.stringify(text)} holds no variable: every request would get the first one's answer` };
  if (/[\u0000-\u001f\u007f]/u.test(t)) return { ok: false, message: `${JSON.stringify(text)} holds control characters` };
  const unknown = unknownCacheKeyVariable(t);
  if (unknown !== null) return { ok: false, message: `${JSON.stringify(text)} uses $${unknown}; only $${CACHE_KEY_VARIABLES.join(', $')} and $${CACHE_KEY_PREFIXES.join('<name>, $')}<name> are expanded` };
  return { ok: true, value: t };
}

/** The rules of a duration text: each comma-separated entry is statuses (or `any`, or none) and one time. */
export function cacheRules(text: string): Parsed<ExternalAuthCache['rules']> {
  const rules: { statuses: number[]; ttlMs: number }[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const words = entry.split(/\s+/);
    const time = /^(\d{1,9})(ms|s|m|h|d|w|M|y)$/.exec(words.at(-1)!);
    if (time === null) return { ok: false, message: `${JSON.stringify(entry)} does not end with a time such as 5m or 1h` };
    const ttlMs = Number(time[1]) * UNITS[time[2]!]!;
    if (ttlMs < 1 || !Number.isSafeInteger(ttlMs)) return { ok: false, message: `${JSON.stringify(entry)} has a time that is zero or too long` };
    const codes = words.slice(0, -1);
    const statuses = new Set<number>();
    for (const code of codes) {
      if (code === 'any') ANY.forEach((s) => statuses.add(s));
      else if (/^[1-5]\d\d$/.test(code)) statuses.add(Number(code));
      else return { ok: false, message: `${JSON.stringify(code)} in ${JSON.stringify(entry)} is not an HTTP status or any (a single time ends each entry)` };
    }
    rules.push({ statuses: codes.length === 0 ? [...NGINX_DEFAULT_STATUSES] : [...statuses].sort((a, b) => a - b), ttlMs });
  }
  if (rules.length === 0) return cacheRules(DEFAULT_CACHE_DURATION);
  return { ok: true, value: rules };
}
