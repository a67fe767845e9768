/**
 * The rewrite-phase directives of snippets: `return` with a redirect status and `rewrite`, as
 * RequestRedirect and URLRewrite filters. nginx runs them before access checks and proxying, so
 * their filters come first on a route.
 */
import type { FilterCandidate } from '../shared/candidates.ts';
import type { RedirectFilter } from '../../model/table.ts';
import { compilePattern } from '../../regex/compile-pattern.ts';
import { printable, type SnippetDirective } from './snippet-lexer.ts';
import { CONTROL, SnippetRefusal } from './snippet-words.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/**
 * `return CODE URL;` (or `return URL;`, a 302): the URL as written, or, ending in `$request_uri`,
 * the request's own path and query after the URL's scheme, host, port and path prefix; `$host` may
 * be the whole host (the request's). nginx's `$request_uri` is the path as the client sent it,
 * here the path as routed (normalised, after an earlier rewrite). Other answers (`return 403;`,
 * `return 200 "text";`) have no filter and are refused.
 */
export function returnRedirect(d: SnippetDirective): RedirectFilter {
  if (d.args.length === 0 || d.args.length > 2) throw new SnippetRefusal(`return takes a status and a URL (${d.args.length} arguments given)`);
  let code = 302;
  let target: string;
  if (d.args.length === 1 && /^https?:\/\//.test(d.args[0]!.text)) {
    target = d.args[0]!.text;
  } else {
    const status = d.args[0]!.text;
    if (!/^\d{3}$/.test(status)) throw new SnippetRefusal(`return: "${printable(status)}" is not a status code`);
    code = Number(status);
    if (!REDIRECT_CODES.has(code)) throw new SnippetRefusal(`return ${code}: only redirects (301, 302, 303, 307, 308) can be applied; signalbox has no filter that answers with a status or a body`);
    if (d.args.length === 1) throw new SnippetRefusal(`return ${code} needs the URL to redirect to`);
    target = d.args[1]!.text;
  }
  if (CONTROL.test(target) || /\s/.test(target)) throw new SnippetRefusal(`return ${code}: the URL holds whitespace or control characters`);
  if (/[^\x21-\x7e]/.test(target)) throw new SnippetRefusal(`return ${code}: the URL holds characters outside visible ASCII; percent-encode them`);
  const keepUri = target.endsWith('$request_uri');
  const base = keepUri ? target.slice(0, -'$request_uri'.length) : target;
  if (base.replace(/^(https?:\/\/)\$host(?![\w{])/, '$1').includes('$')) throw new SnippetRefusal(`return ${code}: "${printable(target)}" uses an nginx variable other than $host (the whole host) and $request_uri (at the end)`);
  const m = /^(https?):\/\/(\$host|[^/?#$]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(base);
  if (m === null) throw new SnippetRefusal(`return ${code}: "${printable(target)}" is not an absolute http or https URL (optionally ending in $request_uri)`);
  const scheme = m[1] as 'http' | 'https';
  const [, , authority = '', path = '', query] = m;
  const filter: Mutable<RedirectFilter> = { type: 'RequestRedirect', scheme, statusCode: code as RedirectFilter['statusCode'] };
  if (authority !== '$host') Object.assign(filter, hostAndPort(scheme, authority, `return ${code}`));
  if (keepUri) {
    if (query !== undefined) throw new SnippetRefusal(`return ${code}: a query before $request_uri cannot be applied`);
    if (path !== '') filter.path = { type: 'ReplaceRegexMatch', pattern: '(.*)', substitution: `${path}$1` };
  } else {
    filter.path = { type: 'ReplaceFullPath', value: path === '' ? '/' : path };
    filter.query = query ?? '';
  }
  return filter;
}

/** Where the rewrites of a snippet stand. */
export interface RewriteState {
  /** The `rewrite … break|last` met so far, as `<snippet>: line N`; null before one. */
  stoppedAt: string | null;
  /** The first rewrite of the upstream path met so far, as `<snippet>: line N`; null before one. */
  rewroteAt: string | null;
}

/**
 * Refuses a redirect after a rewrite of the upstream path: nginx would redirect the rewritten
 * path, while the front end runs every redirect before any rewrite.
 */
export function checkRedirectOrder(state: RewriteState): void {
  if (state.rewroteAt !== null) throw new SnippetRefusal(`a redirect after the rewrite at "${state.rewroteAt}" cannot be applied in that order; write the redirects first`);
}

/**
 * `rewrite REGEX REPLACEMENT [flag];` as a filter (and a note when it is approximated). nginx
 * searches the path for REGEX (unanchored) and, when it is found, replaces the whole path with
 * REPLACEMENT; the table's ReplaceRegexMatch matches whole paths, so the pattern is widened (see
 * {@link wholePathPattern}). `redirect`, `permanent` or an absolute URL answer a redirect (302,
 * 301) — only for paths the pattern finds; `break` rewrites the upstream path; `last` and no flag
 * also make nginx look for a location again with the new path, which the route here does not.
 */
export function rewriteFilter(d: SnippetDirective, where: string, state: RewriteState): { filter: FilterCandidate; note: string | null } {
  if (d.args.length !== 2 && d.args.length !== 3) throw new SnippetRefusal(`rewrite takes a pattern, a replacement and optionally a flag (${d.args.length} arguments given)`);
  const [regexWord, replacementWord, flagWord] = d.args;
  const flag = flagWord?.text ?? '';
  if (!['', 'last', 'break', 'redirect', 'permanent'].includes(flag)) throw new SnippetRefusal(`rewrite: "${printable(flag)}" is not last, break, redirect or permanent`);
  if (state.stoppedAt !== null) throw new SnippetRefusal(`rewrite after the "${state.stoppedAt}" rewrite: nginx skips it when that one matches, which signalbox cannot do; keep one`);
  const pattern = wholePathPattern(regexWord!.text);
  const compiled = compilePattern(pattern);
  if (!compiled.ok) throw new SnippetRefusal(`rewrite: the pattern "${printable(regexWord!.text)}" cannot be used: ${compiled.message}`);
  const written = replacementWord!.text;
  if (CONTROL.test(written) || /\s/.test(written)) throw new SnippetRefusal('rewrite: the replacement holds whitespace or control characters');
  if (/[^\x21-\x7e]/.test(written)) throw new SnippetRefusal('rewrite: the replacement holds characters outside visible ASCII; percent-encode them');
  if (/\$(?![1-9])/.test(written)) throw new SnippetRefusal(`rewrite: "${printable(written)}" uses an nginx variable; only $1..$9 (the pattern's groups) are supported`);
  // A final `?` tells nginx not to append the request's query.
  const dropQuery = written.endsWith('?');
  const replacement = dropQuery ? written.slice(0, -1) : written;
  if (replacement.includes('?')) throw new SnippetRefusal(`rewrite: "${printable(written)}" sets a query, which signalbox cannot; write the path only`);
  const absolute = /^(https?):\/\/([^/?#$]+)(.*)$/.exec(replacement);
  if (absolute === null && flag !== 'redirect' && flag !== 'permanent') {
    if (dropQuery) throw new SnippetRefusal('rewrite: a replacement ending in "?" drops the query, which a rewrite here cannot');
    if (!replacement.startsWith('/')) throw new SnippetRefusal(`rewrite: "${printable(replacement)}" must start with / (a path, with $1..$9 for the pattern's groups)`);
    if (flag !== '') state.stoppedAt = where;
    state.rewroteAt ??= where;
    const note = flag === 'break' ? null : `${where}: rewrite ${flag === '' ? 'without a flag' : flag}: the request keeps the route it matched (nginx looks for a location again with the new path)`;
    return { filter: { type: 'URLRewrite', path: { type: 'ReplaceRegexMatch', pattern, substitution: replacement } }, note };
  }
  checkRedirectOrder(state);
  const filter: Mutable<RedirectFilter> = { type: 'RequestRedirect', statusCode: flag === 'permanent' ? 301 : 302 };
  let path = replacement;
  if (absolute !== null) {
    const scheme = absolute[1] as 'http' | 'https';
    Object.assign(filter, { scheme }, hostAndPort(scheme, absolute[2]!, 'rewrite'));
    path = absolute[3] === '' ? '/' : absolute[3]!;
  }
  if (!path.startsWith('/')) throw new SnippetRefusal(`rewrite: "${printable(replacement)}" must start with / or be an absolute http or https URL`);
  filter.path = { type: 'ReplaceRegexMatch', pattern, substitution: path };
  if (dropQuery) filter.query = '';
  return { filter, note: null };
}

/** The host and port of an absolute URL's authority; a port left out is the scheme's. */
function hostAndPort(scheme: 'http' | 'https', authority: string, what: string): { hostname: string; port: number } {
  let url: URL;
  try {
    url = new URL(`${scheme}://${authority}/`);
  } catch {
    throw new SnippetRefusal(`${what}: "${printable(authority)}" is not a host`);
  }
  if (url.username !== '' || url.password !== '') throw new SnippetRefusal(`${what}: "${printable(authority)}" holds credentials`);
  return { hostname: url.hostname, port: url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port) };
}

/**
 * nginx's unanchored search as a whole-path pattern: `[\s\S]*?(?:REGEX)[\s\S]*`, the lazy prefix
 * finding the same leftmost match as nginx's search so that `$1`..`$9` capture the same. A
 * pattern anchored with `^` (or `$`) needs no prefix (or suffix); with a `|` anywhere it is always
 * wrapped, since `^a|b` finds `b` anywhere. A leading `(?i)` stays in front.
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
