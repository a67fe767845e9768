/**
 * The invariants of a {@link CompressFilter}, for {@link checkTable} (through check-routes.ts):
 * levels the encoders take, a media type list the data plane can compare as it is, and a
 * User-Agent pattern that compiles.
 */
import type { CompressCoding, CompressFilter, Provenance } from './table.ts';

/** How a check reports: where, about which node, what. */
export type CompressReport = (at: string, provenance: Provenance, message: string) => void;

// type/subtype, lower-case tokens (RFC 9110 §8.3.1), or the one wildcard nginx knows.
const MEDIA_TYPE = /^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+$/;

const MAX_LEVEL = { gzip: 9, brotli: 11 } as const;
const MIN_LEVEL = { gzip: 1, brotli: 0 } as const;

/** Checks one Compress filter of the route whose provenance is `p`. */
export function checkCompress(at: string, f: CompressFilter, p: Provenance, report: CompressReport): void {
  if (f.gzip === null && f.brotli === null) report(at, p, 'a Compress filter with neither gzip nor brotli (a route without compression has no Compress filter)');
  if (f.gzip !== null) checkCoding(`${at}.gzip`, 'gzip', f.gzip, p, report);
  if (f.brotli !== null) checkCoding(`${at}.brotli`, 'brotli', f.brotli, p, report);
  if (f.gzipDisable !== null) {
    if (typeof f.gzipDisable !== 'string' || f.gzipDisable === '') report(`${at}.gzipDisable`, p, 'gzipDisable is empty (null when there is none)');
    else {
      try {
        new RegExp(f.gzipDisable, 'i');
      } catch {
        report(`${at}.gzipDisable`, p, `gzipDisable ${JSON.stringify(f.gzipDisable)} is not a regular expression`);
      }
    }
  }
}

function checkCoding(at: string, name: 'gzip' | 'brotli', c: CompressCoding, p: Provenance, report: CompressReport): void {
  if (!Number.isInteger(c.level) || c.level < MIN_LEVEL[name] || c.level > MAX_LEVEL[name]) report(at, p, `${name} level ${c.level} is not a whole number from ${MIN_LEVEL[name]} to ${MAX_LEVEL[name]}`);
  if (!Number.isInteger(c.minLength) || c.minLength < 0 || c.minLength > 2 ** 31 - 1) report(at, p, `${name} minLength ${c.minLength} is not a whole number from 0 to 2^31-1`);
  if (!Array.isArray(c.types) || c.types.length === 0) return report(at, p, `${name} types is empty`);
  if (c.types.includes('*') && c.types.length > 1) report(at, p, `${name} types has * with other types`);
  const seen = new Set<string>();
  for (const t of c.types) {
    if (t !== '*' && (typeof t !== 'string' || !MEDIA_TYPE.test(t))) report(at, p, `${name} type ${JSON.stringify(t)} is not a lower-case type/subtype`);
    if (seen.has(t)) report(at, p, `${name} type ${t} is listed twice`);
    seen.add(t);
  }
}
