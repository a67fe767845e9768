/**
 * The invariants of a {@link ResponseRewriteFilter}, for {@link checkTable} (through
 * check-routes.ts): each replacement is text the data plane can put into a response field as it
 * is, so nothing a front end got wrong can split a field or smuggle one in.
 */
import type { Provenance, ResponseRewriteFilter, TextRewrite } from './table.ts';

/** How a check reports: where, about which node, what. */
export type ResponseRewriteReport = (at: string, provenance: Provenance, message: string) => void;

// Printable ASCII without spaces: what nginx's directive arguments (and ingress-nginx's
// validation of the annotations) leave, and what a field value or cookie attribute can hold.
const TEXT = /^[\x21-\x7e]*$/;

/** Checks one ResponseRewrite filter of the route whose provenance is `p`. */
export function checkResponseRewrite(at: string, f: ResponseRewriteFilter, p: Provenance, report: ResponseRewriteReport): void {
  const lists = [['location', f.location], ['cookiePath', f.cookiePath], ['cookieDomain', f.cookieDomain]] as const;
  if (lists.every(([, list]) => list === undefined)) report(at, p, 'a ResponseRewrite filter with no location, cookiePath or cookieDomain rewrite');
  for (const [name, list] of lists) {
    if (list === undefined) continue;
    if (list.length === 0) report(`${at}.${name}`, p, `ResponseRewrite ${name} is an empty list (absent when there are none)`);
    list.forEach((r, i) => checkRewrite(`${at}.${name}[${i}]`, name, r, p, report));
  }
}

function checkRewrite(at: string, list: string, r: TextRewrite, p: Provenance, report: ResponseRewriteReport): void {
  if (typeof r.from !== 'string' || r.from === '' || !TEXT.test(r.from)) report(at, p, `ResponseRewrite ${list} from ${JSON.stringify(r.from)} is not printable ASCII without spaces, or is empty`);
  if (typeof r.to !== 'string' || !TEXT.test(r.to)) report(at, p, `ResponseRewrite ${list} to ${JSON.stringify(r.to)} is not printable ASCII without spaces`);
  // The cookie's own leading dot is kept apart from the comparison and the replacement.
  for (const side of ['from', 'to'] as const) {
    const text = r[side];
    if (list === 'cookieDomain' && typeof text === 'string' && text.startsWith('.')) report(at, p, `ResponseRewrite cookieDomain ${side} ${JSON.stringify(text)} starts with a dot`);
  }
  // A `;` would end the attribute and begin another one in the client's cookie.
  if (list !== 'location' && typeof r.to === 'string' && r.to.includes(';')) report(at, p, `ResponseRewrite ${list} to ${JSON.stringify(r.to)} holds a ;`);
}
