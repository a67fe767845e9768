/**
 * nginx's `allow` and `deny` in snippets. nginx checks them in order and the first that matches
 * the client decides; the client-address filter checks one deny list, then one allow list. Only
 * rule orders that read exactly so are accepted: some `deny`s, then some `allow`s, then optionally
 * `deny all` (which makes the allows the only addresses let in), or `allow all` to end. So
 * `allow 10.0.0.0/8; deny all;` is an allow list and `deny 1.2.3.4; allow all;` a deny list, while
 * `allow 10.0.0.0/8; deny 10.1.0.0/16;` (a deny after an allow) has no such reading and is refused.
 *
 * With the source-range annotations: ingress-nginx writes their `deny`s, then their `allow`s and
 * `deny all`, before the configuration snippet, so an allowlist annotation leaves a snippet's
 * rules unreached, and a denylist annotation's CIDRs join the snippet's deny list.
 */
import { printable, type SnippetDirective } from './snippet-lexer.ts';
import { exactly, literal, SnippetRefusal } from './snippet-words.ts';
import { parseCidrList } from './values.ts';

/** One `allow` or `deny`; `all` is written as the two CIDRs of every address. */
export interface SnippetAccessRule {
  readonly rule: 'allow' | 'deny';
  readonly cidr: string;
}

const ALL = Object.freeze(['0.0.0.0/0', '::/0']);

/** The rules of one `allow ADDRESS|CIDR|all;` or `deny …;` directive. */
export function accessRules(d: SnippetDirective & { readonly name: 'allow' | 'deny' }): SnippetAccessRule[] {
  const [arg] = exactly(d, 1);
  const text = literal(arg!, 'address');
  if (text === 'all') return ALL.map((cidr) => ({ rule: d.name, cidr }));
  const parsed = text.includes(',') ? null : parseCidrList(text);
  if (parsed === null || !parsed.ok || parsed.value.length !== 1) throw new SnippetRefusal(`${d.name}: "${printable(text)}" is not an IP address, a CIDR or "all"`);
  return [{ rule: d.name, cidr: parsed.value[0]! }];
}

/**
 * The rules as the client-address filter takes them: clients in `deny` get 403, then, when `allow`
 * is not empty, clients outside it get 403 too. For rules {@link accessOrderProblem} accepts.
 */
export function accessLists(rules: readonly SnippetAccessRule[]): { readonly allow: readonly string[]; readonly deny: readonly string[] } {
  const deny: string[] = [];
  const allow: string[] = [];
  let i = 0;
  while (i < rules.length && rules[i]!.rule === 'deny' && !isAll(rules, i)) deny.push(rules[i++]!.cidr);
  if (i < rules.length && rules[i]!.rule === 'deny') return { allow: [], deny: [...ALL] };
  while (i < rules.length && rules[i]!.rule === 'allow' && !isAll(rules, i)) allow.push(rules[i++]!.cidr);
  // `deny all` after the allows makes them the only addresses let in; without it all are let in.
  const denyAll = i < rules.length && rules[i]!.rule === 'deny';
  return { allow: denyAll ? allow : [], deny };
}

/** Why `rules` cannot be read as a deny list then an allow list, or null when they can. */
export function accessOrderProblem(rules: readonly SnippetAccessRule[]): string | null {
  let allowed = false;
  for (let i = 0; i < rules.length; i += 1) {
    const { rule, cidr } = rules[i]!;
    if (isAll(rules, i)) return i + 2 < rules.length ? `allow/deny: rules after "${rule} all" are never reached; remove them` : null;
    if (rule === 'allow') allowed = true;
    else if (allowed) return `allow/deny: "deny ${cidr}" after an allow cannot be applied: signalbox checks one deny list, then one allow list (write the denies first, and end an allow list with "deny all")`;
  }
  return null;
}

function isAll(rules: readonly SnippetAccessRule[], i: number): boolean {
  const a = rules[i]!;
  const b = rules[i + 1];
  return a.cidr === ALL[0] && b !== undefined && b.cidr === ALL[1] && b.rule === a.rule;
}
