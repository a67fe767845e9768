/**
 * V8's linear-time regular-expression engine, switched on for this thread at module load. A
 * RegExp made with the `l` flag runs on an automaton whose time is linear in the input for every
 * pattern (no backtracking), so a pathological pattern such as `(a+)+$` cannot stall a worker. The
 * price is syntax: V8 refuses, at construction, what that engine cannot run in linear time.
 */
import { setFlagsFromString } from 'node:v8';

// The flag only makes V8 recognise `l`; every other RegExp still runs on the usual engine. It is
// per process (V8 flags are), harmless to set twice, and must be set before the first `l` RegExp.
setFlagsFromString('--enable-experimental-regexp-engine');

/** What {@link linearRegExp} gives: the RegExp, or V8's reason for refusing it. */
export type LinearResult = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly message: string };

/**
 * Builds `source` (JavaScript syntax, no other flag) on the linear-time engine. V8's refusal is
 * returned without its `Invalid regular expression: /…/l: ` preamble, which repeats the pattern.
 */
export function linearRegExp(source: string): LinearResult {
  try {
    return { ok: true, regex: new RegExp(source, 'l') };
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    return { ok: false, message: text.replace(/^Invalid regular expression: \/[\s\S]*\/l: /, '') };
  }
}

/** V8's message for a pattern that is valid JavaScript but that the linear engine cannot run. */
export const NOT_LINEAR = 'Cannot be executed in linear time';
