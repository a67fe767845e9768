/**
 * `maglev`: a key goes to `table[hashKey32(key) mod M]` (see maglev-table.ts). O(1), and for a
 * fixed set of endpoints the same key always lands on the same endpoint.
 *
 * An unusable endpoint: the key's slot is re-hashed with salts 1, 2, … ({@link MAX_REHASHES} at
 * most) and looked up again, then, if all of those slots were unusable too, the key goes to the
 * first usable endpoint after `slot mod N` in id order. Keys of usable endpoints never move, so only the
 * unusable endpoint's keys are remapped, spread over the others in proportion to their slots; when
 * it becomes usable again they come back.
 */
import { hashKey32, rehash32 } from './hash.ts';
import { buildMaglevTable } from './maglev-table.ts';
import { TriedSet } from './tried-set.ts';
import type { Balancer, BalancerEndpoint } from './types.ts';

/** Re-hashes before scanning: with half the slots unusable, 1 key in 65536 reaches the scan. */
export const MAX_REHASHES = 16;

/** Maglev hashing over `endpoints` (non-empty, sorted by id, ids unique). */
export class MaglevBalancer<E extends BalancerEndpoint> implements Balancer<E> {
  readonly #endpoints: readonly E[];
  readonly #table: Uint16Array | Uint32Array;
  readonly #tried: TriedSet;
  readonly #withoutKey: Balancer<E>;

  /**
   * @param tableSize a prime >= endpoints.length.
   * @param withoutKey picks for requests without a hash key.
   */
  constructor(endpoints: readonly E[], tableSize: number, withoutKey: Balancer<E>) {
    this.#endpoints = endpoints;
    this.#table = buildMaglevTable(endpoints, tableSize);
    this.#tried = new TriedSet(endpoints.length);
    this.#withoutKey = withoutKey;
  }

  pick(hashKey: string | null, usable: (e: E) => boolean): E | null {
    if (hashKey === null) return this.#withoutKey.pick(null, usable);
    const slot = hashKey32(hashKey) % this.#table.length;
    const endpoint = this.#endpoints[this.#table[slot]!]!;
    return usable(endpoint) ? endpoint : this.#pickSlow(slot, usable);
  }

  /**
   * Re-hashes derive from the slot, not the key: every key of a slot belonged to the same endpoint,
   * and slots are many, so the unusable endpoint's keys still spread in proportion to the table.
   * (A slot is a small integer; passing the full hash here would allocate.)
   */
  #pickSlow(slot: number, usable: (e: E) => boolean): E | null {
    const table = this.#table;
    const endpoints = this.#endpoints;
    const tried = this.#tried;
    tried.clear();
    tried.add(table[slot]!);
    for (let salt = 1; salt <= MAX_REHASHES && tried.size < endpoints.length; salt++) {
      const index = table[rehash32(slot, salt) % table.length]!;
      if (tried.has(index)) continue;
      const endpoint = endpoints[index]!;
      if (usable(endpoint)) return endpoint;
      tried.add(index);
    }
    const n = endpoints.length;
    const start = slot % n;
    for (let k = 0; k < n && tried.size < n; k++) {
      const index = start + k < n ? start + k : start + k - n;
      if (tried.has(index)) continue;
      const endpoint = endpoints[index]!;
      if (usable(endpoint)) return endpoint;
      tried.add(index);
    }
    return null;
  }
}
