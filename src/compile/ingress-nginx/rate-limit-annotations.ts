/**
 * ingress-nginx's rate limits — `limit-rps`, `limit-rpm`, `limit-burst-multiplier`,
 * `limit-connections`, `limit-allowlist` (formerly `limit-whitelist`) — read into a
 * {@link RateLimitFilter} as ingress-nginx's ratelimit parser and template write them: each rate's
 * burst is the rate times the multiplier (default 5), `limit_req ... nodelay`; one zone per
 * Ingress, shared by all its paths; the statuses from the ConfigMap's `limit-req-status-code` and
 * `limit-conn-status-code`. Without a rate or a connection limit there is no filter, whatever the
 * allow list says.
 */
import { cidrProblem } from '../../model/check-rate-limit.ts';
import type { RateLimitFilter, RateLimitRate, ResponseRateFilter } from '../../model/table.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import type { Reader } from './ingress-annotations.ts';
import type { NginxSettings } from './settings.ts';
import { parseCidrList, parseInteger, type Parsed } from './values.ts';

/** ingress-nginx's `defBurst`. */
const DEFAULT_BURST_MULTIPLIER = 5;
// What the filter's arithmetic takes (check-rate-limit.ts): requests up to a million, bursts up to 10^8.
const MAX_LIMIT = 1_000_000;
const MAX_MULTIPLIER = 100;

/** The RateLimit filter of an Ingress with `limit-rps`, `limit-rpm` or `limit-connections`, else null. */
export function rateLimitFilter(id: ObjectIdentity, read: Reader, settings: NginxSettings): RateLimitFilter | null {
  const limit = (text: string) => parseInteger(text, 0, MAX_LIMIT);
  const rps = read('limit-rps', limit, 0);
  const rpm = read('limit-rpm', limit, 0);
  const connections = read('limit-connections', limit, 0);
  if (rps === 0 && rpm === 0 && connections === 0) return null;
  const multiplier = read('limit-burst-multiplier', (t) => parseInteger(t, 0, MAX_MULTIPLIER), DEFAULT_BURST_MULTIPLIER);
  const rates: RateLimitRate[] = [];
  // The template's order: limit_conn, then the per-minute zone, then the per-second one.
  if (rpm > 0) rates.push({ requests: rpm, periodSeconds: 60, burst: rpm * multiplier });
  if (rps > 0) rates.push({ requests: rps, periodSeconds: 1, burst: rps * multiplier });
  const allowlist = read('limit-allowlist', addressList, read('limit-whitelist', addressList, []));
  return {
    type: 'RateLimit',
    // ingress-nginx names its zones after the Ingress (namespace, name, uid): one per Ingress.
    zone: id.provenance,
    rates,
    connections: connections === 0 ? null : connections,
    allowlist,
    rateStatus: settings.limitReqStatusCode,
    connectionStatus: settings.limitConnStatusCode,
  };
}

/** The largest `limit-rate` / `limit-rate-after` taken, in kilobytes: 2^30 KB is a terabyte (per second). */
export const MAX_RATE_KB = 2 ** 30;
/** nginx's `k`: `limit_rate 64k` is 65,536 bytes per second. */
const KB = 1024;

/**
 * The ResponseRate filter of `limit-rate` (kilobytes per second; 0 turns it off) and
 * `limit-rate-after` (kilobytes), each defaulting to the ConfigMap's; null when the rate is 0.
 * ingress-nginx writes them as nginx's `limit_rate <n>k` and `limit_rate_after <n>k`, so a
 * kilobyte is 1024 bytes.
 */
export function responseRateFilter(read: Reader, settings: NginxSettings): ResponseRateFilter | null {
  const kb = (text: string) => parseInteger(text, 0, MAX_RATE_KB);
  const rate = read('limit-rate', kb, settings.limitRate);
  if (rate === 0) return null;
  return { type: 'ResponseRate', bytesPerSecond: rate * KB, afterBytes: read('limit-rate-after', kb, settings.limitRateAfter) * KB };
}

/**
 * A list of addresses and CIDRs, each one the data plane's matcher takes (check-rate-limit.ts);
 * one bad entry refuses the whole list, as ingress-nginx's ParseCIDRs does.
 */
function addressList(text: string): Parsed<string[]> {
  const parsed = parseCidrList(text);
  if (!parsed.ok) return parsed;
  const bad = parsed.value.find((entry) => cidrProblem(entry) !== null);
  return bad === undefined ? parsed : { ok: false, message: `${JSON.stringify(bad)} is not an IP address or CIDR` };
}
