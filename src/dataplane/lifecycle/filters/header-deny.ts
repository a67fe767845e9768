import type { HeaderDenyFilter } from '../../../model/table.ts';
import { compilePattern } from '../../../regex/compile-pattern.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';

/**
 * HeaderDeny: ingress-nginx's `block-user-agents` and `block-referers`. The exact values are one
 * set of lower-cased strings (nginx's map hashes its strings case-insensitively); the patterns run
 * on the linear-time engine, compiled once per table swap. A match answers 403 `header-denied`.
 */
export class HeaderDenyStep implements RequestStep {
  readonly #header: string;
  readonly #exact: ReadonlySet<string>;
  readonly #patterns: readonly RegExp[];

  constructor(filter: HeaderDenyFilter) {
    this.#header = filter.header;
    const exact = new Set<string>();
    const patterns: RegExp[] = [];
    for (const m of filter.matches) {
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

  /** Whether a request whose header reads `value` (empty when absent) is blocked. */
  blocks(value: string): boolean {
    if (this.#exact.size > 0 && this.#exact.has(asciiLower(value))) return true;
    for (const p of this.#patterns) if (p.test(value)) return true;
    return false;
  }

  run(r: LifecycleRequest): boolean {
    const raw = r.req.headers[this.#header];
    const value = raw === undefined ? '' : Array.isArray(raw) ? raw.join(', ') : raw;
    if (!this.blocks(value)) return true;
    r.fail('header-denied');
    return false;
  }
}

/** nginx lower-cases ASCII letters only (ngx_hash_strlow). */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}
