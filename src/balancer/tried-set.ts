/**
 * The endpoints already found unusable during one pick. A pick that meets an unusable endpoint
 * walks on (the ring, the schedule, re-hashed Maglev slots) and may meet the same endpoint many
 * times; this set asks `usable` about each endpoint at most once and stops the walk when every
 * endpoint has been tried. Clearing is O(1) and nothing is allocated per pick: a mark is the
 * current pick's epoch number.
 */

/** Largest epoch kept as a small integer (V8 Smi), so bumping it never allocates a heap number. */
const MAX_EPOCH = 0x3fffffff;

/** A set of endpoint indexes that empties itself in O(1). */
export class TriedSet {
  readonly #marks: Uint32Array;
  #epoch = 1;
  /** How many distinct indexes are in the set. */
  size = 0;

  /** @param capacity the number of endpoints; indexes are 0..capacity-1. */
  constructor(capacity: number) {
    this.#marks = new Uint32Array(capacity);
  }

  /** Empties the set; call at the start of each slow pick. */
  clear(): void {
    this.size = 0;
    if (++this.#epoch > MAX_EPOCH) {
      this.#marks.fill(0);
      this.#epoch = 1;
    }
  }

  /** Whether `index` was added since the last clear. */
  has(index: number): boolean {
    return this.#marks[index] === this.#epoch;
  }

  /** Adds `index` (not already in the set). */
  add(index: number): void {
    this.#marks[index] = this.#epoch;
    this.size++;
  }
}
