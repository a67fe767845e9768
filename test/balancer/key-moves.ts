/**
 * Measuring hash policies the way users notice them: where many keys land, and which keys move
 * when the endpoint set changes.
 */
import { createBalancer } from '../../src/balancer/balancer.ts';
import type { BalancerOptions } from '../../src/balancer/balancer.ts';
import { anyEndpoint } from './builders.ts';
import type { TestEndpoint } from './builders.ts';

/** The endpoint id each key goes to, with a fresh balancer over `list`. */
export function assign(policy: 'ring-hash' | 'maglev', list: readonly TestEndpoint[], keys: readonly string[], usable: (e: TestEndpoint) => boolean = anyEndpoint, options: BalancerOptions = {}): string[] {
  const balancer = createBalancer(policy, list, options);
  return keys.map((key) => balancer.pick(key, usable)?.id ?? 'null');
}

/** Keys per endpoint id. */
export function tally(assignment: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of assignment) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** The largest relative deviation of any endpoint's key count from its expected share. */
export function worstDeviation(assignment: readonly string[], expectedShare: ReadonlyMap<string, number>): number {
  const counts = tally(assignment);
  let worst = 0;
  for (const [id, share] of expectedShare) {
    const expected = assignment.length * share;
    worst = Math.max(worst, Math.abs((counts.get(id) ?? 0) - expected) / expected);
  }
  return worst;
}

/** Keys that moved between two assignments, and how many of them moved neither from nor to `changed`. */
export function moves(before: readonly string[], after: readonly string[], changed: string): { moved: number; elsewhere: number } {
  let moved = 0;
  let elsewhere = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === after[i]) continue;
    moved++;
    if (before[i] !== changed && after[i] !== changed) elsewhere++;
  }
  return { moved, elsewhere };
}
