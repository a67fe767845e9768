/**
 * The ingress-nginx annotations that are really settings of the backend (the upstream protocol,
 * timeouts, balancing, affinity, retries, TLS to the endpoints), read into {@link ClusterOverrides}:
 * the back half gives the Ingress's backends a cluster of their own with them applied over the
 * Service's policy (shared/cluster-overrides.ts). An Ingress without any keeps the Service's cluster.
 */
import type { BackendProtocol, ClusterOverrides, CookieSameSite, HashOn, LbPolicy } from '../../model/policy.ts';
import { TLS_VERSIONS, type TlsVersion } from '../../model/tls-parameters.ts';
import { cipherListProblem } from '../shared/cipher-list.ts';
import { MAX_HASH_SUBSET_SIZE } from '../../model/policy.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import { NGINX_PREFIX } from './annotation-table.ts';
import type { Reader } from './ingress-annotations.ts';
import type { NginxSettings } from './settings.ts';
import { parseBool, parseInteger, parseSeconds, parseSecondsOrNone, type Parsed } from './values.ts';


const PROTOCOLS: Record<string, BackendProtocol> = { HTTP: 'http1', AUTO_HTTP: 'http1', HTTPS: 'https', GRPC: 'h2c', GRPCS: 'h2', H2C: 'h2c' };
const TLS_PROTOCOLS = new Set<BackendProtocol>(['https', 'h2']);
/** The longest connect, and response-header and idle, timeouts a cluster takes (shared/cluster-overrides.ts). */
const MAX_CONNECT_MS = 60_000;
const MAX_READ_MS = 3_600_000;

/**
 * The overrides an Ingress's annotations ask for (reported problems leave their field unset).
 * `keyPairSecrets` (`namespace/name`) are the Secrets with a `tls.crt` and `tls.key`: a
 * `proxy-ssl-secret` naming one presents that certificate to the endpoints too.
 */
export function backendOverrides(id: ObjectIdentity, raw: ReadonlyMap<string, string>, read: Reader, settings: NginxSettings, sink: DiagnosticSink, keyPairSecrets: ReadonlySet<string> = new Set()): ClusterOverrides {
  const at = (name: string): string => `${id.provenance}/annotations/${NGINX_PREFIX}${name}`;
  const out: { -readonly [K in keyof ClusterOverrides]: ClusterOverrides[K] } = {};

  const protocolText = raw.get('backend-protocol')?.trim().toUpperCase();
  if (protocolText !== undefined) {
    const protocol = PROTOCOLS[protocolText];
    if (protocol !== undefined) out.protocol = protocol;
    else if (protocolText === 'FCGI' || protocolText === 'AJP') sink.report(id, 'AnnotationUnsupported', 'warning', `${NGINX_PREFIX}backend-protocol ${protocolText} is not supported; the backend is spoken to over HTTP/1.1`, at('backend-protocol'));
    else sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}backend-protocol ${JSON.stringify(raw.get('backend-protocol'))} is not HTTP, HTTPS, GRPC, GRPCS, H2C or AUTO_HTTP; it is ignored`, at('backend-protocol'));
  }

  // nginx takes any number of seconds; signalbox's clusters connect for a minute and wait for an
  // answer an hour at most (the bounds of its Service annotations). Longer values, common in
  // copied snippets (`proxy-connect-timeout: "300"`) and streaming setups (Plex: a day), are capped
  // and said, never dropped.
  const capped = (name: string, ms: number | null, maxMs: number): number | null => {
    if (ms === null || ms <= maxMs) return ms;
    if (raw.has(name)) sink.report(id, 'AnnotationDiffers', 'warning', `${NGINX_PREFIX}${name}: ${ms / 1000} seconds is longer than signalbox waits; ${maxMs / 1000} seconds is used`, at(name));
    return maxMs;
  };
  const connectMs = capped('proxy-connect-timeout', read<number | null>('proxy-connect-timeout', parseSeconds, settings.connectTimeoutMs), MAX_CONNECT_MS);
  const readMs = capped('proxy-read-timeout', read<number | null>('proxy-read-timeout', parseSeconds, settings.readTimeoutMs), MAX_READ_MS);
  if (connectMs !== null || readMs !== null) {
    out.timeouts = { ...(connectMs === null ? {} : { connectMs }), ...(readMs === null ? {} : { responseHeadersMs: readMs, idleMs: readMs }) };
  }

  const balance = raw.get('load-balance')?.trim();
  if (balance !== undefined) {
    const lb = balancePolicy(balance);
    if (lb !== null) out.lbPolicy = lb;
    else sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}load-balance ${JSON.stringify(balance)} is not round_robin or ewma; it is ignored`, at('load-balance'));
  }
  // The ConfigMap's load-balance, for an Ingress without its own (nginx's http-level default).
  if (out.lbPolicy === undefined && settings.loadBalance !== null) out.lbPolicy = settings.loadBalance;
  const hashBy = raw.get('upstream-hash-by')?.trim();
  if (hashBy !== undefined) {
    const hashOn = hashSource(hashBy);
    if (hashOn !== null) {
      out.lbPolicy = 'ring-hash';
      out.hashOn = hashOn;
      // ingress-nginx's chashsubset: sets of upstream-hash-by-subset-size (0 or unset: 3).
      if (read('upstream-hash-by-subset', parseBool, false)) {
        const size = read('upstream-hash-by-subset-size', (t) => parseInteger(t, 0, MAX_HASH_SUBSET_SIZE), 3);
        out.hashSubsetSize = size === 0 ? 3 : size;
      }
    } else {
      sink.report(id, 'AnnotationUnsupported', 'warning', `${NGINX_PREFIX}upstream-hash-by ${JSON.stringify(hashBy)}: only one of $request_uri, $uri, $remote_addr, $binary_remote_addr, $http_NAME, $cookie_NAME, $arg_NAME can be hashed; it is ignored`, at('upstream-hash-by'));
    }
  }

  if (raw.get('affinity')?.trim() === 'cookie') {
    const name = read('session-cookie-name', cookieName, 'INGRESSCOOKIE');
    const ttl = read('session-cookie-max-age', (t) => parseInteger(t, 0, 2 ** 31 - 1), read('session-cookie-expires', (t) => parseInteger(t, 0, 2 ** 31 - 1), 0));
    const path = read('session-cookie-path', cookiePath, '/');
    const sameSite = read<CookieSameSite | null>('session-cookie-samesite', sameSiteValue, null);
    const conditional = read('session-cookie-conditional-samesite-none', parseBool, false);
    if (conditional && sameSite !== 'None') {
      sink.report(id, 'AnnotationIgnored', 'warning', `${NGINX_PREFIX}session-cookie-conditional-samesite-none has an effect only with session-cookie-samesite: None`, at('session-cookie-conditional-samesite-none'));
    }
    const domain = read<string | null>('session-cookie-domain', cookieDomain, null);
    out.affinity = {
      cookieName: name,
      ttlSeconds: ttl,
      path,
      ...(sameSite === null ? {} : { sameSite }),
      ...(conditional && sameSite === 'None' ? { sameSiteNoneCompatibleOnly: true as const } : {}),
      ...(domain === null ? {} : { domain }),
    };
  } else if (raw.has('affinity')) {
    sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}affinity ${JSON.stringify(raw.get('affinity'))} is not "cookie"; it is ignored`, at('affinity'));
  }

  const tries = read<number | null>('proxy-next-upstream-tries', (t) => parseInteger(t, 0, 100), settings.nextUpstreamTries);
  // Tries count the first one (0 is "as many as there are endpoints" in nginx: the most here).
  const retryMs = read<number | null>('proxy-next-upstream-timeout', parseSecondsOrNone, settings.nextUpstreamTimeoutMs);
  if (tries !== null || retryMs !== null || settings.retryNonIdempotent) {
    out.retry = {
      ...(tries === null ? {} : { attempts: tries === 0 ? 10 : Math.min(10, Math.max(0, tries - 1)) }),
      ...(retryMs === null ? {} : { timeoutMs: retryMs }),
      // nginx's `proxy_next_upstream … non_idempotent`, at http level for every location.
      ...(settings.retryNonIdempotent ? { nonIdempotent: true as const } : {}),
    };
  }

  // TLS to the endpoints: ingress-nginx does not verify unless proxy-ssl-verify is on.
  const tls = out.protocol !== undefined && TLS_PROTOCOLS.has(out.protocol);
  const verify = read('proxy-ssl-verify', onOff, false);
  const secret = read<string | null>('proxy-ssl-secret', sameNamespace(id.namespace), null);
  const serverName = read<string | null>('proxy-ssl-name', hostName, null);
  const versions = read<TlsVersion[] | null>('proxy-ssl-protocols', (t) => sslProtocols(t, (message) => sink.report(id, 'AnnotationDiffers', 'warning', `${NGINX_PREFIX}proxy-ssl-protocols: ${message}`, at('proxy-ssl-protocols'))), null);
  const ciphers = read<string | null>('proxy-ssl-ciphers', cipherList, null);
  if (tls || raw.has('proxy-ssl-verify') || secret !== null || serverName !== null || versions !== null || ciphers !== null) {
    out.tls = {
      verify,
      ...(serverName === null ? {} : { serverName }),
      // nginx's proxy_ssl_protocols is a set; of two versions every set is a range.
      ...(versions === null ? {} : { minVersion: versions[0]!, maxVersion: versions[versions.length - 1]! }),
      ...(ciphers === null ? {} : { ciphers }),
      ...(secret === null ? {} : { ca: { kind: 'Secret' as const, name: secret, key: 'ca.crt' } }),
      // ingress-nginx's proxy_ssl_certificate: the Secret's own certificate, when it has one
      // (cert-manager's Secrets: tls.crt, tls.key and ca.crt).
      ...(secret !== null && keyPairSecrets.has(`${id.namespace}/${secret}`) ? { clientCertificate: secret } : {}),
    };
  }
  return out;
}

/** ingress-nginx's `load-balance` (annotation and ConfigMap key): `round_robin` or `ewma`; null for anything else. */
export function balancePolicy(text: string): LbPolicy | null {
  const t = text.trim();
  return t === 'round_robin' ? 'round-robin' : t === 'ewma' ? 'ewma' : null;
}

/** The versions nginx's protocol names signalbox never offers: RFC 8996, and Node's OpenSSL refuses them. */
const REFUSED_PROTOCOLS = new Set(['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1']);

/**
 * `proxy-ssl-protocols` (`TLSv1.2 TLSv1.3`, nginx's names separated by spaces): the versions,
 * oldest first. Older versions are dropped and said through `differs`; a list of nothing else is
 * invalid, as is an unknown name.
 */
export function sslProtocols(text: string, differs: (message: string) => void): Parsed<TlsVersion[]> {
  const words = text.trim().split(/\s+/).filter((w) => w !== '');
  const unknown = words.find((w) => !REFUSED_PROTOCOLS.has(w) && !(TLS_VERSIONS as readonly string[]).includes(w));
  if (unknown !== undefined) return { ok: false, message: `${JSON.stringify(unknown)} is not one of ${TLS_VERSIONS.join(', ')}` };
  const versions = TLS_VERSIONS.filter((v) => words.includes(v));
  const refused = words.filter((w) => REFUSED_PROTOCOLS.has(w));
  if (versions.length === 0) return { ok: false, message: `${refused.join(' ') || 'nothing'}: only ${TLS_VERSIONS.join(' and ')} are spoken (TLS 1.0 and 1.1 are deprecated by RFC 8996 and refused by Node.js's OpenSSL)` };
  if (refused.length > 0) differs(`${refused.join(' ')} ${refused.length === 1 ? 'is' : 'are'} never offered (deprecated by RFC 8996, refused by Node.js's OpenSSL); ${versions.join(' ')} ${versions.length === 1 ? 'is' : 'are'}`);
  return { ok: true, value: versions };
}

function cipherList(text: string): Parsed<string> {
  const problem = cipherListProblem(text.trim());
  return problem === null ? { ok: true, value: text.trim() } : { ok: false, message: problem };
}

/** `$request_uri` and the other single nginx variables a hash can be taken of. */
function hashSource(text: string): HashOn | null {
  if (text === '$request_uri' || text === '$uri') return { source: 'uri' };
  if (text === '$remote_addr' || text === '$binary_remote_addr') return { source: 'client-ip' };
  const m = /^\$(http|cookie|arg)_([A-Za-z0-9_-]+)$/.exec(text);
  if (m === null) return null;
  if (m[1] === 'http') return { source: 'header', name: m[2]!.toLowerCase().replace(/_/g, '-') };
  return { source: m[1] === 'cookie' ? 'cookie' : 'query', name: m[2]! };
}

function onOff(text: string): Parsed<boolean> {
  const t = text.trim();
  if (t === 'on') return { ok: true, value: true };
  if (t === 'off') return { ok: true, value: false };
  return parseBool(t);
}

function cookieName(text: string): Parsed<string> {
  const t = text.trim();
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(t) ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not a cookie name` };
}

function cookiePath(text: string): Parsed<string> {
  const t = text.trim();
  return /^\/[\x21-\x3a\x3c-\x7e]*$/.test(t) ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not a cookie path` };
}

/** ingress-nginx takes None, Lax and Strict in any case; the cookie says them as browsers document them. */
function sameSiteValue(text: string): Parsed<CookieSameSite> {
  const t = text.trim().toLowerCase();
  const value = t === 'none' ? 'None' : t === 'lax' ? 'Lax' : t === 'strict' ? 'Strict' : null;
  return value === null ? { ok: false, message: `${JSON.stringify(text)} is not None, Lax or Strict` } : { ok: true, value };
}

/** A cookie's Domain: a host name; a leading dot, which browsers ignore (RFC 6265 §5.2.3), is dropped. */
function cookieDomain(text: string): Parsed<string> {
  const t = text.trim().toLowerCase().replace(/^\./, '');
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(t) ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not a domain name` };
}

function hostName(text: string): Parsed<string> {
  const t = text.trim().toLowerCase();
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(t) ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not a host name` };
}

/** `namespace/name` (or `name`) of a Secret in the Ingress's own namespace. */
function sameNamespace(namespace: string): (text: string) => Parsed<string> {
  return (text) => {
    const parts = text.trim().split('/');
    const [ns, name] = parts.length === 2 ? parts : [namespace, parts[0]];
    if (parts.length > 2 || name === undefined || !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(name)) return { ok: false, message: `${JSON.stringify(text)} is not namespace/name of a Secret` };
    if (ns !== namespace) return { ok: false, message: `the Secret ${text.trim()} is in another namespace than the Ingress (allow-cross-namespace-resources is not supported)` };
    return { ok: true, value: name };
  };
}
