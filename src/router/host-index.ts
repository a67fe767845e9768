/**
 * An index of virtual hosts by name that is looked up with a range of the raw Host header, so
 * that neither stripping the port nor lower-casing allocates a string.
 */
import { hashRange } from './hash.ts';

interface Entry<T> {
  readonly name: string;
  readonly value: T;
}

/** Values by lower-case host name (or wildcard suffix), matched case-insensitively. */
export class HostIndex<T> {
  readonly #buckets = new Map<number, Entry<T>[]>();
  #size = 0;

  /** Adds `value` under `name` (lower-case); the first value added for a name is kept. */
  add(name: string, value: T): void {
    const hash = hashRange(name, 0, name.length, false);
    const bucket = this.#buckets.get(hash);
    if (bucket === undefined) this.#buckets.set(hash, [{ name, value }]);
    else if (!bucket.some((e) => e.name === name)) bucket.push({ name, value });
    else return;
    this.#size++;
  }

  /** Number of names indexed. */
  get size(): number {
    return this.#size;
  }

  /** The value whose name equals `text[start, end)` ignoring ASCII case, if any. */
  get(text: string, start: number, end: number): T | undefined {
    const bucket = this.#buckets.get(hashRange(text, start, end, true));
    if (bucket === undefined) return undefined;
    for (const entry of bucket) {
      if (equalsFolded(entry.name, text, start, end)) return entry.value;
    }
    return undefined;
  }
}

/** True when lower-case `name` equals `text[start, end)` with ASCII upper-case folded. */
function equalsFolded(name: string, text: string, start: number, end: number): boolean {
  if (name.length !== end - start) return false;
  for (let i = 0; i < name.length; i++) {
    let c = text.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== name.charCodeAt(i)) return false;
  }
  return true;
}
