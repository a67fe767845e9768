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
 * | `return 301/302/303/307/308 URL;`, `return URL;` | RequestRedirect (snippet-redirects.ts) |
 * | `rewrite REGEX REPLACEMENT [flag];` | RequestRedirect (`redirect`, `permanent`, an absolute URL) or URLRewrite |
 * | `allow ADDRESS/CIDR/all;`, `deny …;` | {@link SnippetAccessRule}s, in order (snippet-access.ts) |
 *
 * The only nginx variables read are `$request_uri` at the end of a `return` URL (and `$host` as its
 * whole host), and `$1`..`$9` in a `rewrite` replacement.
 */
import type { FilterCandidate } from '../shared/candidates.ts';
import { accessOrderProblem, accessRules, type SnippetAccessRule } from './snippet-access.ts';
import { lexSnippet, printable, type SnippetDirective, type SnippetWord } from './snippet-lexer.ts';
import { checkRedirectOrder, returnRedirect, rewriteFilter, type RewriteState } from './snippet-redirects.ts';
import { CONTROL, exactly, literal, SnippetRefusal } from './snippet-words.ts';

export { accessLists, type SnippetAccessRule } from './snippet-access.ts';
export { wholePathPattern } from './snippet-redirects.ts';

/** The snippet annotations read, without the prefix. */
export type SnippetAnnotation = 'server-snippet' | 'configuration-snippet';

/** A snippet annotation's text. */
export interface SnippetSource {
  readonly annotation: SnippetAnnotation;
  readonly text: string;
}

/** Something a user should hear about a snippet (reported as a warning). */
export interface SnippetNote {
  readonly annotation: SnippetAnnotation;
  /** Starts with the snippet and line: `configuration-snippet: line 2: …`. */
  readonly message: string;
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
   * The `allow`/`deny` rules in the order written (nginx's first match wins): those of the
   * configuration snippet when it has any, else the server snippet's (nginx's inheritance). Only
   * orders that read as "the deny list, then the allow list" are accepted (see `accessLists`).
   */
  readonly access: readonly SnippetAccessRule[];
  /** The snippet the access rules come from; null without any. */
  readonly accessFrom: SnippetAnnotation | null;
  /** Approximations, each naming its snippet and line. */
  readonly notes: readonly SnippetNote[];
  /**
   * Where a `rewrite … break|last` is (`configuration-snippet: line 2`), null without one: when it
   * matches, nginx skips the rewrite directives after it, `rewrite-target`'s among them.
   */
  readonly rewriteStops: string | null;
}

/** The snippets' filters, or why none of them can be applied (the message names snippet and line). */
export type SnippetResult =
  | { readonly ok: true; readonly value: ParsedSnippets }
  | { readonly ok: false; readonly annotation: SnippetAnnotation; readonly message: string };

/** The directives {@link parseSnippets} applies, for messages. */
export const SNIPPET_DIRECTIVES = Object.freeze([
  'proxy_set_header', 'more_set_input_headers', 'more_clear_input_headers', 'more_set_headers', 'more_clear_headers',
  'add_header', 'proxy_hide_header', 'return', 'rewrite', 'allow', 'deny',
]);

// RFC 9110 §5.6.2.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Fields that frame the message or the connection: a snippet must not let a value choose them.
const FRAMING = new Set(['connection', 'content-length', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'keep-alive', 'proxy-connection']);

type HeaderOp = { readonly op: 'set'; readonly value: string } | { readonly op: 'remove' } | { readonly op: 'add'; readonly value: string };

/** What the directives asked for so far, in order. */
interface Collected {
  readonly rewritePhase: FilterCandidate[];
  readonly request: Map<string, HeaderOp>;
  readonly response: Map<string, HeaderOp>;
  readonly access: Map<SnippetAnnotation, SnippetAccessRule[]>;
  readonly notes: SnippetNote[];
  readonly rewrites: RewriteState;
}

/**
 * Reads the snippets of an Ingress (server snippet first: nginx runs the server's rewrite phase
 * before the location's). Approximations, reported in `notes`:
 * - `add_header` without `always` applies in nginx to 2xx and 3xx answers only; here to every
 *   answer (as with `always`).
 * - `rewrite … last` (and a rewrite without a flag) makes nginx look for a location again with the
 *   new path; here the route stays the one the request matched.
 * - `proxy_set_header` in a server snippet never reaches ingress-nginx's locations (each sets its
 *   own); here it applies to the Ingress's paths. Otherwise both snippets' header edits apply
 *   together, the configuration snippet's winning for a name both edit.
 * - ingress-nginx writes its own `proxy_set_header X-Forwarded-Host …` (and the other forwarding
 *   fields) before the snippet, and nginx then sends both fields; here the snippet's replaces the
 *   proxy's.
 * Never throws.
 */
export function parseSnippets(sources: readonly SnippetSource[]): SnippetResult {
  const c: Collected = { rewritePhase: [], request: new Map(), response: new Map(), access: new Map(), notes: [], rewrites: { stoppedAt: null, rewroteAt: null } };
  for (const source of sources) {
    const lexed = lexSnippet(source.text);
    if (!lexed.ok) return { ok: false, annotation: source.annotation, message: `${source.annotation}: ${lexed.message}` };
    for (const d of lexed.directives) {
      try {
        directive(source.annotation, d, c);
      } catch (e) {
        if (!(e instanceof SnippetRefusal)) throw e;
        return { ok: false, annotation: source.annotation, message: `${source.annotation}: line ${d.line}: ${e.message}` };
      }
    }
  }
  // nginx: a level with its own allow/deny does not inherit the enclosing level's.
  const accessFrom = c.access.has('configuration-snippet') ? 'configuration-snippet' : c.access.has('server-snippet') ? 'server-snippet' : null;
  const access = accessFrom === null ? [] : c.access.get(accessFrom)!;
  const order = accessOrderProblem(access);
  if (order !== null) return { ok: false, annotation: accessFrom!, message: `${accessFrom!}: ${order}` };
  const filters = [...c.rewritePhase];
  const request = edits(c.request);
  if (request !== null) filters.push({ type: 'RequestHeaderModifier', ...request });
  const response = edits(c.response);
  if (response !== null) filters.push({ type: 'ResponseHeaderModifier', ...response });
  return { ok: true, value: { filters, access, accessFrom, notes: c.notes, rewriteStops: c.rewrites.stoppedAt } };
}

function directive(annotation: SnippetAnnotation, d: SnippetDirective, c: Collected): void {
  const where = `${annotation}: line ${d.line}`;
  const note = (message: string): void => void c.notes.push({ annotation, message: `${where}: ${message}` });
  switch (d.name) {
    case 'proxy_set_header': {
      const [name, value] = exactly(d, 2);
      const header = requestHeaderName(name!);
      const text = literal(value!, 'value');
      // nginx does not send a header whose value is empty.
      c.request.set(header, text === '' ? { op: 'remove' } : { op: 'set', value: headerValue(text) });
      if (annotation === 'server-snippet') note(`proxy_set_header ${header} in a server snippet does not reach ingress-nginx's locations (they set their own); signalbox applies it to the Ingress's paths`);
      return;
    }
    case 'more_set_input_headers':
    case 'more_set_headers': {
      const request = d.name === 'more_set_input_headers';
      for (const arg of headersMoreArgs(d)) {
        const { name, value } = nameValue(arg);
        const header = request ? requestHeaderName(name) : responseHeaderName(name);
        // headers-more: an empty value clears the header.
        (request ? c.request : c.response).set(header, value === '' ? { op: 'remove' } : { op: 'set', value: headerValue(value) });
      }
      return;
    }
    case 'more_clear_input_headers':
    case 'more_clear_headers': {
      const request = d.name === 'more_clear_input_headers';
      for (const arg of headersMoreArgs(d)) {
        const text = literal(arg, 'header name');
        if (text.includes('*')) throw new SnippetRefusal(`${d.name}: the wildcard in "${printable(text)}" cannot be applied; name each header`);
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
      if (d.args.length !== 2 && d.args.length !== 3) throw new SnippetRefusal(`add_header takes a name, a value and optionally "always" (${d.args.length} arguments given)`);
      const [name, value, always] = d.args;
      if (always !== undefined && always.text !== 'always') throw new SnippetRefusal(`add_header: "${printable(always.text)}" is not "always"`);
      const header = responseHeaderName(name!);
      const text = literal(value!, 'value');
      if (text === '') throw new SnippetRefusal('add_header with an empty value adds nothing; remove it');
      if (c.response.has(header)) throw new SnippetRefusal(`add_header ${header}: the header is already set, added or removed by the snippets; write it once`);
      c.response.set(header, { op: 'add', value: headerValue(text) });
      if (always === undefined) note(`add_header ${header} applies to every answer, as with "always" (nginx adds it to 2xx and 3xx answers only)`);
      return;
    }
    case 'return':
      checkRedirectOrder(c.rewrites);
      c.rewritePhase.push(returnRedirect(d));
      return;
    case 'rewrite': {
      const { filter, note: approximation } = rewriteFilter(d, where, c.rewrites);
      c.rewritePhase.push(filter);
      if (approximation !== null) c.notes.push({ annotation, message: approximation });
      return;
    }
    case 'allow':
    case 'deny': {
      const rules = accessRules({ ...d, name: d.name });
      const list = c.access.get(annotation) ?? [];
      list.push(...rules);
      c.access.set(annotation, list);
      return;
    }
    default:
      throw new SnippetRefusal(`the directive "${printable(d.name)}" is not one signalbox applies (only ${SNIPPET_DIRECTIVES.join(', ')})`);
  }
}

/**
 * The arguments of a headers-more directive: at least one, and none of its `-s`/`-t`/`-r`
 * options (conditions on the status or content type that no filter here has). nginx passes words
 * without their quotes, so a quoted `"-s"` is an option too.
 */
function headersMoreArgs(d: SnippetDirective): readonly SnippetWord[] {
  if (d.args.length === 0) throw new SnippetRefusal(`${d.name} takes at least one header`);
  for (const a of d.args) {
    if (a.text.startsWith('-')) throw new SnippetRefusal(`${d.name}: the option ${printable(a.text)} (status or content-type conditions) cannot be applied`);
  }
  return d.args;
}

function headerName(word: SnippetWord): string {
  const text = literal(word, 'header name');
  if (!TOKEN.test(text)) throw new SnippetRefusal(`"${printable(text)}" is not a header name`);
  return text.toLowerCase();
}

function requestHeaderName(word: SnippetWord): string {
  const name = headerName(word);
  if (name === 'host') throw new SnippetRefusal('the upstream Host cannot be set by a snippet; use the upstream-vhost annotation');
  if (FRAMING.has(name)) throw new SnippetRefusal(`the header ${name} frames the message or the connection; signalbox manages it`);
  return name;
}

function responseHeaderName(word: SnippetWord): string {
  const name = headerName(word);
  if (FRAMING.has(name)) throw new SnippetRefusal(`the header ${name} frames the message or the connection; signalbox manages it`);
  return name;
}

function headerValue(text: string): string {
  if (CONTROL.test(text)) throw new SnippetRefusal(`the value "${printable(text)}" holds control characters (CR, LF, NUL…), which no header value may hold`);
  // RFC 9110 tolerates bytes above 0x7f only as opaque data; a string here holds characters, and
  // one beyond Latin-1 cannot be sent as a field at all.
  if (/[^\t\x20-\x7e]/.test(text)) throw new SnippetRefusal(`the value "${printable(text)}" holds characters outside visible ASCII; header values here are ASCII`);
  return text.trim();
}

/** headers-more's `"Name: value"`. */
function nameValue(word: SnippetWord): { name: SnippetWord; value: string } {
  const text = literal(word, 'header');
  const colon = text.indexOf(':');
  if (colon <= 0) throw new SnippetRefusal(`"${printable(text)}" is not "Name: value"`);
  return { name: { text: text.slice(0, colon).trim(), quoted: word.quoted }, value: text.slice(colon + 1).trim() };
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
