/**
 * The Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016, §3.4). Each endpoint has its own permutation of the M slots,
 * `(offset + j × skip) mod M`, from two hashes of its id; endpoints take turns claiming their next
 * unclaimed preferred slot until the table is full. Every endpoint ends up with M/N slots, ±1,
 * and a change of endpoints changes few slots besides the changed endpoint's own.
 *
 * Weights: in each round an endpoint takes `weight / gcd(weights)` turns instead of one, so slot
 * counts are proportional to weight (to within one round).
 */
import { hashKey32 } from './hash.ts';

/** Seeds of the two hashes of an endpoint's id; any two distinct values do. */
const OFFSET_SEED = 0x2c6fe96e;
const SKIP_SEED = 0x5f4dcc3b;

/** The default table size: prime, and large enough that 650 endpoints stay within ±1% of each other. */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;

/** Whether `n` is prime (trial division; only table sizes are tested). */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The default size for `count` endpoints: 65537, or the first prime >= 100 × count when that is larger. */
export function defaultMaglevTableSize(count: number): number {
  let size = Math.max(DEFAULT_MAGLEV_TABLE_SIZE, 100 * count);
  while (!isPrime(size)) size++;
  return size;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The table: slot → index into `endpoints`.
 * @param endpoints ids and weights, sorted by id (the turn order, so input order never matters).
 * @param size a prime M >= endpoints.length.
 */
export function buildMaglevTable(endpoints: readonly { readonly id: string; readonly weight: number }[], size: number): Uint16Array | Uint32Array {
  const n = endpoints.length;
  let divisor = 0;
  for (const e of endpoints) divisor = gcd(e.weight, divisor);
  const turns = endpoints.map((e) => e.weight / divisor);
  const skip = endpoints.map((e) => (hashKey32(e.id, SKIP_SEED) % (size - 1)) + 1);
  // The next slot in each endpoint's permutation; M prime makes every skip a full cycle.
  const next = endpoints.map((e) => hashKey32(e.id, OFFSET_SEED) % size);
  const claimed = new Int32Array(size).fill(-1);
  let filled = 0;
  fill: for (;;) {
    for (let i = 0; i < n; i++) {
      for (let turn = 0; turn < turns[i]!; turn++) {
        let slot = next[i]!;
        const step = skip[i]!;
        while (claimed[slot] !== -1) {
          slot += step;
          if (slot >= size) slot -= size;
        }
        claimed[slot] = i;
        slot += step;
        next[i] = slot >= size ? slot - size : slot;
        if (++filled === size) break fill;
      }
    }
  }
  const table = n <= 0xffff ? new Uint16Array(size) : new Uint32Array(size);
  table.set(claimed);
  return table;
}
