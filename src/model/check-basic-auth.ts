/**
 * The invariants of a {@link BasicAuthFilter}, for checkRoute: a realm that can be quoted in a
 * challenge as it is, user names an htpasswd line can hold (each once), and hashes in a format
 * the data plane verifies — a table never holds a user the data plane would silently refuse.
 */
import { hashFormat } from './password-hash-schemes.ts';
import type { BasicAuthFilter, Provenance } from './table.ts';

/** How the check reports: where, about which node, what (as in check-routes.ts). */
type Report = (at: string, provenance: Provenance, message: string) => void;

// Printable ASCII and spaces, without the quote and backslash a quoted-string would have to escape.
const REALM = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
// RFC 7617 §2: the user-id holds no colon; control characters cannot come through the header.
const USER = /^[^:\u0000-\u001f\u007f]+$/u;

/** Reports every problem of `f`, the filter of the route whose provenance is `p`. */
export function checkBasicAuth(at: string, f: BasicAuthFilter, p: Provenance, report: Report): void {
  if (typeof f.realm !== 'string' || !REALM.test(f.realm)) report(at, p, `basic auth realm ${JSON.stringify(f.realm)} holds a quote, a backslash or a character that is not printable ASCII`);
  if (typeof f.forwardAuthorization !== 'boolean') report(at, p, 'basic auth forwardAuthorization is not a boolean');
  if (f.users === null) return;
  const names = new Set<string>();
  f.users.forEach((user, i) => {
    const uAt = `${at}.users[${i}]`;
    if (!USER.test(user.name)) report(uAt, p, `basic auth user ${JSON.stringify(user.name)} is empty or holds a colon or a control character`);
    if (names.has(user.name)) report(uAt, p, `basic auth user ${JSON.stringify(user.name)} is listed twice`);
    names.add(user.name);
    const format = hashFormat(user.hash);
    if (format.scheme === null) report(uAt, p, `basic auth user ${JSON.stringify(user.name)} has ${format.problem}`);
  });
}
