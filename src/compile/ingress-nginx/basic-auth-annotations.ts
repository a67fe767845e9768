/**
 * ingress-nginx's basic authentication annotations — `auth-type: basic`, `auth-secret`,
 * `auth-secret-type`, `auth-realm` — read into a {@link BasicAuthFilter}, with the users of the
 * Secret they name. The front end reads that Secret from the snapshot itself, as it reads the
 * controller ConfigMap: the filter the back half gets is complete, and an auth Secret is only ever
 * read for its Ingress (tls.ts, which the back half runs, is about certificates only).
 *
 * Never served without the check, as ingress-nginx: when the Secret cannot be used (missing, in
 * another namespace, without its `auth` key, an unknown `auth-secret-type`) ingress-nginx denies
 * the location — 503 for every request — and so does the filter (`users: null`). A Secret read but
 * holding no usable user answers 401 to everyone, as nginx with such a file does; users whose hash
 * signalbox cannot verify (DES crypt, bcrypt above cost 12) are left out and reported, the others work.
 * `auth-type: digest` has no counterpart: ingress-annotations.ts refuses such an Ingress
 * (`AccessAnnotationUnsupported`) before this is read.
 */
import { hashFormat } from '../../model/password-hash-schemes.ts';
import type { BasicAuthFilter, BasicAuthUser } from '../../model/table.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isRecord } from '../shared/guards.ts';
import type { Identified, ObjectIdentity } from '../shared/objects.ts';
import { readKey } from '../shared/tls.ts';
import { NGINX_PREFIX } from './annotation-table.ts';
import type { Reader } from './ingress-annotations.ts';
import type { Parsed } from './values.ts';

/** The Secrets of the snapshot by `namespace/name`. */
export type SecretIndex = ReadonlyMap<string, Identified>;

// ingress-nginx's CharsWithSpace: what auth-realm may hold.
const REALM = /^[-._~a-zA-Z0-9/: ]*$/;
// A DNS-1123 subdomain (a Secret's name), optionally after a namespace and a slash.
const SECRET_REF = /^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;
// A user name of an htpasswd line: no control characters (the colon ends it by construction).
const USER = /^[^\u0000-\u001f\u007f]+$/u;

/** The BasicAuth filter of an Ingress, null when it sets no `auth-type`. */
export function basicAuth(id: ObjectIdentity, raw: ReadonlyMap<string, string>, read: Reader, secrets: SecretIndex, sink: DiagnosticSink): BasicAuthFilter | null {
  const at = (name: string): string => `${id.provenance}/annotations/${NGINX_PREFIX}${name}`;
  const type = raw.get('auth-type')?.trim();
  if (type === undefined) {
    const orphan = ['auth-secret', 'auth-secret-type', 'auth-realm'].find((n) => raw.has(n));
    if (orphan !== undefined) sink.report(id, 'AnnotationMissing', 'warning', `${NGINX_PREFIX}${orphan} has no effect without ${NGINX_PREFIX}auth-type: basic`, at(orphan));
    return null;
  }
  const realm = read('auth-realm', realmValue, '');
  const closed = (message: string, where: string): BasicAuthFilter => {
    sink.report(id, 'AuthSecretInvalid', 'error', `${message}; its paths answer 503 until it is fixed (as ingress-nginx denies the location)`, at(where));
    return { type: 'BasicAuth', realm, users: null, forwardAuthorization: false };
  };
  // Only basic gets here; should another, it is closed like an unusable Secret.
  if (type !== 'basic') return closed(`${NGINX_PREFIX}auth-type ${JSON.stringify(type)} is not basic`, 'auth-type');

  const secretType = (raw.get('auth-secret-type') ?? 'auth-file').trim();
  if (secretType !== 'auth-file' && secretType !== 'auth-map') return closed(`${NGINX_PREFIX}auth-secret-type ${JSON.stringify(secretType)} is neither auth-file nor auth-map`, 'auth-secret-type');
  const ref = raw.get('auth-secret')?.trim();
  if (ref === undefined || ref === '') return closed(`${NGINX_PREFIX}auth-type: basic needs ${NGINX_PREFIX}auth-secret, the Secret of the users`, 'auth-type');
  const m = SECRET_REF.exec(ref);
  if (m === null) return closed(`${NGINX_PREFIX}auth-secret ${JSON.stringify(ref)} is not a Secret name (name or namespace/name)`, 'auth-secret');
  const namespace = m[1] ?? id.namespace;
  if (namespace !== id.namespace) return closed(`${NGINX_PREFIX}auth-secret ${ref} is in another namespace than the Ingress, which ingress-nginx does not allow`, 'auth-secret');
  const key = `${namespace}/${m[3]!}`;
  const secret = secrets.get(key);
  if (secret === undefined) return closed(`the auth Secret ${key} does not exist`, 'auth-secret');

  const lines = secretType === 'auth-file' ? fileLines(secret) : mapLines(secret);
  if (typeof lines === 'string') return closed(`the auth Secret ${key} ${lines}`, 'auth-secret');
  const users: BasicAuthUser[] = [];
  const seen = new Set<string>();
  const refused: string[] = [];
  for (const { name, hash } of lines) {
    // nginx takes the first line of a user; a later one is never read.
    if (seen.has(name)) continue;
    seen.add(name);
    const format = hashFormat(hash);
    if (!USER.test(name)) refused.push(`a user name with control characters`);
    else if (format.scheme === null) refused.push(`user ${JSON.stringify(name)} (${format.problem})`);
    else users.push({ name, hash });
  }
  if (refused.length > 0) sink.report(id, 'AuthUserUnsupported', 'error', `the auth Secret ${key} has users signalbox cannot check, who are refused (401): ${refused.join('; ')}`, at('auth-secret'));
  if (users.length === 0) sink.report(id, 'AuthSecretInvalid', 'error', `the auth Secret ${key} holds no user signalbox can check: every request to the Ingress's paths is answered 401`, at('auth-secret'));
  return { type: 'BasicAuth', realm, users, forwardAuthorization: false };
}

/** One `user:hash` of a Secret. */
interface Line {
  readonly name: string;
  readonly hash: string;
}

/**
 * The lines of an htpasswd file in key `auth`, as nginx's `auth_basic_user_file` reads them: empty
 * lines and `#` comments skipped, `user:hash`, the hash ending at the next colon (what follows is a
 * comment). A line without a colon is not a user. Or why the key cannot be read.
 */
function fileLines(secret: Identified): Line[] | string {
  const text = readKey(secret, 'auth');
  if (typeof text !== 'string') return `${text.problem}: an auth-file Secret holds the htpasswd file in its key auth`;
  const out: Line[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rest = line.slice(colon + 1);
    const end = rest.indexOf(':');
    out.push({ name: line.slice(0, colon), hash: end === -1 ? rest : rest.slice(0, end) });
  }
  return out;
}

/** The users of an auth-map Secret: each key a user, its value the hash (a final newline dropped). */
function mapLines(secret: Identified): Line[] | string {
  const keys = new Set<string>();
  for (const part of ['data', 'stringData']) {
    const values = field(secret.obj, part);
    if (isRecord(values)) for (const k of Object.keys(values)) keys.add(k);
  }
  if (keys.size === 0) return 'has no keys: an auth-map Secret holds one key per user';
  const out: Line[] = [];
  for (const name of [...keys].sort()) {
    const value = readKey(secret, name);
    out.push({ name, hash: typeof value === 'string' ? value.replace(/\r?\n$/, '') : '' });
  }
  return out;
}

function realmValue(text: string): Parsed<string> {
  return REALM.test(text) ? { ok: true, value: text } : { ok: false, message: `${JSON.stringify(text)} holds characters ingress-nginx does not allow in a realm (letters, digits, spaces and -._~/:)` };
}
