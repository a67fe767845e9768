/**
 * The invariants of a {@link RateLimitFilter}, for {@link checkTable} (through check-routes.ts):
 * limits in the ranges the data plane's bucket arithmetic is exact for, statuses it can answer
 * with, and allow-list entries its address matcher takes as they are.
 */
import { isIP } from 'node:net';
import type { Provenance, RateLimitFilter } from './table.ts';

/** How a check reports: where, about which node, what. */
export type RateLimitReport = (at: string, provenance: Provenance, message: string) => void;

const MAX_REQUESTS = 1_000_000;
const MAX_BURST = 100_000_000;

/** Checks one RateLimit filter of the route whose provenance is `p`. */
export function checkRateLimit(at: string, f: RateLimitFilter, p: Provenance, report: RateLimitReport): void {
  if (typeof f.zone !== 'string' || f.zone === '') report(at, p, 'rate limit zone is empty');
  const periods = new Set<number>();
  for (const rate of f.rates) {
    if (!whole(rate.requests, 1, MAX_REQUESTS)) report(at, p, `rate limit requests ${rate.requests} is not a whole number from 1 to ${MAX_REQUESTS}`);
    if (rate.periodSeconds !== 1 && rate.periodSeconds !== 60) report(at, p, `rate limit period ${String(rate.periodSeconds)} is not 1 or 60 seconds`);
    if (!whole(rate.burst, 0, MAX_BURST)) report(at, p, `rate limit burst ${rate.burst} is not a whole number from 0 to ${MAX_BURST}`);
    if (periods.has(rate.periodSeconds)) report(at, p, `rate limit has two rates per ${rate.periodSeconds} s`);
    periods.add(rate.periodSeconds);
  }
  if (f.connections !== null && !whole(f.connections, 1, MAX_REQUESTS)) report(at, p, `rate limit connections ${f.connections} is not a whole number from 1 to ${MAX_REQUESTS} (null: no limit)`);
  if (f.rates.length === 0 && f.connections === null) report(at, p, 'rate limit has neither a rate nor a connection limit');
  for (const [name, status] of [['rateStatus', f.rateStatus], ['connectionStatus', f.connectionStatus]] as const) {
    if (!whole(status, 400, 599)) report(at, p, `rate limit ${name} ${status} is not a status from 400 to 599`);
  }
  for (const entry of f.allowlist) {
    const problem = cidrProblem(entry);
    if (problem !== null) report(at, p, `rate limit allowlist entry ${JSON.stringify(entry)} ${problem}`);
  }
}

/** Why `entry` is not an address or `address/bits` CIDR, or null. */
export function cidrProblem(entry: string): string | null {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return 'is not an IP address or CIDR';
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))) return `has a prefix length out of range for IPv${family}`;
  return null;
}

function whole(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}
