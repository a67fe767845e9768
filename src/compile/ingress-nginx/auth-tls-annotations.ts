/**
 * ingress-nginx's client-certificate authentication — `auth-tls-secret`, `auth-tls-verify-client`,
 * `auth-tls-verify-depth`, `auth-tls-error-page`, `auth-tls-pass-certificate-to-upstream`,
 * `auth-tls-match-cn` — read into a {@link ClientCertificateAuth} with the CA bundle of the Secret.
 *
 * Never served without the check: a Secret that cannot be used (missing, in another namespace, no
 * `ca.crt`, not PEM certificates, a `ca.crl` that is no CRL) or an error page or match-cn that does
 * not parse refuses the whole Ingress (ingress-nginx denies its locations). A verify-client that is
 * not one of its four values falls back to `on`, and a depth that is not a positive integer to 1,
 * as in ingress-nginx (internal/ingress/annotations/authtls/main.go).
 */
import { X509Certificate } from 'node:crypto';
import type { ClientCertificateAuth } from '../../model/table.ts';
import { compilePattern } from '../../regex/compile-pattern.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import { readKey } from '../shared/tls.ts';
import { NGINX_PREFIX } from './annotation-table.ts';
import type { SecretIndex } from './basic-auth-annotations.ts';
import type { Reader } from './ingress-annotations.ts';
import { parseBool, type Parsed } from './values.ts';

/** What {@link clientCertificateAuth} gives when the Ingress must not be served (reported). */
export const REFUSED_AUTH_TLS = 'refused-auth-tls';

// ingress-nginx's auth-tls-secret validator: BasicCharsRegex (letters, digits, '-', '.', '_', '/').
const SECRET_REF = /^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;
// ingress-nginx's redirectRegex for auth-tls-error-page (a named location `@x` has no meaning here).
const ERROR_PAGE = /^(((https?:\/\/)?[A-Za-z0-9\-.]+(:\d+)?)?(\/[A-Za-z0-9\-_.]+)*\/?)$/;
const MODES = new Set(['on', 'off', 'optional', 'optional_no_ca']);
const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The client-certificate check of an Ingress: null when it sets no `auth-tls-secret` (or sets
 * `auth-tls-verify-client: off`), {@link REFUSED_AUTH_TLS} (reported) when it cannot be made.
 */
export function clientCertificateAuth(id: ObjectIdentity, raw: ReadonlyMap<string, string>, read: Reader, secrets: SecretIndex, sink: DiagnosticSink): ClientCertificateAuth | null | typeof REFUSED_AUTH_TLS {
  const at = (name: string): string => `${id.provenance}/annotations/${NGINX_PREFIX}${name}`;
  const ref = raw.get('auth-tls-secret')?.trim();
  if (ref === undefined) {
    const orphan = ['auth-tls-verify-client', 'auth-tls-verify-depth', 'auth-tls-error-page', 'auth-tls-pass-certificate-to-upstream', 'auth-tls-match-cn'].find((n) => raw.has(n));
    if (orphan !== undefined) sink.report(id, 'AnnotationMissing', 'warning', `${NGINX_PREFIX}${orphan} has no effect without ${NGINX_PREFIX}auth-tls-secret`, at(orphan));
    return null;
  }
  const mode = read('auth-tls-verify-client', verifyMode, 'on');
  if (mode === 'off') return null;
  const refuse = (code: 'AuthTLSSecretInvalid' | 'AnnotationInvalid', message: string, where: string): typeof REFUSED_AUTH_TLS => {
    sink.report(id, code, 'error', `${message}; nothing of the Ingress is served rather than served without its client-certificate check`, at(where));
    return REFUSED_AUTH_TLS;
  };
  const m = SECRET_REF.exec(ref);
  if (m === null) return refuse('AuthTLSSecretInvalid', `${NGINX_PREFIX}auth-tls-secret ${JSON.stringify(ref)} is not a Secret name (namespace/name)`, 'auth-tls-secret');
  const namespace = m[1] ?? id.namespace;
  if (namespace !== id.namespace) return refuse('AuthTLSSecretInvalid', `${NGINX_PREFIX}auth-tls-secret ${ref} is in another namespace than the Ingress, which ingress-nginx does not allow by default`, 'auth-tls-secret');
  const key = `${namespace}/${m[3]!}`;
  const secret = secrets.get(key);
  if (secret === undefined) return refuse('AuthTLSSecretInvalid', `the CA Secret ${key} does not exist`, 'auth-tls-secret');
  const ca = readKey(secret, 'ca.crt');
  if (typeof ca !== 'string') return refuse('AuthTLSSecretInvalid', `the CA Secret ${key} ${ca.problem}`, 'auth-tls-secret');
  const caPem = certificates(ca);
  if (caPem === null) return refuse('AuthTLSSecretInvalid', `the CA Secret ${key} has a ca.crt that is not PEM certificates`, 'auth-tls-secret');
  let crlPem: string | null = null;
  const crl = readKey(secret, 'ca.crl');
  if (typeof crl === 'string') {
    if (!/^\s*-----BEGIN X509 CRL-----[\s\S]+-----END X509 CRL-----\s*$/.test(crl)) return refuse('AuthTLSSecretInvalid', `the CA Secret ${key} has a ca.crl that is not a PEM CRL`, 'auth-tls-secret');
    crlPem = crl.trim() + '\n';
  }

  const errorPage = raw.get('auth-tls-error-page');
  let page: string | null = null;
  if (errorPage !== undefined) {
    const parsed = errorPageValue(errorPage);
    if (!parsed.ok) return refuse('AnnotationInvalid', `${NGINX_PREFIX}auth-tls-error-page: ${parsed.message}`, 'auth-tls-error-page');
    page = parsed.value;
  }
  const cn = raw.get('auth-tls-match-cn');
  let matchCN: string | null = null;
  if (cn !== undefined) {
    const parsed = matchCnValue(cn);
    if (!parsed.ok) return refuse('AnnotationInvalid', `${NGINX_PREFIX}auth-tls-match-cn: ${parsed.message}`, 'auth-tls-match-cn');
    matchCN = parsed.value;
  }
  return {
    secret: key,
    caPem,
    crlPem,
    verify: mode,
    depth: read('auth-tls-verify-depth', depthValue, 1),
    errorPage: page,
    passCertificate: read('auth-tls-pass-certificate-to-upstream', parseBool, false),
    matchCN,
    provenance: at('auth-tls-secret'),
  };
}

/** The PEM certificates of `text`, each checked to parse, joined; null when there is none or one does not parse. */
function certificates(text: string): string | null {
  const blocks = text.match(CERTIFICATE) ?? [];
  if (blocks.length === 0) return null;
  try {
    for (const block of blocks) new X509Certificate(block);
  } catch {
    return null;
  }
  return blocks.join('\n') + '\n';
}

function verifyMode(text: string): Parsed<'on' | 'off' | 'optional' | 'optional_no_ca'> {
  const t = text.trim();
  return MODES.has(t) ? { ok: true, value: t as 'on' } : { ok: false, message: `${JSON.stringify(text)} is not on, off, optional or optional_no_ca (the default, on, applies)` };
}

function depthValue(text: string): Parsed<number> {
  const t = text.trim();
  const n = /^\d{1,3}$/.test(t) ? Number(t) : NaN;
  // ingress-nginx reads 0 as the default, 1.
  if (n === 0) return { ok: true, value: 1 };
  return n >= 1 && n <= 100 ? { ok: true, value: n } : { ok: false, message: `${JSON.stringify(text)} is not a depth from 1 to 100` };
}

function errorPageValue(text: string): Parsed<string> {
  const t = text.trim();
  if (t === '' || !ERROR_PAGE.test(t)) return { ok: false, message: `${JSON.stringify(text)} is not a URL or path (ingress-nginx's auth-tls-error-page syntax)` };
  return { ok: true, value: t };
}

function matchCnValue(text: string): Parsed<string> {
  const t = text.trim();
  if (!t.startsWith('CN=')) return { ok: false, message: `${JSON.stringify(text)} does not start with CN=` };
  const compiled = compilePattern(searchPattern(t));
  if (!compiled.ok) return { ok: false, message: `${JSON.stringify(text)}: ${compiled.message}` };
  return { ok: true, value: t };
}

/**
 * The whole-string pattern that holds where `pattern` matches somewhere in the subject DN (nginx
 * tests `$ssl_client_s_dn ~ pattern`, a search); the data plane compiles the same.
 */
export function searchPattern(pattern: string): string {
  return `.*(?:${pattern}).*`;
}
