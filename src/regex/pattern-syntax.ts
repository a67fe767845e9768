/**
 * The syntax check and rewrite that run before a user pattern reaches V8's linear-time engine:
 * refuse what that engine cannot run (naming the construct rather than V8's generic message), refuse
 * what would silently mean something else than its author meant (RE2 and PCRE habits such as `\A`
 * or `\pL`, which JavaScript without unicode mode reads as plain letters), and implement
 * case-insensitivity, which the engine does not offer (the `i` flag is refused in linear mode), by
 * turning every ASCII letter into a class of its two cases.
 *
 * The scan also keeps count of groups, so the caller can anchor the pattern as `^(?:…)$` knowing
 * that no stray `)` can close that group early and leave an alternative unanchored.
 */

/** The pattern ready for V8 (still unanchored), or why it is refused. */
export type PreparedPattern = { readonly ok: true; readonly source: string } | { readonly ok: false; readonly message: string };

/** A leading `(?i)`, as RE2 and PCRE write case-insensitivity inside the pattern. */
export const INLINE_IGNORE_CASE = '(?i)';

// Escapes that mean something in JavaScript without unicode mode, outside a class and inside one.
const CLASS_ESCAPES = 'dDwWsS';
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };
const QUANTIFIER = /\{\d+(?:,\d*)?\}/y;
const HEX2 = /[0-9A-Fa-f]{2}/y;
const HEX4 = /[0-9A-Fa-f]{4}/y;

/** One atom of the pattern as written, and the character it stands for when it stands for one. */
interface Atom {
  readonly text: string;
  /** The UTF-16 code unit matched, or null for a class escape (`\d`) or an assertion (`\b`). */
  readonly value: number | null;
}

class Refused extends Error {}

/**
 * Checks and rewrites `source`. With `ignoreCase` (or a leading `(?i)`, which is removed), every
 * ASCII letter `x` becomes `[xX]` outside classes and gains its other case inside them, ranges
 * included (`[a-f]` → `[a-fA-F]`); letters written as escapes (`\x41`) too. Other letters keep
 * their case: case-insensitivity is ASCII only.
 */
export function preparePattern(source: string, ignoreCase: boolean): PreparedPattern {
  let start = 0;
  if (source.startsWith(INLINE_IGNORE_CASE)) {
    ignoreCase = true;
    start = INLINE_IGNORE_CASE.length;
  }
  try {
    return { ok: true, source: new Scanner(source, start, ignoreCase).run() };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, message: err.message };
    throw err;
  }
}

class Scanner {
  readonly #src: string;
  readonly #fold: boolean;
  #i: number;
  #out = '';
  #depth = 0;

  constructor(source: string, start: number, fold: boolean) {
    this.#src = source;
    this.#i = start;
    this.#fold = fold;
  }

  run(): string {
    const src = this.#src;
    while (this.#i < src.length) {
      const c = src[this.#i]!;
      if (c === '\\') {
        const atom = this.#escape(false);
        this.#out += atom.value !== null && this.#fold && isAsciiLetter(atom.value) ? bothCases(atom.value) : atom.text;
      } else if (c === '[') this.#characterClass();
      else if (c === '(') this.#group();
      else if (c === ')') {
        if (--this.#depth < 0) throw new Refused(`unbalanced ) at offset ${this.#i}`);
        this.#out += c;
        this.#i++;
      } else if (c === '{' && this.#sticky(QUANTIFIER) !== null) {
        // A count such as {2,5} is copied whole: its digits are no letters, but it must not be taken apart.
        const count = this.#sticky(QUANTIFIER)!;
        this.#out += count;
        this.#i += count.length;
      } else {
        const code = c.charCodeAt(0);
        this.#out += this.#fold && isAsciiLetter(code) ? bothCases(code) : c;
        this.#i++;
      }
    }
    if (this.#depth > 0) throw new Refused('unbalanced (: a group is never closed');
    return this.#out;
  }

  #group(): void {
    const rest = this.#src.slice(this.#i, this.#i + 4);
    let opener = '(';
    if (rest.startsWith('(?')) {
      if (rest.startsWith('(?:') || rest.startsWith('(?<=') || rest.startsWith('(?<!')) opener = rest.startsWith('(?:') ? '(?:' : rest;
      else if (rest.startsWith('(?=') || rest.startsWith('(?!')) {
        throw new Refused(`lookahead ${rest.slice(0, 3)}…) is not supported: it cannot be run in linear time`);
      } else if (rest.startsWith('(?<')) {
        // A named group: its name is copied as written (a name is not text to match, never folded).
        const close = this.#src.indexOf('>', this.#i);
        if (close === -1) throw new Refused(`unterminated group name at offset ${this.#i}`);
        opener = this.#src.slice(this.#i, close + 1);
      } else if (rest.startsWith('(?P<')) {
        throw new Refused('(?P<name>…) is Python and RE2 syntax: write (?<name>…)');
      } else {
        throw new Refused(`inline flags are accepted only as a leading (?i); ${this.#src.slice(this.#i, this.#i + 5)}… is not supported`);
      }
    }
    this.#out += opener;
    this.#i += opener.length;
    this.#depth++;
  }

  #characterClass(): void {
    const src = this.#src;
    this.#out += '[';
    this.#i++;
    if (src[this.#i] === '^') {
      this.#out += '^';
      this.#i++;
    }
    for (;;) {
      if (this.#i >= src.length) throw new Refused('unterminated character class [');
      if (src[this.#i] === ']') {
        this.#out += ']';
        this.#i++;
        return;
      }
      const low = this.#classAtom();
      if (src[this.#i] === '-' && this.#i + 1 < src.length && src[this.#i + 1] !== ']') {
        this.#i++;
        const high = this.#classAtom();
        this.#out += `${low.text}-${high.text}`;
        if (!this.#fold) continue;
        // A range with a class escape at one end (`[\d-z]`) is, without unicode mode, its ends and a `-`.
        if (low.value !== null && high.value !== null) this.#out += foldedRange(low.value, high.value);
        else for (const v of [low.value, high.value]) if (v !== null && isAsciiLetter(v)) this.#out += otherCase(v);
        continue;
      }
      this.#out += low.text;
      if (this.#fold && low.value !== null && isAsciiLetter(low.value)) this.#out += otherCase(low.value);
    }
  }

  #classAtom(): Atom {
    const src = this.#src;
    if (src[this.#i] === '\\') return this.#escape(true);
    const text = src[this.#i]!;
    this.#i++;
    return { text, value: text.charCodeAt(0) };
  }

  /** The escape at the cursor (`\` then at least one character), consumed. */
  #escape(inClass: boolean): Atom {
    const src = this.#src;
    const at = this.#i;
    const c = src[at + 1];
    if (c === undefined) throw new Refused('the pattern ends with a lone \\');
    this.#i += 2;
    const atom = (value: number | null): Atom => ({ text: src.slice(at, this.#i), value });
    if (c >= '1' && c <= '9') {
      throw new Refused(inClass ? `\\${c} in a character class is a legacy octal escape: write \\xHH or the character` : `backreferences such as \\${c} are not supported: they cannot be run in linear time`);
    }
    if (c === '0') {
      if (/[0-9]/.test(src[this.#i] ?? '')) throw new Refused('legacy octal escapes such as \\01 are not supported: write \\x01');
      return atom(0);
    }
    if (c === 'k') throw new Refused('named backreferences \\k<name> are not supported: they cannot be run in linear time');
    if (c === 'p' || c === 'P') throw new Refused(`unicode property escapes \\${c}{…} are not supported: they need unicode mode, which the linear-time engine does not offer`);
    if (c === 'x' || c === 'u') {
      const digits = this.#sticky(c === 'x' ? HEX2 : HEX4);
      if (digits === null) throw new Refused(c === 'x' ? '\\x must be followed by two hex digits' : '\\u must be followed by four hex digits (\\u{…} needs unicode mode, which the linear-time engine does not offer)');
      this.#i += digits.length;
      return atom(Number.parseInt(digits, 16));
    }
    if (c === 'c') {
      const letter = src.charCodeAt(this.#i);
      if (!isAsciiLetter(letter)) throw new Refused('\\c must be followed by a letter');
      this.#i++;
      return atom(letter % 32);
    }
    if (CLASS_ESCAPES.includes(c)) return atom(null);
    if (Object.hasOwn(CONTROL_ESCAPES, c)) return atom(CONTROL_ESCAPES[c]!);
    if (c === 'b') return atom(inClass ? 0x08 : null);
    if (c === 'B' && !inClass) return atom(null);
    if (isAsciiLetter(c.charCodeAt(0))) {
      // JavaScript reads an unknown letter escape as the letter itself; RE2 and PCRE give several a
      // meaning (\A, \z, \Q, \h…). Either reading would surprise someone, so neither is chosen.
      throw new Refused(`\\${c} is not an escape in JavaScript syntax (RE2 and PCRE give some letters a meaning there): write the letter without \\`);
    }
    return atom(c.charCodeAt(0));
  }

  #sticky(re: RegExp): string | null {
    re.lastIndex = this.#i;
    return re.exec(this.#src)?.[0] ?? null;
  }
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function otherCase(code: number): string {
  return String.fromCharCode(code ^ 0x20);
}

function bothCases(code: number): string {
  const lower = code | 0x20;
  return `[${String.fromCharCode(lower)}${String.fromCharCode(lower ^ 0x20)}]`;
}

/** The other-case counterparts of the letters in `[low, high]`, as class ranges ('' when none). */
function foldedRange(low: number, high: number): string {
  let out = '';
  for (const [from, to] of [[0x61, 0x7a], [0x41, 0x5a]] as const) {
    const a = Math.max(low, from);
    const b = Math.min(high, to);
    if (a > b) continue;
    out += a === b ? otherCase(a) : `${otherCase(a)}-${otherCase(b)}`;
  }
  return out;
}
