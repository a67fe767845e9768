/**
 * Reading the ingress-nginx controller ConfigMap into {@link NginxSettings}: each supported key
 * changes the profile's default; a value that does not parse is reported and its default kept; keys
 * signalbox does not honour are reported once, by name (config-map-keys.ts says what each is).
 */
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { isRecord } from '../shared/guards.ts';
import type { Identified } from '../shared/objects.ts';
import { RISK_LEVELS, type RiskLevel } from './annotation-table.ts';
import { globalExternalAuth, UNUSABLE_AUTH } from './auth-annotations.ts';
import { MAX_RATE_KB } from './rate-limit-annotations.ts';
import { nginxConfigKey } from './config-map-keys.ts';
import { compressFilter, isCompressionKey, type CompressionKey } from './compression-settings.ts';
import { parseErrorCodes } from './default-backend-annotations.ts';
import { headerEntries } from './header-fields.ts';
import { parseBlockCidrs, parseMapPatterns, type BadEntry } from './block-lists.ts';
import { readResponseRewrite, RESPONSE_REWRITE_KEYS, type ResponseRewriteKey } from './response-rewrite-annotations.ts';
import type { HeaderField, NginxSettings, RedirectCode } from './settings.ts';
import { canonicalTlsParameters } from '../../model/tls-parameters.ts';
import { cipherListProblem } from '../shared/cipher-list.ts';
import { balancePolicy, sslProtocols } from './backend-annotations.ts';
import { parseBool, parseCidrList, parseInteger, parseNginxSize, parseSeconds, parseSecondsOrNone, parseHeaderNameList, type Parsed } from './values.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The settings `defaults` become with the ConfigMap `name` (`namespace/name`, null: none).
 * `explicit` says the name came from a flag: then a missing ConfigMap is reported (the chart's
 * default name missing just means ingress-nginx's defaults).
 */
export function readNginxConfigMap(name: string | null, explicit: boolean, defaults: NginxSettings, configMaps: ReadonlyMap<string, Identified>, sink: DiagnosticSink): NginxSettings {
  if (name === null) return defaults;
  const item = configMaps.get(name);
  if (item === undefined) {
    if (explicit) {
      const [namespace = '', object = ''] = name.split('/');
      sink.report({ kind: 'ConfigMap', namespace, name: object }, 'NginxConfigMapNotFound', 'warning', `ConfigMap ${name} (--nginx-configmap) does not exist; ingress-nginx's defaults apply`);
    }
    return defaults;
  }
  const data = item.obj['data'];
  if (!isRecord(data)) return defaults;
  const out: Mutable<NginxSettings> = { ...defaults };
  const ignored: string[] = [];
  const rewrites: Partial<Record<ResponseRewriteKey, string>> = {};
  const compression: Partial<Record<CompressionKey, string>> = {};
  for (const key of Object.keys(data).sort()) {
    const raw = data[key];
    const at = `${item.id.provenance}/data/${key}`;
    const take = <T>(parsed: Parsed<T>, apply: (value: T) => void): void => {
      if (parsed.ok) apply(parsed.value);
      else sink.report(item.id, 'NginxConfigInvalid', 'error', `${key}: ${parsed.message}; its default is used`, at);
    };
    // The entries of a list that cannot be honoured; the others still apply.
    const leftOut = (bad: readonly BadEntry[]): void => {
      if (bad.length > 0) sink.report(item.id, 'NginxConfigInvalid', 'error', `${key}: ${bad.map((b) => `${JSON.stringify(b.entry)} ${b.message}`).join('; ')}; left out`, at);
    };
    if (typeof raw !== 'string') {
      sink.report(item.id, 'NginxConfigInvalid', 'error', `${key}: the value is not a string; its default is used`, at);
      continue;
    }
    switch (key) {
      case 'proxy-body-size': take(parseNginxSize(raw), (v) => (out.proxyBodySize = v)); break;
      case 'ssl-redirect': take(parseBool(raw), (v) => (out.sslRedirect = v)); break;
      case 'force-ssl-redirect': take(parseBool(raw), (v) => (out.forceSslRedirect = v)); break;
      case 'use-port-in-redirects': take(parseBool(raw), (v) => (out.usePortInRedirects = v)); break;
      case 'relative-redirects': take(parseBool(raw), (v) => (out.relativeRedirects = v)); break;
      case 'http-redirect-code': take(parseRedirectCode(raw), (v) => (out.httpRedirectCode = v)); break;
      case 'hsts': take(parseBool(raw), (v) => (out.hsts = v ? (out.hsts ?? { maxAgeSeconds: 31_536_000, includeSubdomains: true, preload: false }) : null)); break;
      case 'hsts-max-age': take(parseInteger(raw, 0, 2 ** 31 - 1), (v) => { if (out.hsts !== null) out.hsts = { ...out.hsts, maxAgeSeconds: v }; }); break;
      case 'hsts-include-subdomains': take(parseBool(raw), (v) => { if (out.hsts !== null) out.hsts = { ...out.hsts, includeSubdomains: v }; }); break;
      case 'hsts-preload': take(parseBool(raw), (v) => { if (out.hsts !== null) out.hsts = { ...out.hsts, preload: v }; }); break;
      case 'allow-snippet-annotations': take(parseBool(raw), (v) => (out.allowSnippetAnnotations = v)); break;
      case 'annotations-risk-level': take(parseRiskLevel(raw), (v) => (out.riskLevel = v)); break;
      case 'whitelist-source-range': take(parseCidrList(raw), (v) => (out.allowSourceRange = v)); break;
      case 'denylist-source-range': take(parseCidrList(raw), (v) => (out.denySourceRange = v)); break;
      case 'proxy-connect-timeout': take(parseSeconds(raw), (v) => (out.connectTimeoutMs = v)); break;
      case 'proxy-read-timeout': take(parseSeconds(raw), (v) => (out.readTimeoutMs = v)); break;
      case 'ssl-ciphers': take(cipherList(raw), (v) => (out.hostTls = { ...out.hostTls, ciphers: v })); break;
      case 'ssl-protocols':
        take(sslProtocols(raw, (message) => sink.report(item.id, 'NginxConfigUnsupported', 'warning', `${key}: ${message}`, at)), (v) => {
          const versions = canonicalTlsParameters({ minVersion: v[0]!, maxVersion: v[v.length - 1]! });
          const { minVersion: _min, maxVersion: _max, ...rest } = out.hostTls ?? {};
          const next = { ...rest, ...versions };
          out.hostTls = Object.keys(next).length === 0 ? null : next;
        });
        break;
      case 'proxy-next-upstream-timeout': take(parseSecondsOrNone(raw), (v) => (out.nextUpstreamTimeoutMs = v)); break;
      case 'retry-non-idempotent': take(parseBool(raw), (v) => (out.retryNonIdempotent = v)); break;
      case 'load-balance': {
        const lb = balancePolicy(raw);
        take(lb === null ? { ok: false, message: `${JSON.stringify(raw)} is not round_robin or ewma` } : { ok: true, value: lb }, (v) => (out.loadBalance = v));
        break;
      }
      case 'proxy-next-upstream-tries': take(parseInteger(raw, 0, 100), (v) => (out.nextUpstreamTries = v)); break;
      case 'strict-validate-path-type': take(parseBool(raw), (v) => (out.strictValidatePathType = v)); break;
      case 'custom-http-errors': take(parseErrorCodes(raw), (v) => (out.customHttpErrors = v)); break;
      case 'generate-request-id': take(parseBool(raw), (v) => (out.generateRequestId = v)); break;
      case 'proxy-set-headers': out.proxySetHeaders = headersOf(key, raw, item, configMaps, sink); break;
      case 'add-headers': out.addHeaders = headersOf(key, raw, item, configMaps, sink); break;
      case 'hide-headers': {
        const { names, bad } = parseHeaderNameList(raw);
        if (bad.length > 0) sink.report(item.id, 'NginxConfigInvalid', 'error', `${key}: ${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is not a header name' : 'are not header names'}; left out`, at);
        out.hideHeaders = names;
        break;
      }
      case 'forwarded-for-header': take(forwardedForHeader(raw), (v) => (out.forwardedForHeader = v)); break;
      case 'proxy-add-original-uri-header': take(parseBool(raw), (v) => (out.addOriginalUriHeader = v)); break;
      case 'block-cidrs': {
        const { cidrs, bad } = parseBlockCidrs(raw);
        leftOut(bad);
        out.blockCidrs = cidrs;
        break;
      }
      case 'skip-access-log-urls': {
        // nginx's `map $request_uri $loggable`: strings are whole targets, `~` patterns search them.
        const { matches, bad } = parseMapPatterns(raw);
        leftOut(bad);
        out.skipAccessLogUrls = matches;
        break;
      }
      case 'block-user-agents': case 'block-referers': {
        const { matches, bad } = parseMapPatterns(raw);
        leftOut(bad);
        if (key === 'block-user-agents') out.blockUserAgents = matches;
        else out.blockReferers = matches;
        break;
      }
      case 'global-allowed-response-headers': out.allowedResponseHeaders = raw.split(',').map((h) => h.trim()).filter((h) => h !== ''); break;
      case 'no-auth-locations': out.noAuthLocations = raw.split(',').map((l) => l.trim()).filter((l) => l !== ''); break;
      case 'no-tls-redirect-locations': out.noTlsRedirectLocations = raw.split(',').map((l) => l.trim()).filter((l) => l !== ''); break;
      case 'global-auth-url': case 'global-auth-method': case 'global-auth-signin': case 'global-auth-signin-redirect-param':
      case 'global-auth-response-headers': case 'global-auth-request-redirect': case 'global-auth-always-set-cookie':
      case 'global-auth-cache-key': case 'global-auth-cache-duration':
        break;
      // nginx's limit_req_status and limit_conn_status take 400..599.
      case 'limit-req-status-code': take(parseInteger(raw, 400, 599), (v) => (out.limitReqStatusCode = v)); break;
      case 'limit-conn-status-code': take(parseInteger(raw, 400, 599), (v) => (out.limitConnStatusCode = v)); break;
      // proxy-redirect-to is read although ingress-nginx's documentation leaves it out (its config.go has it).
      case 'proxy-redirect-from': case 'proxy-redirect-to': case 'proxy-cookie-path': case 'proxy-cookie-domain':
        rewrites[key] = raw;
        break;
      case 'limit-rate': take(parseInteger(raw, 0, MAX_RATE_KB), (v) => (out.limitRate = v)); break;
      case 'limit-rate-after': take(parseInteger(raw, 0, MAX_RATE_KB), (v) => (out.limitRateAfter = v)); break;
      default:
        if (isCompressionKey(key)) {
          compression[key] = raw;
          break;
        }
        // Keys ingress-nginx documents as nginx internals are ignored silently; the rest are named.
        if (nginxConfigKey(key)?.support !== 'not-applicable') ignored.push(key);
    }
  }
  out.responseRewrites = responseRewrites(rewrites, item, sink);
  out.compress = compressFilter(compression, (key, message) => sink.report(item.id, 'NginxConfigInvalid', 'error', `${key}: ${message}`, `${item.id.provenance}/data/${key}`));
  const globalAuth = globalExternalAuth(data, (key, message) => sink.report(item.id, 'NginxConfigInvalid', 'error', `${key}: ${message}`, `${item.id.provenance}/data/${key}`));
  if (globalAuth !== null) out.globalAuth = globalAuth === UNUSABLE_AUTH ? 'unusable' : globalAuth;
  if (ignored.length > 0) {
    sink.report(item.id, 'NginxConfigUnsupported', 'warning', `these keys are not honoured and are ignored: ${ignored.join(', ')} (docs/migrating-from-ingress-nginx.md says why)`, `${item.id.provenance}/data`);
  }
  return out;
}

/**
 * The ConfigMap's response rewrite keys that every Ingress takes as its defaults: a value that is
 * not usable is reported and left out (`off`). `proxy-redirect-from` without `proxy-redirect-to`
 * is said here and kept: an Ingress's `proxy-redirect-to` completes it.
 */
function responseRewrites(values: Partial<Record<ResponseRewriteKey, string>>, item: Identified, sink: DiagnosticSink): Partial<Record<ResponseRewriteKey, string>> {
  const kept = { ...values };
  for (const p of readResponseRewrite(values).problems) {
    const suffix = p.kind === 'ineffective' ? ', unless an Ingress sets proxy-redirect-to' : '; its default (off) is used';
    sink.report(item.id, 'NginxConfigInvalid', 'error', `${p.key}: ${p.message}${suffix}`, `${item.id.provenance}/data/${p.key}`);
    if (p.kind !== 'ineffective') delete kept[p.key];
  }
  return Object.fromEntries(RESPONSE_REWRITE_KEYS.filter((k) => kept[k] !== undefined).map((k) => [k, kept[k]!]));
}

function parseRedirectCode(text: string): Parsed<RedirectCode> {
  const n = parseInteger(text, 0, 999);
  if (!n.ok) return n;
  if (n.value === 301 || n.value === 302 || n.value === 307 || n.value === 308) return { ok: true, value: n.value };
  return { ok: false, message: `${n.value} is not 301, 302, 307 or 308` };
}

function parseRiskLevel(text: string): Parsed<RiskLevel> {
  const t = text.trim();
  const level = RISK_LEVELS.find((l) => l.toLowerCase() === t.toLowerCase());
  return level === undefined ? { ok: false, message: `${JSON.stringify(text)} is not Low, Medium, High or Critical` } : { ok: true, value: level };
}

/**
 * The header fields of the ConfigMap that `key` (`proxy-set-headers`, `add-headers`) names —
 * `namespace/name`, or a name in the controller ConfigMap's namespace. An entry that cannot be
 * sent (header-fields.ts) is reported and left out; the others are set.
 */
function headersOf(key: string, ref: string, item: Identified, configMaps: ReadonlyMap<string, Identified>, sink: DiagnosticSink): HeaderField[] {
  const at = `${item.id.provenance}/data/${key}`;
  const name = ref.includes('/') ? ref.trim() : `${item.id.namespace}/${ref.trim()}`;
  const source = configMaps.get(name);
  if (source === undefined) {
    sink.report(item.id, 'NginxConfigInvalid', 'error', `${key}: ConfigMap ${name} does not exist; no header is set from it`, at);
    return [];
  }
  const entries = headerEntries(source);
  const bad = entries.filter((e) => e.problem !== null);
  if (bad.length > 0) {
    sink.report(item.id, 'NginxConfigInvalid', 'error', `${key}: ConfigMap ${name}: ${bad.map((e) => `${e.name} ${e.problem!}`).join('; ')}; left out`, at);
  }
  return entries.filter((e) => e.problem === null).map((e) => e.field);
}

/**
 * The one header `forwarded-for-header` names, lower-cased: not Host or a hop-by-hop field, which
 * never carry a client's address through a proxy.
 */
function forwardedForHeader(text: string): Parsed<string> {
  const { names, bad } = parseHeaderNameList(text);
  if (bad.length > 0 || names.length !== 1) return { ok: false, message: `${JSON.stringify(text)} is not one header name` };
  const name = names[0]!;
  if (name === 'host' || name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding' || name === 'te' || name === 'upgrade') return { ok: false, message: `${name} cannot carry the client address` };
  return { ok: true, value: name };
}

/** An OpenSSL cipher list OpenSSL matches a cipher with (`ssl-ciphers`). */
function cipherList(text: string): Parsed<string> {
  const problem = cipherListProblem(text.trim());
  return problem === null ? { ok: true, value: text.trim() } : { ok: false, message: problem };
}
