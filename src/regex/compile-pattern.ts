/**
 * User regular expressions (RegularExpression path, header and query matches, ReplaceRegexMatch
 * rewrites), compiled for the linear-time engine with whole-string semantics. See
 * docs/regular-expressions.md for the syntax accepted and why.
 */
import { linearRegExp, NOT_LINEAR } from './linear-regexp.ts';
import { preparePattern } from './pattern-syntax.ts';

/** How a pattern is compiled. */
export interface PatternOptions {
  /** Compare ASCII letters without regard to case (a leading `(?i)` in the pattern means the same). */
  readonly ignoreCase?: boolean;
}

/**
 * A compiled pattern, or why it is refused. The RegExp is anchored (`^(?:…)$`: it matches the
 * whole string or nothing) and has no `g` or `y` flag, so `test` and `exec` keep no state: one
 * RegExp is shared by every route and request that uses the pattern.
 */
export type CompiledPattern = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly message: string };

/** Patterns longer than this are refused: the engine's work per request grows with the pattern's size. */
export const MAX_PATTERN_LENGTH = 4096;

/** How many compiled patterns are kept; the oldest unused one goes first. */
const CACHE_SIZE = 1024;
const cache = new Map<string, CompiledPattern>();

/**
 * Compiles `source` (JavaScript syntax, see the doc) for the linear-time engine. Never throws: a
 * pattern that cannot be compiled gives `{ ok: false, message }`, a sentence saying what is not
 * supported and why. Results are cached by (source, ignoreCase), failures too.
 */
export function compilePattern(source: string, options: PatternOptions = {}): CompiledPattern {
  const key = `${options.ignoreCase === true ? 'i' : '-'}${source}`;
  const cached = cache.get(key);
  if (cached !== undefined) {
    // Refreshed, so that the patterns of the table being served are the last to be evicted.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const compiled = compileUncached(source, options.ignoreCase === true);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

function compileUncached(source: string, ignoreCase: boolean): CompiledPattern {
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, message: `the pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  const prepared = preparePattern(source, ignoreCase);
  if (!prepared.ok) return prepared;
  // Built alone first, so that V8's syntax errors speak of the pattern as written, not of the wrapper.
  const alone = linearRegExp(prepared.source);
  if (!alone.ok) return { ok: false, message: explain(alone.message) };
  const anchored = linearRegExp(`^(?:${prepared.source})$`);
  return anchored.ok ? anchored : { ok: false, message: explain(anchored.message) };
}

/** V8's reason, said for a user: backreferences and lookahead are refused before V8 sees them. */
function explain(message: string): string {
  if (message === NOT_LINEAR) {
    return 'a counted repetition is too large for the linear-time engine: {n,m} may repeat at most 16 times, nested counts multiplied together (write [0-9a-f]{32} as [0-9a-f]{16}[0-9a-f]{16})';
  }
  return `not a valid regular expression: ${message}`;
}
