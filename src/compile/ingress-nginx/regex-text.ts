/** Writing literal text into regular expressions. */

/** Characters of regular-expression syntax, escaped to match themselves. */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, (c) => `\\${c}`);
}
