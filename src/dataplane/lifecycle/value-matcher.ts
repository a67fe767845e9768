import type { ValueMatch } from '../../model/table.ts';
import { compilePattern } from '../../regex/compile-pattern.ts';

/**
 * A list of {@link ValueMatch}es ready to test values with, built once per table swap: the exact
 * values one set of lower-cased strings (nginx's map hashes its strings case-insensitively), the
 * patterns compiled for the linear-time engine.
 */
export class ValueMatcher {
  readonly #exact: ReadonlySet<string>;
  readonly #patterns: readonly RegExp[];

  constructor(matches: readonly ValueMatch[]) {
    const exact = new Set<string>();
    const patterns: RegExp[] = [];
    for (const m of matches) {
      if ('exact' in m) exact.add(asciiLower(m.exact));
      else {
        const compiled = compilePattern(m.pattern, m.ignoreCase === true ? { ignoreCase: true } : {});
        // checkTable refused the table if a pattern did not compile: none is skipped here.
        if (compiled.ok) patterns.push(compiled.regex);
      }
    }
    this.#exact = exact;
    this.#patterns = patterns;
  }

  /** Whether `value` matches any of the list. */
  matches(value: string): boolean {
    if (this.#exact.size > 0 && this.#exact.has(asciiLower(value))) return true;
    for (const p of this.#patterns) if (p.test(value)) return true;
    return false;
  }
}

/** nginx lower-cases ASCII letters only (ngx_hash_strlow). */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}
