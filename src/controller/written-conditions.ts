/**
 * Conditions as the status writer puts them on an object: the compile's (or the data plane's)
 * type, status, reason and message, plus what Kubernetes `metav1.Condition` adds — the
 * `observedGeneration` they were concluded from and a `lastTransitionTime` that moves only when
 * the status does. Shared by RouteScripts and the Gateway API kinds.
 */
import type { Condition } from '../model/table.ts';

/** The longest condition message the CRDs accept (`metav1.Condition`: 32768). */
export const MAX_CONDITION_MESSAGE = 32_768;

/** A condition as written to the API. */
export interface WrittenCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
}

/** A condition as read back from the API: any field may be missing or odd. */
export interface ReadCondition {
  readonly type?: unknown;
  readonly status?: unknown;
  readonly reason?: unknown;
  readonly message?: unknown;
  readonly observedGeneration?: unknown;
  readonly lastTransitionTime?: unknown;
}

/** Now, as `metav1.Time` writes it (whole seconds). */
export function conditionTime(at: Date = new Date()): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `conditions` stamped for writing: each keeps the `lastTransitionTime` of the condition of its
 * type in `previous` while its status is the same, else gets `now`.
 */
export function stampConditions(conditions: readonly Condition[], previous: readonly ReadCondition[] | undefined, generation: number, now: string): WrittenCondition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return conditions.map((c) => {
    const old = before.get(c.type);
    const kept = old !== undefined && old.status === c.status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : now;
    return { type: c.type, status: c.status, reason: c.reason, message: c.message.slice(0, MAX_CONDITION_MESSAGE), observedGeneration: generation, lastTransitionTime: kept };
  });
}

/** The conditions of `value` when it is a list of objects (what a status read from the API holds), else []. */
export function readConditions(value: unknown): ReadCondition[] {
  return Array.isArray(value) ? value.filter((c): c is ReadCondition => c !== null && typeof c === 'object') : [];
}

/**
 * Whether a condition in `current` was written for a newer generation than `generation`: our copy
 * of the object is stale, and the Gateway API says not to overwrite it (the watch brings the new
 * generation, and the next sync writes).
 */
export function newerThan(current: readonly ReadCondition[], generation: number): boolean {
  return current.some((c) => typeof c.observedGeneration === 'number' && c.observedGeneration > generation);
}
