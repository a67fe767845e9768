/**
 * ingress-nginx's `server-snippet` and `configuration-snippet`, read as a closed subset of nginx
 * directives and turned into route filters. Nothing is pasted anywhere or interpreted beyond this
 * subset: one directive outside it, a block, a variable where none is supported or a value that
 * does not parse refuses the whole snippet (and the front end serves nothing of its Ingress).
 *
 * | Directive | Becomes |
 * | --- | --- |
 * | `proxy_set_header NAME VALUE;` | request header set (`""`: removed) |
 * | `more_set_input_headers "Name: value"…;` | request header set (empty value: removed) |
 * | `more_clear_input_headers NAME…;` | request header removed |
 * | `more_set_headers "Name: value"…;` | response header set (empty value: removed) |
 * | `add_header NAME VALUE [always];` | response header added (see {@link parseSnippets} on `always`) |
 * | `more_clear_headers NAME…;`, `proxy_hide_header NAME;` | response header removed |
 * | `return 301/302/303/307/308 URL;`, `return URL;` | RequestRedirect |
 * | `rewrite REGEX REPLACEMENT [flag];` | RequestRedirect (`redirect`, `permanent`, or an absolute URL) or URLRewrite |
 * | `allow ADDRESS/CIDR/all;`, `deny …;` | {@link SnippetAccessRule}s, in order |
 *
 * The one nginx variable read is `$request_uri` at the end of a `return` URL (and `$host` as its
 * whole host), and `$1`..`$9` in a `rewrite` replacement.
 */
import type { FilterCandidate } from '../shared/candidates.ts';
import type { PathModifier, RedirectFilter } from '../../model/table.ts';
import { compilePattern } from '../../regex/compile-pattern.ts';
import { lexSnippet, printable, type SnippetDirective, type SnippetWord } from './snippet-lexer.ts';
import { parseCidrList } from './values.ts';

/** One `allow` or `deny`, `all` written as the two CIDRs of every address. */
export interface SnippetAccessRule {
  readonly rule: 'allow' | 'deny';
  readonly cidr: string;
}

/** What the snippets of one Ingress ask for. */
export interface ParsedSnippets {
  /**
   * In nginx's phase order: the redirects and rewrites (rewrite phase, server snippet first), then
   * one request header filter and one response header filter (at most), each holding the
   * snippets' edits with the later edit of a name winning.
   */
  readonly filters: readonly FilterCandidate[];
  /**
   * The `allow`/`deny` rules in the order written (nginx's first match wins). Only orders that
   * read as "the deny list, then the allow list" are accepted (see {@link accessLists}).
   */
  readonly access: readonly SnippetAccessRule[];
  /** Approximations a user should hear about (reported as warnings), each naming its snippet and line. */
  readonly notes: readonly string[];
}

/** A snippet annotation's text, named for messages (`configuration-snippet`). */
export interface SnippetSource {
  readonly annotation: 'server-snippet' | 'configuration-snippet';
  readonly text: string;
}

/** The snippets' filters, or why none of them can be applied. */
export type SnippetResult = { readonly ok: true; readonly value: ParsedSnippets } | { readonly ok: false; readonly message: string };

/** The directives {@link parseSnippets} applies, for messages. */
export const SNIPPET_DIRECTIVES = Object.freeze([
  'proxy_set_header', 'more_set_input_headers', 'more_clear_input_headers', 'more_set_headers', 'more_clear_headers',
  'add_header', 'proxy_hide_header', 'return', 'rewrite', 'allow', 'deny',
]);

const ALL = Object.freeze(['0.0.0.0/0', '::/0']);
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
// RFC 9110 §5.6.2.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Fields that frame the message or the connection: a snippet must not let a value choose them.
const FRAMING = new Set(['connection', 'content-length', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'keep-alive', 'proxy-connection', 'host']);
// Control characters (CR, LF and NUL among them) would let a value smuggle another header field.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/u;

/** Thrown inside this file only, to leave a directive's reading with a message. */
class Refusal {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

type HeaderOp = { readonly op: 'set'; readonly value: string } | { readonly op: 'remove' } | { readonly op: 'add'; readonly value: string };

/** Accumulates what the directives ask for, in order. */
class Collector {
  readonly rewritePhase: FilterCandidate[] = [];
  readonly request = new Map<string, HeaderOp>();
  readonly response = new Map<string, HeaderOp>();
  readonly access: SnippetAccessRule[] = [];
  readonly notes: string[] = [];
  /** The snippet of the last allow/deny, to name in a message about their order. */
  accessFrom: SnippetSource['annotation'] = 'configuration-snippet';
  /** Where a `rewrite … break|last` was: later rewrites could not be skipped when it matched. */
  stoppingRewrite: string | null = null;
}

/**
 * Reads the snippets of an Ingress (server snippet first: nginx runs the server's rewrite phase
 * before the location's). Approximations, reported in `notes`:
 * - `add_header` without `always` applies in nginx to 2xx and 3xx answers only; here to every
 *   answer (as with `always`).
 * - `rewrite … last` (and a rewrite without a flag) makes nginx look for a location again with the
 *   new path; here the route stays the one the request matched, as with `break`.
 * - Both snippets' edits apply to the Ingress's paths together; nginx's rule that a location's
 *   `proxy_set_header`/`add_header` hide the server's is not followed.
 * Never throws.
 */
export function parseSnippets(sources: readonly SnippetSource[]): SnippetResult {
  const c = new Collector();
  for (const source of sources) {
    const lexed = lexSnippet(source.text);
    if (!lexed.ok) return { ok: false, message: `${source.annotation}: ${lexed.message}` };
    for (const d of lexed.directives) {
      try {
        directive(source, d, c);
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        return { ok: false, message: `${source.annotation}: line ${d.line}: ${e.message}` };
      }
    }
  }
  const order = accessOrderProblem(c.access);
  if (order !== null) return { ok: false, message: `${c.accessFrom}: ${order}` };
  const filters = [...c.rewritePhase];
  const request = edits(c.request);
  if (request !== null) filters.push({ type: 'RequestHeaderModifier', ...request });
  const response = edits(c.response);
  if (response !== null) filters.push({ type: 'ResponseHeaderModifier', ...response });
  return { ok: true, value: { filters, access: c.access, notes: c.notes } };
}

/**
 * The access rules as the client-address filter takes them: clients in `deny` get 403, then, when
 * `allow` is not empty, clients outside it get 403 too. {@link parseSnippets} accepts only rule
 * orders this says exactly: some `deny`s, then some `allow`s, then optionally `deny all` (which
 * makes the allows a list); an `allow all` may end the rules. nginx's first match wins, so
 * `allow 10.0.0.0/8; deny all;` is an allow list and `deny 1.2.3.4; allow all;` a deny list, while
 * `allow 10.0.0.0/8; deny 10.1.0.0/16;` (a deny after an allow) has no such reading.
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

function isAll(rules: readonly SnippetAccessRule[], i: number): boolean {
  return rules[i]!.cidr === ALL[0] && rules[i + 1]?.cidr === ALL[1] && rules[i + 1]?.rule === rules[i]!.rule;
}

function accessOrderProblem(rules: readonly SnippetAccessRule[]): string | null {
  let i = 0;
  let phase: 'deny' | 'allow' = 'deny';
  while (i < rules.length) {
    const all = isAll(rules, i);
    const rule = rules[i]!.rule;
    if (all) {
      if (i + 2 < rules.length) return `allow/deny: rules after "${rule} all" are never reached; remove them`;
      return null;
    }
    if (rule === 'allow') phase = 'allow';
    else if (phase === 'allow') return `allow/deny: "deny ${rules[i]!.cidr}" after an allow cannot be applied: signalbox checks one deny list, then one allow list (write the denies first, and end an allow list with "deny all")`;
    i += 1;
  }
  return null;
}

function directive(source: SnippetSource, d: SnippetDirective, c: Collector): void {
  const where = `${source.annotation}: line ${d.line}`;
  switch (d.name) {
    case 'proxy_set_header': {
      const [name, value] = exactly(d, 2);
      const header = requestHeaderName(name!);
      const text = literal(value!, 'value');
      c.request.set(header, text === '' ? { op: 'remove' } : { op: 'set', value: headerValue(text) });
      if (source.annotation === 'server-snippet') c.notes.push(`${where}: proxy_set_header in a server snippet does not reach ingress-nginx's locations (they set their own); signalbox applies it to the Ingress's paths`);
      return;
    }
    case 'more_set_input_headers':
    case 'more_set_headers': {
      const request = d.name === 'more_set_input_headers';
      const args = noOptions(d, 1);
      for (const arg of args) {
        const { name, value } = nameValue(arg);
        const header = request ? requestHeaderName(name) : responseHeaderName(name);
        (request ? c.request : c.response).set(header, value === '' ? { op: 'remove' } : { op: 'set', value: headerValue(value) });
      }
      return;
    }
    case 'more_clear_input_headers':
    case 'more_clear_headers': {
      const request = d.name === 'more_clear_input_headers';
      for (const arg of noOptions(d, 1)) {
        const text = literal(arg, 'header name');
        if (text.includes('*')) throw new Refusal(`${d.name}: the wildcard in "${printable(text)}" cannot be applied; name each header`);
        (request ? c.request : c.response).set(request ? requestHeaderName(arg) : responseHeaderName(arg), { op: 'remove' });
      }
      return;
    }
    case 'proxy_hide_header': {
      const [name] = exactly(d, 1);
      c.response.set(responseHeaderName(name!), { op: 'remove' });
      return;
    }
    case 'add_header': {
      if (d.args.length !== 2 && d.args.length !== 3) throw new Refusal(`add_header takes a name, a value and optionally "always" (${d.args.length} arguments given)`);
      const [name, value, always] = d.args;
      if (always !== undefined && always.text !== 'always') throw new Refusal(`add_header: "${printable(always.text)}" is not "always"`);
      const header = responseHeaderName(name!);
      const text = literal(value!, 'value');
      if (text === '') throw new Refusal('add_header with an empty value adds nothing; remove it');
      const before = c.response.get(header);
      if (before !== undefined) throw new Refusal(`add_header ${header}: the header is already set, added or removed by this snippet; write it once`);
      c.response.set(header, { op: 'add', value: headerValue(text) });
      if (always === undefined) c.notes.push(`${where}: add_header ${header} applies to every answer, as with "always" (nginx adds it to 2xx and 3xx answers only)`);
      return;
    }
    case 'return':
      c.rewritePhase.push(returnRedirect(d));
      return;
    case 'rewrite':
      return rewrite(source, d, c, where);
    case 'allow':
    case 'deny': {
      const [arg] = exactly(d, 1);
      const text = literal(arg!, 'address');
      c.accessFrom = source.annotation;
      if (text === 'all') {
        for (const cidr of ALL) c.access.push({ rule: d.name, cidr });
        return;
      }
      const parsed = text.includes(',') ? null : parseCidrList(text);
      if (parsed === null || !parsed.ok || parsed.value.length !== 1) throw new Refusal(`${d.name}: "${printable(text)}" is not an IP address, a CIDR or "all"`);
      c.access.push({ rule: d.name, cidr: parsed.value[0]! });
      return;
    }
    default:
      throw new Refusal(`the directive "${printable(d.name)}" is not one signalbox applies (only ${SNIPPET_DIRECTIVES.join(', ')})`);
  }
}

function exactly(d: SnippetDirective, n: number): readonly SnippetWord[] {
  if (d.args.length !== n) throw new Refusal(`${d.name} takes ${n} argument${n === 1 ? '' : 's'} (${d.args.length} given)`);
  return d.args;
}

/** The arguments of a headers-more directive, which must hold at least `min` and none of its `-s`/`-t`/`-r` options. */
function noOptions(d: SnippetDirective, min: number): readonly SnippetWord[] {
  if (d.args.length < min) throw new Refusal(`${d.name} takes at least ${min} argument${min === 1 ? '' : 's'}`);
  for (const a of d.args) {
    if (!a.quoted && a.text.startsWith('-')) throw new Refusal(`${d.name}: the option ${printable(a.text)} (status or content-type conditions) cannot be applied`);
  }
  return d.args;
}

/** A word with no nginx variable in it. */
function literal(word: SnippetWord, what: string): string {
  if (word.text.includes('$')) throw new Refusal(`the ${what} "${printable(word.text)}" uses an nginx variable, which signalbox does not expand`);
  return word.text;
}

function headerName(word: SnippetWord): string {
  const text = literal(word, 'header name');
  if (!TOKEN.test(text)) throw new Refusal(`"${printable(text)}" is not a header name`);
  return text.toLowerCase();
}

function requestHeaderName(word: SnippetWord): string {
  const name = headerName(word);
  if (name === 'host') throw new Refusal('the upstream Host cannot be set by a snippet; use the upstream-vhost annotation');
  if (FRAMING.has(name)) throw new Refusal(`the header ${name} frames the message or the connection; signalbox manages it`);
  return name;
}

function responseHeaderName(word: SnippetWord): string {
  const name = headerName(word);
  if (FRAMING.has(name) && name !== 'host') throw new Refusal(`the header ${name} frames the message or the connection; signalbox manages it`);
  return name;
}

function headerValue(text: string): string {
  if (CONTROL.test(text)) throw new Refusal(`the value "${printable(text)}" holds control characters (CR, LF, NUL…), which no header value may hold`);
  return text.trim();
}

/** headers-more's `"Name: value"`; an empty value means the header is removed. */
function nameValue(word: SnippetWord): { name: SnippetWord; value: string } {
  const text = literal(word, 'header');
  const colon = text.indexOf(':');
  if (colon <= 0) throw new Refusal(`"${printable(text)}" is not "Name: value"`);
  return { name: { text: text.slice(0, colon).trim(), quoted: true }, value: text.slice(colon + 1).trim() };
}

function edits(ops: ReadonlyMap<string, HeaderOp>): { set?: { name: string; value: string }[]; add?: { name: string; value: string }[]; remove?: string[] } | null {
  if (ops.size === 0) return null;
  const set: { name: string; value: string }[] = [];
  const add: { name: string; value: string }[] = [];
  const remove: string[] = [];
  for (const [name, op] of ops) {
    if (op.op === 'set') set.push({ name, value: op.value });
    else if (op.op === 'add') add.push({ name, value: op.value });
    else remove.push(name);
  }
  return { ...(set.length > 0 ? { set } : {}), ...(add.length > 0 ? { add } : {}), ...(remove.length > 0 ? { remove } : {}) };
}

/**
 * `return CODE URL;` (or `return URL;`, a 302): the URL as written, or, ending in `$request_uri`,
 * the request's own path and query after the URL's scheme, host, port and path prefix; `$host` may
 * be the whole host (the request's). Other answers (`return 403;`, `return 200 "text";`) have no
 * filter here.
 */
function returnRedirect(d: SnippetDirective): RedirectFilter {
  if (d.args.length === 0 || d.args.length > 2) throw new Refusal(`return takes a status and a URL (${d.args.length} arguments given)`);
  let code = 302;
  let target: string;
  if (d.args.length === 1 && /^https?:\/\//.test(d.args[0]!.text)) {
    target = d.args[0]!.text;
  } else {
    const status = d.args[0]!.text;
    if (!/^\d{3}$/.test(status)) throw new Refusal(`return: "${printable(status)}" is not a status code`);
    code = Number(status);
    if (!REDIRECT_CODES.has(code)) throw new Refusal(`return ${code}: only redirects (301, 302, 303, 307, 308) can be applied; signalbox has no filter that answers with a status or a body`);
    if (d.args.length === 1) throw new Refusal(`return ${code} needs the URL to redirect to`);
    target = d.args[1]!.text;
  }
  const statusCode = code as RedirectFilter['statusCode'];
  const keepUri = target.endsWith('$request_uri');
  const base = keepUri ? target.slice(0, -'$request_uri'.length) : target;
  const m = /^(https?):\/\/(\$host|[^/?#$]+)([^?#]*)(\?[^#]*)?$/.exec(base);
  if (m === null) throw new Refusal(`return ${code}: "${printable(target)}" is not an absolute http or https URL (optionally ending in $request_uri)`);
  const scheme = m[1] as 'http' | 'https';
  const authority = m[2]!;
  const path = m[3]!;
  const query = m[4];
  if (path.includes('$') || (query ?? '').includes('$')) throw new Refusal(`return ${code}: "${printable(target)}" uses an nginx variable other than $host (the whole host) and $request_uri (at the end)`);
  if (CONTROL.test(target) || /\s/.test(target)) throw new Refusal(`return ${code}: the URL holds whitespace or control characters`);
  const filter: { -readonly [K in keyof RedirectFilter]: RedirectFilter[K] } = { type: 'RequestRedirect', scheme, statusCode };
  if (authority !== '$host') {
    let url: URL;
    try {
      url = new URL(`${scheme}://${authority}/`);
    } catch {
      throw new Refusal(`return ${code}: "${printable(authority)}" is not a host`);
    }
    filter.hostname = url.hostname;
    filter.port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
  }
  if (keepUri) {
    if (query !== undefined) throw new Refusal(`return ${code}: a query before $request_uri cannot be applied`);
    if (path !== '') filter.path = { type: 'ReplaceRegexMatch', pattern: '(.*)', substitution: `${path}$1` };
  } else {
    filter.path = { type: 'ReplaceFullPath', value: path === '' ? '/' : path };
    filter.query = query ?? '';
  }
  return filter;
}

/**
 * `rewrite REGEX REPLACEMENT [flag];`. nginx searches the path for REGEX (unanchored) and, when it
 * is found, replaces the whole path with REPLACEMENT; the table's ReplaceRegexMatch matches whole
 * paths, so the pattern is widened to `[\s\S]*?(?:REGEX)[\s\S]*` unless anchored already — the
 * lazy prefix finds the same leftmost match as nginx's search, so `$1`..`$9` capture the same.
 */
function rewrite(source: SnippetSource, d: SnippetDirective, c: Collector, where: string): void {
  if (d.args.length !== 2 && d.args.length !== 3) throw new Refusal(`rewrite takes a pattern, a replacement and optionally a flag (${d.args.length} arguments given)`);
  const [regexWord, replacementWord, flagWord] = d.args;
  const flag = flagWord?.text ?? '';
  if (!['', 'last', 'break', 'redirect', 'permanent'].includes(flag)) throw new Refusal(`rewrite: "${printable(flag)}" is not last, break, redirect or permanent`);
  if (c.stoppingRewrite !== null) throw new Refusal(`rewrite after the "${c.stoppingRewrite}" rewrite: nginx skips it when that one matches, which signalbox cannot do; keep one`);
  const pattern = wholePathPattern(regexWord!.text);
  const compiled = compilePattern(pattern);
  if (!compiled.ok) throw new Refusal(`rewrite: the pattern "${printable(regexWord!.text)}" cannot be used: ${compiled.message}`);
  let replacement = replacementWord!.text;
  if (CONTROL.test(replacement) || /\s/.test(replacement)) throw new Refusal('rewrite: the replacement holds whitespace or control characters');
  if (/\$(?![1-9])/.test(replacement)) throw new Refusal(`rewrite: "${printable(replacement)}" uses an nginx variable; only $1..$9 (the pattern's groups) are supported`);
  const absolute = /^(https?):\/\/([^/?#$]+)(.*)$/.exec(replacement);
  const redirects = absolute !== null || flag === 'redirect' || flag === 'permanent';
  let dropQuery = false;
  if (replacement.endsWith('?')) {
    dropQuery = true;
    replacement = replacement.slice(0, -1);
  }
  if (replacement.includes('?')) throw new Refusal(`rewrite: "${printable(replacementWord!.text)}" sets a query, which signalbox cannot; write the path only`);
  if (!redirects) {
    if (dropQuery) throw new Refusal('rewrite: a replacement ending in "?" drops the query, which a rewrite here cannot');
    if (!replacement.startsWith('/')) throw new Refusal(`rewrite: "${printable(replacement)}" must start with / (a path, with $1..$9 for the pattern's groups)`);
    c.rewritePhase.push({ type: 'URLRewrite', path: { type: 'ReplaceRegexMatch', pattern, substitution: replacement } });
    if (flag !== 'break') c.notes.push(`${where}: rewrite ${flag === '' ? 'without a flag' : flag}: the request keeps the route it matched (nginx looks for a location again with the new path)`);
    if (flag !== '') c.stoppingRewrite = `${source.annotation} line ${d.line}`;
    return;
  }
  const statusCode = flag === 'permanent' ? 301 : 302;
  const filter: { -readonly [K in keyof RedirectFilter]: RedirectFilter[K] } = { type: 'RequestRedirect', statusCode };
  let path = replacement;
  if (absolute !== null) {
    const scheme = absolute[1] as 'http' | 'https';
    let url: URL;
    try {
      url = new URL(`${scheme}://${absolute[2]!}/`);
    } catch {
      throw new Refusal(`rewrite: "${printable(absolute[2]!)}" is not a host`);
    }
    filter.scheme = scheme;
    filter.hostname = url.hostname;
    filter.port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
    path = absolute[3]!.replace(/\?$/, '');
    if (path === '') path = '/';
  }
  if (!path.startsWith('/')) throw new Refusal(`rewrite: "${printable(replacement)}" must start with / or be an absolute http or https URL`);
  filter.path = { type: 'ReplaceRegexMatch', pattern, substitution: path } satisfies PathModifier;
  if (dropQuery) filter.query = '';
  c.rewritePhase.push(filter);
}

/**
 * nginx's unanchored search as a whole-path pattern (see {@link rewrite}). A leading `(?i)` stays
 * in front; with a `|` anywhere the pattern is always wrapped, since `^a|b` finds `b` anywhere.
 */
export function wholePathPattern(regex: string): string {
  const flags = regex.startsWith('(?i)') ? '(?i)' : '';
  const body = regex.slice(flags.length);
  const plain = !body.includes('|');
  const start = plain && body.startsWith('^') ? '' : '[\\s\\S]*?';
  const end = plain && endsWithAnchor(body) ? '' : '[\\s\\S]*';
  return start === '' && end === '' ? regex : `${flags}${start}(?:${body})${end}`;
}

/** Whether `regex` ends with an unescaped `$`. */
function endsWithAnchor(regex: string): boolean {
  if (!regex.endsWith('$')) return false;
  let backslashes = 0;
  for (let i = regex.length - 2; i >= 0 && regex[i] === '\\'; i -= 1) backslashes += 1;
  return backslashes % 2 === 0;
}
