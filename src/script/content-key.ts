import { createHash } from 'node:crypto';
import type { ScriptSource } from './types.ts';

/**
 * The identity of a compiled script: a SHA-256 over everything that changes what its isolate holds
 * or how its answers are judged — id, code, data, limits and backends. Two loads with the same key
 * share one compiled script, so a table swap that leaves a RouteScript alone costs a hash, not an
 * isolate. The id is part of it on purpose: two RouteScripts with the same code still get separate
 * isolates, so neither can see the other's module state.
 */
export function contentKey(source: ScriptSource): string {
  return createHash('sha256')
    .update(JSON.stringify([source.id, source.code, source.data ?? null, source.limits.timeoutMs, source.limits.memoryMiB, source.backends]))
    .digest('base64url');
}
