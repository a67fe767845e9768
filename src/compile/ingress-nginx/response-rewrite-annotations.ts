/**
 * ingress-nginx's `proxy-redirect-from` / `proxy-redirect-to`, `proxy-cookie-path` and
 * `proxy-cookie-domain`, read into one {@link ResponseRewriteFilter}: nginx's `proxy_redirect`,
 * `proxy_cookie_path` and `proxy_cookie_domain` as ingress-nginx's template writes them.
 * - Every one defaults to `off` (ingress-nginx writes `proxy_redirect off` into each location).
 *   `proxy-redirect-from: default` asks for nginx's default replacement, which names the proxy_pass
 *   URL `http://upstream_balancer/` — a name no upstream writes in its Location — so it rewrites
 *   nothing, like `off`. A `proxy-redirect-from` with `proxy-redirect-to` absent or `off` makes
 *   ingress-nginx write no directive at all: nothing is rewritten either (and that is said).
 * - Values are nginx's directive arguments: plain text, ingress-nginx's URL characters. A regular
 *   expression (`~…`) is not supported; a value that nginx would refuse (`proxy-cookie-path` with
 *   one word) or that ingress-nginx's validation refuses is invalid. Either way the annotation is
 *   reported and ignored, the rest of the Ingress served.
 */
import type { ResponseRewriteFilter, TextRewrite } from '../../model/table.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import { NGINX_PREFIX } from './annotation-table.ts';

// ingress-nginx's URLIsValidRegex (alphanumerics, `-._~/:` and `,:?&=`), the validation of all four.
const URL_WORD = /^[-._~a-zA-Z0-9/:,?&=]+$/;
// Its cookieDomainRegex: the domain annotation takes no query characters.
const DOMAIN_WORD = /^[-._~a-zA-Z0-9/:]+$/;

/** The response rewrites an Ingress's annotations ask for; null when none. */
export function responseRewriteFilter(id: ObjectIdentity, raw: ReadonlyMap<string, string>, sink: DiagnosticSink): ResponseRewriteFilter | null {
  const at = (name: string): string => `${id.provenance}/annotations/${NGINX_PREFIX}${name}`;
  const invalid = (name: string, why: string): null => {
    sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}${name}: ${JSON.stringify(raw.get(name))} ${why}; it is ignored`, at(name));
    return null;
  };
  // A pair of words, `FROM TO`, as the cookie annotations take them; null for `off` (or a reported problem).
  const pair = (name: string, word: RegExp): TextRewrite | null => {
    const text = raw.get(name)?.trim();
    if (text === undefined || text === 'off') return null;
    const words = text.split(/\s+/);
    if (words.length !== 2) return invalid(name, 'is not "off" or two words, FROM and TO');
    const [from, to] = words as [string, string];
    if (from.startsWith('~')) return regex(name);
    if (!word.test(from) || !word.test(to)) return invalid(name, 'holds characters ingress-nginx does not take there');
    return { from, to };
  };
  const regex = (name: string): null => {
    sink.report(id, 'AnnotationUnsupported', 'warning', `${NGINX_PREFIX}${name}: a regular expression (~) is not supported, only plain text; it is ignored`, at(name));
    return null;
  };

  const location = redirect(raw, sink, id, at, invalid, regex);
  const path = pair('proxy-cookie-path', URL_WORD);
  let domain = pair('proxy-cookie-domain', DOMAIN_WORD);
  if (domain !== null) {
    // nginx compares the domain without its leading dot, and keeps the cookie's own dot.
    domain = { from: domain.from.replace(/^\./, ''), to: domain.to.replace(/^\./, '') };
    if (domain.from === '') domain = invalid('proxy-cookie-domain', 'names no domain to replace');
  }
  if (location === null && path === null && domain === null) return null;
  return {
    type: 'ResponseRewrite',
    ...(location === null ? {} : { location: [location] }),
    ...(path === null ? {} : { cookiePath: [path] }),
    ...(domain === null ? {} : { cookieDomain: [domain] }),
  };
}

/** `proxy-redirect-from` and `proxy-redirect-to`, as ingress-nginx's template turns them into `proxy_redirect`. */
function redirect(raw: ReadonlyMap<string, string>, sink: DiagnosticSink, id: ObjectIdentity, at: (name: string) => string, invalid: (name: string, why: string) => null, regex: (name: string) => null): TextRewrite | null {
  const from = raw.get('proxy-redirect-from')?.trim() ?? 'off';
  const to = raw.get('proxy-redirect-to')?.trim() ?? 'off';
  if (from === 'off' || from === 'default') return null;
  if (to === 'off') {
    sink.report(id, 'AnnotationIgnored', 'warning', `${NGINX_PREFIX}proxy-redirect-from without proxy-redirect-to rewrites nothing (ingress-nginx writes no proxy_redirect then); set both`, at('proxy-redirect-from'));
    return null;
  }
  if (from.startsWith('~')) return regex('proxy-redirect-from');
  for (const [name, word] of [['proxy-redirect-from', from], ['proxy-redirect-to', to]] as const) {
    if (!URL_WORD.test(word)) return invalid(name, 'is not one word of URL characters');
  }
  return { from, to };
}
