/**
 * Tiny builders for balancer tests: endpoints with fresh stats, a seeded random source, pick
 * counting, and hash keys.
 */
import { createBalancer, newStats } from '../../src/balancer/balancer.ts';
import type { Balancer, BalancerEndpoint, BalancerOptions } from '../../src/balancer/balancer.ts';
import { createRandom } from '../../src/balancer/prng.ts';
import type { LbPolicy } from '../../src/model/policy.ts';

/** The endpoints tests use: plain balancer endpoints, whose ids double as names in assertion messages. */
export type TestEndpoint = BalancerEndpoint;

/** An endpoint with the given id (`address:port`) and weight. */
export function endpoint(id: string, weight = 1): TestEndpoint {
  return { id, weight, stats: newStats() };
}

/** `count` endpoints `10.0.<i/256>.<i%256>:8080`, weight 1 unless `weights` says otherwise. */
export function endpoints(count: number, weights: readonly number[] = []): TestEndpoint[] {
  return Array.from({ length: count }, (_, i) => endpoint(`10.0.${i >> 8}.${i & 255}:8080`, weights[i] ?? 1));
}

/** A seeded random source, uniform in [0, 1): the balancer's own default generator, with a fixed seed. */
export function seededRandom(seed: number): () => number {
  return createRandom(seed);
}

/** A balancer with a seeded random source (seed 1 unless options say otherwise). */
export function balancer(policy: LbPolicy, list: readonly TestEndpoint[], options: BalancerOptions = {}): Balancer<TestEndpoint> {
  return createBalancer(policy, list, { random: seededRandom(1), ...options });
}

/** Accepts every endpoint. */
export const anyEndpoint = (): boolean => true;

/** Accepts every endpoint except those named. */
export function except(...ids: string[]): (e: TestEndpoint) => boolean {
  const excluded = new Set(ids);
  return (e) => !excluded.has(e.id);
}

/** Picks `count` times without a key; how many times each endpoint id was chosen (null as 'null'). */
export function countPicks(b: Balancer<TestEndpoint>, count: number, usable: (e: TestEndpoint) => boolean = anyEndpoint): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const id = b.pick(null, usable)?.id ?? 'null';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** The ids of `count` picks without a key, in order. */
export function pickSequence(b: Balancer<TestEndpoint>, count: number, usable: (e: TestEndpoint) => boolean = anyEndpoint): string[] {
  return Array.from({ length: count }, () => b.pick(null, usable)?.id ?? 'null');
}

/** `count` distinct, realistic-looking hash keys (session ids). */
export function hashKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `session-${i.toString(36)}-${(i * 2654435761) >>> 0}`);
}
