/** Checks for the benchmarks' command-line options, with messages that name the flag. */

/** `text` as an integer of at least `min`; throws naming `--name` otherwise. */
export function intOption(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * A comma-separated `--only` list, in the order of `known`; throws on a name not in `known`.
 * `noun` names the items in the message ("target", "part").
 */
export function onlyOption<T extends string>(text: string, known: readonly T[], noun: string): T[] {
  const wanted = text.split(',').map((t) => t.trim());
  for (const w of wanted) {
    if (!(known as readonly string[]).includes(w)) throw new Error(`--only: unknown ${noun} ${JSON.stringify(w)} (known: ${known.join(', ')})`);
  }
  return known.filter((k) => wanted.includes(k));
}
