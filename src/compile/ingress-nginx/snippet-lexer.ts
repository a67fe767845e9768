/**
 * A lexer for the nginx configuration syntax of ingress-nginx's snippet annotations, as nginx's own
 * `ngx_conf_read_token` reads it: a directive is words up to `;`, words are separated by blanks,
 * a word that starts with `"` or `'` is quoted to the matching quote (and must be followed by a
 * blank, `;`, `{` or `)`), `#` at the start of a word comments out the rest of the line, and `\`
 * escapes the next character. Blocks (`name … { … }`) are refused outright, naming the
 * directive: signalbox applies no block directive, and reading their insides would only invite
 * partial interpretation. The lexer interprets nothing: the directives' meaning is snippets.ts's.
 */

/** Snippets longer than this are refused unread (characters; ingress-nginx has no limit). */
export const MAX_SNIPPET_LENGTH = 16 * 1024;

/** One word of a directive, escapes resolved. */
export interface SnippetWord {
  /** The word as nginx passes it to the directive. */
  readonly text: string;
  /** Whether it was written in quotes (so `;`, `{`, blanks and `#` in it are plain characters). */
  readonly quoted: boolean;
}

/** One directive: `name arg…;`. */
export interface SnippetDirective {
  readonly name: string;
  readonly args: readonly SnippetWord[];
  /** 1-based line of the directive's name in the snippet. */
  readonly line: number;
}

/** The directives of a snippet, in order, or why it cannot be read. */
export type LexedSnippet = { readonly ok: true; readonly directives: readonly SnippetDirective[] } | { readonly ok: false; readonly message: string };

const BLANK = new Set([' ', '\t', '\r', '\n']);

/**
 * The directives of `text`. Never throws; refuses (with the line) an unterminated quote or
 * directive, a block, a `}` alone, a quote glued to the next word (`"a"b`, which nginx refuses too)
 * and text over {@link MAX_SNIPPET_LENGTH}.
 */
export function lexSnippet(text: string): LexedSnippet {
  if (text.length > MAX_SNIPPET_LENGTH) return { ok: false, message: `the snippet is ${text.length} characters long; at most ${MAX_SNIPPET_LENGTH} are read` };
  const directives: SnippetDirective[] = [];
  let words: SnippetWord[] = [];
  let firstLine = 1;
  let line = 1;
  let i = 0;
  const fail = (message: string, at = line): LexedSnippet => ({ ok: false, message: `line ${at}: ${message}` });
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') line += 1;
    if (BLANK.has(c)) {
      i += 1;
      continue;
    }
    if (c === '#') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (c === ';') {
      if (words.length === 0) return fail('a ";" without a directive');
      directives.push(directiveOf(words, firstLine));
      words = [];
      i += 1;
      continue;
    }
    if (c === '{') {
      const name = words[0]?.text ?? '';
      return fail(name === '' ? 'a block "{" without a directive' : `"${printable(name)}" opens a block; no block directive is applied (if, location, …)`);
    }
    if (c === '}') return fail('a "}" that closes no block');
    if (words.length === 0) firstLine = line;
    const start = line;
    const word = c === '"' || c === "'" ? quotedWord(text, i, c) : plainWord(text, i);
    if (word === null) return fail(`a ${c} quote that is never closed`, start);
    for (let k = i; k < word.end; k += 1) if (text[k] === '\n') line += 1;
    i = word.end;
    // As nginx: a quoted word ends at a blank, `;`, `{` or the `)` of an `if (…)` condition.
    if (word.quoted && i < text.length && !BLANK.has(text[i]!) && text[i] !== ';' && text[i] !== '{' && text[i] !== ')') {
      return fail(`unexpected "${printable(text[i]!)}" right after a quoted word`);
    }
    words.push({ text: word.text, quoted: word.quoted });
  }
  if (words.length > 0) return fail(`"${printable(words[0]!.text)}" is not ended by ";"`, firstLine);
  return { ok: true, directives };
}

function directiveOf(words: readonly SnippetWord[], line: number): SnippetDirective {
  return { name: words[0]!.text, args: words.slice(1), line };
}

/**
 * A word from `i` to a blank, `;` or `{`, as nginx reads one: `\` keeps the next character in it,
 * and quotes and `}` inside a word are plain characters. A `{` right after `$` is part of the word
 * (`${name}`, a variable, which the directives then refuse), not a block.
 */
function plainWord(text: string, i: number): { text: string; quoted: false; end: number } {
  let end = i;
  while (end < text.length) {
    const c = text[end]!;
    if (c === '\\' && end + 1 < text.length) {
      end += 2;
      continue;
    }
    if (BLANK.has(c) || c === ';' || (c === '{' && text[end - 1] !== '$')) break;
    end += 1;
  }
  return { text: unescape(text.slice(i, end)), quoted: false, end };
}

/** A quoted word starting at the quote `i`, or null when it is never closed. */
function quotedWord(text: string, i: number, quote: string): { text: string; quoted: true; end: number } | null {
  let end = i + 1;
  while (end < text.length) {
    const c = text[end]!;
    if (c === '\\') {
      end += 2;
      continue;
    }
    if (c === quote) return { text: unescape(text.slice(i + 1, end)), quoted: true, end: end + 1 };
    end += 1;
  }
  return null;
}

/**
 * nginx's escapes: `\"`, `\'` and `\\` lose the backslash, `\t`, `\r` and `\n` become the control
 * character (which header values then refuse); any other `\x` is kept as written, so regular
 * expressions keep their `\.` and `\d`.
 */
function unescape(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i += 1) {
    const c = raw[i]!;
    const next = raw[i + 1];
    if (c !== '\\' || next === undefined) {
      out += c;
      continue;
    }
    if (next === '"' || next === "'" || next === '\\') out += next;
    else if (next === 't') out += '\t';
    else if (next === 'r') out += '\r';
    else if (next === 'n') out += '\n';
    else out += c + next;
    i += 1;
  }
  return out;
}

/** `text` shortened and with control characters shown as escapes, for a message. */
export function printable(text: string): string {
  const short = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return short.replace(/[\u0000-\u001f\u007f"\\]/gu, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
