/**
 * What the readers of snippet directives (snippets.ts, snippet-redirects.ts, snippet-access.ts)
 * share: the refusal they leave a directive with, and checks of its words.
 */
import { printable, type SnippetDirective, type SnippetWord } from './snippet-lexer.ts';

/**
 * Why a directive cannot be applied. Thrown by the readers and caught by parseSnippets, which adds
 * the snippet and the line: a reader can stop at the first problem, however deep it found it.
 */
export class SnippetRefusal {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** Control characters (CR, LF and NUL among them, not HTAB) would let a value smuggle a header field. */
export const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/u;

/** The arguments of `d`, which must be `n`. */
export function exactly(d: SnippetDirective, n: number): readonly SnippetWord[] {
  if (d.args.length !== n) throw new SnippetRefusal(`${d.name} takes ${n} argument${n === 1 ? '' : 's'} (${d.args.length} given)`);
  return d.args;
}

/** The text of a word with no nginx variable in it (`what` names it in the refusal). */
export function literal(word: SnippetWord, what: string): string {
  if (word.text.includes('$')) throw new SnippetRefusal(`the ${what} "${printable(word.text)}" uses an nginx variable, which signalbox does not expand`);
  return word.text;
}
