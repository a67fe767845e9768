/**
 * TEMPORARY SHIM — to be replaced by the linear-time engine's real `compilePattern`.
 *
 * It only wraps the platform's backtracking RegExp, anchored at both ends, so that the data plane's
 * path modifiers (ReplaceRegexMatch) can be written against the final interface. It gives none of
 * the real engine's guarantees (linear time, the restricted syntax): do not ship it.
 */

/** The result of compiling a pattern: the anchored regex, or why the pattern is refused. */
export type CompiledPattern = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly message: string };

/** Compiles `source`, anchored at both ends (the whole subject must match). */
export function compilePattern(source: string, opts: { ignoreCase?: boolean }): CompiledPattern {
  try {
    return { ok: true, regex: new RegExp(`^(?:${source})$`, opts.ignoreCase === true ? 'i' : '') };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}
