/**
 * The name suffix of a cluster with {@link ClusterOverrides}: `ns/svc:80~<digest>`. Shared by the
 * compiler, which names the cluster, and the table checker, which holds the name to its overrides.
 */
import { createHash } from 'node:crypto';
import type { ClusterOverrides } from './policy.ts';

/** The character between a Service port's cluster name and the digest of its overrides. */
export const OVERRIDES_SEPARATOR = '~';

/** Hex digits of the digest: 40 bits, so that a handful of variants of one Service port never collide. */
const DIGEST_LENGTH = 10;

/**
 * JSON of `value` with the keys of every object sorted (arrays keep their order) and undefined
 * members left out: two overrides that say the same thing have the same text, whatever order a
 * front end built their objects in.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A short, stable digest of `overrides`: the first hex digits of the SHA-256 of its canonical JSON.
 * It depends on nothing but the value (no clock, no order of insertion), so a compile stays
 * byte-identical for the same input.
 */
export function clusterOverridesDigest(overrides: ClusterOverrides): string {
  return createHash('sha256').update(canonicalJson(overrides)).digest('hex').slice(0, DIGEST_LENGTH);
}

/** `base` (a Service port's cluster name) with the digest of `overrides`, or `base` itself without any. */
export function withOverridesSuffix(base: string, overrides: ClusterOverrides | null): string {
  return overrides === null ? base : `${base}${OVERRIDES_SEPARATOR}${clusterOverridesDigest(overrides)}`;
}

