/**
 * ingress-nginx's `proxy-redirect-from` / `proxy-redirect-to`, `proxy-cookie-path` and
 * `proxy-cookie-domain` — annotations, and ConfigMap keys giving every Ingress its default — read
 * into one {@link ResponseRewriteFilter}: nginx's `proxy_redirect`, `proxy_cookie_path` and
 * `proxy_cookie_domain` as ingress-nginx's template writes them.
 * - Every one defaults to `off` (ingress-nginx writes `proxy_redirect off` into each location).
 *   `proxy-redirect-from: default` asks for nginx's default replacement, which names the proxy_pass
 *   URL `http://upstream_balancer/` — a name no upstream writes in its Location — so it rewrites
 *   nothing, like `off`. A `proxy-redirect-from` with `proxy-redirect-to` absent or `off` makes
 *   ingress-nginx write no directive at all: nothing is rewritten either (and that is said).
 * - Values are nginx's directive arguments: plain text, ingress-nginx's URL characters. A regular
 *   expression (`~…`) is not supported; a value that nginx would refuse (`proxy-cookie-path` with
 *   one word) or that ingress-nginx's validation refuses is invalid. Either way the value is
 *   reported and ignored, the rest of the Ingress served.
 */
import type { ResponseRewriteFilter, TextRewrite } from '../../model/table.ts';

/** The four names, the same as annotations and as ConfigMap keys. */
export const RESPONSE_REWRITE_KEYS = ['proxy-redirect-from', 'proxy-redirect-to', 'proxy-cookie-path', 'proxy-cookie-domain'] as const;
/** One of {@link RESPONSE_REWRITE_KEYS}. */
export type ResponseRewriteKey = (typeof RESPONSE_REWRITE_KEYS)[number];
/** Values by name, as written; an absent one is `off`. */
export type ResponseRewriteValues = Readonly<Partial<Record<ResponseRewriteKey, string>>>;

/**
 * What is wrong with one value: `invalid` (it does not parse, or ingress-nginx or nginx refuse it),
 * `unsupported` (a regular expression) or `ineffective` (it does nothing without another).
 */
export interface ResponseRewriteProblem {
  readonly key: ResponseRewriteKey;
  readonly kind: 'invalid' | 'unsupported' | 'ineffective';
  readonly message: string;
}

// ingress-nginx's URLIsValidRegex (alphanumerics, `-._~/:` and `,:?&=`), the validation of all four.
const URL_WORD = /^[-._~a-zA-Z0-9/:,?&=]+$/;
// Its cookieDomainRegex: the domain takes no query characters.
const DOMAIN_WORD = /^[-._~a-zA-Z0-9/:]+$/;

/** The filter `values` ask for (null: no rewrite) and the problems of those that are ignored. */
export function readResponseRewrite(values: ResponseRewriteValues): { filter: ResponseRewriteFilter | null; problems: ResponseRewriteProblem[] } {
  const problems: ResponseRewriteProblem[] = [];
  const problem = (key: ResponseRewriteKey, kind: ResponseRewriteProblem['kind'], why: string): null => {
    problems.push({ key, kind, message: kind === 'invalid' ? `${JSON.stringify(values[key])} ${why}` : why });
    return null;
  };
  const regex = (key: ResponseRewriteKey): null => problem(key, 'unsupported', 'a regular expression (~) is not supported, only plain text');
  // A pair of words, `FROM TO`, as the cookie keys take them; null for `off` (or a problem).
  const pair = (key: ResponseRewriteKey, word: RegExp): TextRewrite | null => {
    const text = values[key]?.trim();
    if (text === undefined || text === 'off') return null;
    const words = text.split(/\s+/);
    if (words.length !== 2) return problem(key, 'invalid', 'is not "off" or two words, FROM and TO');
    const [from, to] = words as [string, string];
    if (from.startsWith('~')) return regex(key);
    if (!word.test(from) || !word.test(to)) return problem(key, 'invalid', 'holds characters ingress-nginx does not take there');
    return { from, to };
  };

  let location: TextRewrite | null = null;
  const from = values['proxy-redirect-from']?.trim() ?? 'off';
  const to = values['proxy-redirect-to']?.trim() ?? 'off';
  if (from !== 'off' && from !== 'default') {
    if (to === 'off') problem('proxy-redirect-from', 'ineffective', 'without proxy-redirect-to it rewrites nothing (ingress-nginx writes no proxy_redirect then)');
    else if (from.startsWith('~')) regex('proxy-redirect-from');
    else if (!URL_WORD.test(from)) problem('proxy-redirect-from', 'invalid', 'is not one word of URL characters');
    else if (!URL_WORD.test(to)) problem('proxy-redirect-to', 'invalid', 'is not one word of URL characters');
    else location = { from, to };
  }
  const path = pair('proxy-cookie-path', URL_WORD);
  let domain = pair('proxy-cookie-domain', DOMAIN_WORD);
  if (domain !== null) {
    // nginx compares the domain without its leading dot, and keeps the cookie's own dot.
    domain = { from: domain.from.replace(/^\./, ''), to: domain.to.replace(/^\./, '') };
    if (domain.from === '') domain = problem('proxy-cookie-domain', 'invalid', 'names no domain to replace');
  }
  if (location === null && path === null && domain === null) return { filter: null, problems };
  return {
    filter: {
      type: 'ResponseRewrite',
      ...(location === null ? {} : { location: [location] }),
      ...(path === null ? {} : { cookiePath: [path] }),
      ...(domain === null ? {} : { cookieDomain: [domain] }),
    },
    problems,
  };
}
