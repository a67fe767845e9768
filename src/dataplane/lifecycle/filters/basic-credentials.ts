/**
 * The credentials of an `Authorization: Basic` field (RFC 7617): the scheme (any case), then the
 * base64 of `user-id:password`. Anything else — another scheme, characters outside base64, a
 * length no base64 has, no colon — gives no credentials at all, as nginx's `auth_basic` does.
 */

/** A user-id and password as the client sent them, bytes for bytes. */
export interface BasicCredentials {
  /** The user-id's bytes as a latin1 string: compared byte-wise, whatever their encoding. */
  readonly user: string;
  readonly password: Buffer;
}

// The standard alphabet; padding (if any) only at the end. Unpadded input is taken, as nginx does.
const BASE64 = /^[A-Za-z0-9+/]+(={0,2})$/;
const SCHEME = /^basic[ \t]+/i;

/** The credentials of an Authorization field value, or null when it holds none usable. */
export function parseBasicCredentials(field: string | undefined): BasicCredentials | null {
  if (field === undefined) return null;
  const scheme = SCHEME.exec(field);
  if (scheme === null) return null;
  const token = field.slice(scheme[0].length).trim();
  const m = BASE64.exec(token);
  if (m === null) return null;
  const padded = m[1]!.length > 0;
  // Padded: a whole number of quartets. Unpadded: never one character over (it would carry 6 bits).
  if (padded ? token.length % 4 !== 0 : token.length % 4 === 1) return null;
  const decoded = Buffer.from(token, 'base64');
  const colon = decoded.indexOf(0x3a);
  if (colon === -1) return null;
  return { user: decoded.toString('latin1', 0, colon), password: decoded.subarray(colon + 1) };
}
