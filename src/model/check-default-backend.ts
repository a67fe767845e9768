/** The invariants of a {@link DefaultBackendFilter}, for checkTable (check-routes.ts). */
import type { DefaultBackendFilter, Provenance } from './table.ts';

// RFC 9110 §5.6.2: a token, lower case as the table keeps field names.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// A field value the upstream request can carry as it is (RFC 9110 §5.5: no control characters).
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Reports what is wrong with `f` (its cluster reference is checked by the caller). */
export function checkDefaultBackend(at: string, f: DefaultBackendFilter, p: Provenance, report: (at: string, p: Provenance, message: string) => void): void {
  let before = 0;
  for (const code of f.codes) {
    if (!Number.isInteger(code) || code < 400 || code > 599) report(`${at}.codes`, p, `error page status ${code} is not a whole number from 400 to 599`);
    else if (code <= before) report(`${at}.codes`, p, `error page statuses must be ascending and each given once (${code} after ${before})`);
    before = code;
  }
  if (f.codes.length === 0 && !f.whenNoEndpoints) report(at, p, 'a DefaultBackend filter with no codes that never takes requests either');
  for (const h of f.headers) {
    if (!TOKEN.test(h.name)) report(`${at}.headers`, p, `error page header ${JSON.stringify(h.name)} is not a lower-case token`);
    if (!FIELD_VALUE.test(h.value)) report(`${at}.headers`, p, `error page header ${h.name} has a value with control characters`);
  }
}
