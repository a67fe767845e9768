/**
 * ingress-nginx's global deny lists (`block-cidrs`, `block-user-agents`, `block-referers`), read
 * from the controller ConfigMap. Each is a comma-separated list; an entry that cannot be honoured
 * is returned apart, with why, so that the others still block.
 */
import type { ValueMatch } from '../../model/table.ts';
import { normalizeCidr } from '../../model/cidr.ts';
import { compilePattern } from '../../regex/compile-pattern.ts';

/** An entry left out, and why. */
export interface BadEntry {
  readonly entry: string;
  readonly message: string;
}

/** `block-cidrs`: addresses and CIDR blocks, in canonical form, each once. */
export function parseBlockCidrs(text: string): { cidrs: string[]; bad: BadEntry[] } {
  const cidrs: string[] = [];
  const bad: BadEntry[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const cidr = normalizeCidr(entry);
    if (cidr === null) bad.push({ entry, message: 'is not an IP address or CIDR' });
    else if (!cidrs.includes(cidr)) cidrs.push(cidr);
  }
  return { cidrs, bad };
}

/**
 * `block-user-agents` and `block-referers`: source values of an nginx `map`. A string is the whole
 * value, compared ignoring ASCII case; `~re` is a case-sensitive regular expression and `~*re` a
 * case-insensitive one, each matching anywhere in the value (PCRE's search), so written
 * `.*(?:re).*` for the linear-time engine — one it cannot run, or that means something else in
 * its syntax, is left out. A leading `\` makes the rest a string (`\~x` is the string `~x`), and
 * quotes around an entry are nginx's and removed.
 */
export function parseMapPatterns(text: string): { matches: ValueMatch[]; bad: BadEntry[] } {
  const matches: ValueMatch[] = [];
  const bad: BadEntry[] = [];
  for (const raw of text.split(',')) {
    const entry = unquote(raw.trim());
    if (entry === '') continue;
    if (entry.startsWith('~')) {
      const ignoreCase = entry.startsWith('~*');
      const source = entry.slice(ignoreCase ? 2 : 1);
      if (source === '') {
        bad.push({ entry, message: 'is an empty regular expression' });
        continue;
      }
      const pattern = `.*(?:${source}).*`;
      const compiled = compilePattern(pattern, { ignoreCase });
      if (!compiled.ok) bad.push({ entry, message: `cannot be used: ${compiled.message}` });
      else matches.push({ pattern, ...(ignoreCase ? { ignoreCase: true as const } : {}) });
      continue;
    }
    matches.push({ exact: entry.startsWith('\\') ? entry.slice(1) : entry });
  }
  return { matches, bad };
}

function unquote(entry: string): string {
  const q = entry[0];
  return entry.length >= 2 && (q === '"' || q === "'") && entry.endsWith(q) ? entry.slice(1, -1) : entry;
}
