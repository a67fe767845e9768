/**
 * The balancer's default randomness: mulberry32, a tiny 32-bit-state generator, seeded once per
 * balancer from `Math.random`. Not for anything secret — only for spreading requests. It exists
 * because `Math.random` allocates a heap number per call in V8 (about one minor GC per 65k picks),
 * while this closure is inlined into the pick and allocates nothing.
 */

/** A generator uniform in [0, 1) with 2^32 steps, deterministic for a given seed. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
