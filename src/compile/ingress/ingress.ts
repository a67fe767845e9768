/**
 * The Ingress processor: turns one Ingress (any shape) into the paths, default backend and TLS
 * entries it asks for. Each Ingress is read on its own; front-end.ts turns what it asks for into
 * route candidates, and the back half merges them and resolves them against Services and Secrets
 * once all Ingresses are known.
 */
import type { PathMatchType } from '../../model/table.ts';
import type { ParsedPath } from './paths.ts';
import type { HostName, ServiceRef } from '../shared/candidates.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { parseBackend } from './backend.ts';
import { reportForeignAnnotations } from './foreign-annotations.ts';
import { field, isDns1123Subdomain, isRecord, isUnset, type Dict } from '../shared/guards.ts';
import { parseHostName, parseRuleHost } from './hosts.ts';
import { parsePath, PLAIN_PATHS, regexLookalike, type PathMode } from './paths.ts';
import { describe, type ObjectIdentity } from '../shared/objects.ts';

/** One path of one rule, validated but not yet merged or resolved. */
export interface IngressPath {
  readonly host: HostName;
  readonly pathType: PathMatchType;
  /** See {@link ParsedPath.rawType}. */
  readonly rawType: ParsedPath['rawType'];
  readonly path: string;
  /** See {@link ParsedPath.key}. */
  readonly key: string;
  readonly ref: ServiceRef;
  /** `Ingress/ns/name/rule/i/path/j`. */
  readonly provenance: string;
  /** `Ingress/ns/name/rule/i`. */
  readonly ruleProvenance: string;
}

/** A validated `spec.defaultBackend`. */
export interface DefaultBackendCandidate {
  readonly ref: ServiceRef;
  /** `Ingress/ns/name/defaultBackend`. */
  readonly provenance: string;
}

/** A validated `spec.tls[]` entry. */
export interface IngressTLS {
  readonly secretName: string;
  /** Lower-case SNI names, never empty: the entry's `hosts`, or the hosts of the Ingress's rules. */
  readonly hosts: readonly string[];
  /** `Ingress/ns/name/tls/k`. */
  readonly provenance: string;
}

/** Everything one Ingress asks for, in the order it wrote it. */
export interface IngressContribution {
  readonly paths: readonly IngressPath[];
  readonly defaultBackend: DefaultBackendCandidate | null;
  readonly tls: readonly IngressTLS[];
  /**
   * The hosts of `spec.tls` entries without a secretName, when {@link TlsMode.defaultCertificate}:
   * they have TLS with the proxy's default certificate. Empty otherwise.
   */
  readonly defaultCertificateHosts: readonly string[];
}

/** How `spec.tls` is read. */
export interface TlsMode {
  /**
   * ingress-nginx's reading: an entry without secretName gives its hosts TLS with the controller's
   * default certificate (`--default-ssl-certificate`, else a self-signed one), so the redirect to
   * HTTPS and HSTS apply to them. Otherwise such an entry is reported and ignored.
   */
  readonly defaultCertificate: boolean;
}

const SECRET_REQUIRED: TlsMode = Object.freeze({ defaultCertificate: false });

/**
 * Reads one of our Ingresses. Every invalid part (rule, path, backend, TLS entry) is reported to
 * `sink` and dropped; the rest is returned.
 */
export function parseIngress(id: ObjectIdentity, obj: Dict, sink: DiagnosticSink, mode: PathMode = PLAIN_PATHS, tlsMode: TlsMode = SECRET_REQUIRED): IngressContribution {
  reportForeignAnnotations(id, obj, sink);
  const spec = field(obj, 'spec');
  const paths: IngressPath[] = [];
  if (!isRecord(spec)) {
    sink.report(id, 'ObjectInvalid', 'error', `spec must be an object, got ${describe(spec)}; nothing of the Ingress is served`);
    return { paths, defaultBackend: null, tls: [], defaultCertificateHosts: [] };
  }
  const ruleHosts: string[] = [];
  const rules = field(spec, 'rules');
  if (!isUnset(rules) && !Array.isArray(rules)) {
    sink.report(id, 'IngressRuleInvalid', 'error', 'spec.rules must be a list', `${id.provenance}/rules`);
  }
  const ruleList: readonly unknown[] = Array.isArray(rules) ? rules : [];
  ruleList.forEach((rule, i) => {
    const ruleProvenance = `${id.provenance}/rule/${i}`;
    if (!isRecord(rule)) {
      sink.report(id, 'IngressRuleInvalid', 'error', `a rule must be an object, got ${describe(rule)}`, ruleProvenance);
      return;
    }
    const host = parseRuleHost(field(rule, 'host'));
    if (typeof host === 'string') {
      sink.report(id, 'IngressHostInvalid', 'error', `${host}; the rule is ignored`, `${ruleProvenance}/host`);
      return;
    }
    if (host.match !== 'any' && !ruleHosts.includes(host.host)) ruleHosts.push(host.host);
    // A rule with a host and no `http` is valid and routes nothing of its own.
    const http = field(rule, 'http');
    if (isUnset(http)) return;
    const rulePaths = field(http, 'paths');
    if (!Array.isArray(rulePaths)) {
      sink.report(id, 'IngressRuleInvalid', 'error', 'http.paths must be a list', `${ruleProvenance}/http`);
      return;
    }
    (rulePaths as readonly unknown[]).forEach((entry, j) => {
      const provenance = `${ruleProvenance}/path/${j}`;
      if (!isRecord(entry)) {
        sink.report(id, 'IngressPathInvalid', 'error', `a path must be an object, got ${describe(entry)}`, provenance);
        return;
      }
      const parsed = parsePath(field(entry, 'path'), field(entry, 'pathType'), mode);
      if ('code' in parsed) {
        sink.report(id, parsed.code, 'error', `${parsed.message}; the path is ignored`, provenance);
        return;
      }
      const lookalike = regexLookalike(parsed, field(entry, 'pathType'), mode);
      if (lookalike !== null) sink.report(id, 'IngressPathRegexNotSupported', 'warning', lookalike, provenance);
      const ref = parseBackend(field(entry, 'backend'));
      if ('code' in ref) {
        sink.report(id, ref.code, 'error', `${ref.message}; the path is ignored`, provenance);
        return;
      }
      paths.push({ host, ...parsed, ref, provenance, ruleProvenance });
    });
  });
  const defaultCertificateHosts: string[] = [];
  const tls = parseTLS(id, spec, ruleHosts, sink, tlsMode.defaultCertificate ? defaultCertificateHosts : null);
  return { paths, defaultBackend: parseDefaultBackend(id, spec, sink), tls, defaultCertificateHosts };
}

function parseDefaultBackend(id: ObjectIdentity, spec: Dict, sink: DiagnosticSink): DefaultBackendCandidate | null {
  const value = field(spec, 'defaultBackend');
  if (isUnset(value)) return null;
  const provenance = `${id.provenance}/defaultBackend`;
  const ref = parseBackend(value);
  if ('code' in ref) {
    sink.report(id, ref.code, 'error', `${ref.message}; the default backend is ignored`, provenance);
    return null;
  }
  return { ref, provenance };
}

/** `defaultCertificateHosts`, when given, collects the hosts of entries without secretName instead of reporting them. */
function parseTLS(id: ObjectIdentity, spec: Dict, ruleHosts: readonly string[], sink: DiagnosticSink, defaultCertificateHosts: string[] | null): IngressTLS[] {
  const value = field(spec, 'tls');
  if (isUnset(value)) return [];
  if (!Array.isArray(value)) {
    sink.report(id, 'TLSConfigInvalid', 'error', 'spec.tls must be a list', `${id.provenance}/tls`);
    return [];
  }
  const out: IngressTLS[] = [];
  (value as readonly unknown[]).forEach((entry, k) => {
    const provenance = `${id.provenance}/tls/${k}`;
    const invalid = (message: string): void => sink.report(id, 'TLSConfigInvalid', 'error', `${message}; the TLS entry is ignored`, provenance);
    if (!isRecord(entry)) return invalid(`a TLS entry must be an object, got ${describe(entry)}`);
    const secretName = field(entry, 'secretName');
    // The API allows omitting secretName (SNI routing without a certificate); a proxy that
    // terminates TLS needs a certificate, so such an entry has nothing for us to serve — unless
    // the default certificate stands in for it (ingress-nginx).
    if (isUnset(secretName) && defaultCertificateHosts === null) return invalid('secretName is required');
    if (!isUnset(secretName) && (typeof secretName !== 'string' || !isDns1123Subdomain(secretName))) {
      return invalid(`secretName ${JSON.stringify(secretName) ?? describe(secretName)} is not a valid Secret name`);
    }
    const rawHosts = field(entry, 'hosts');
    if (!isUnset(rawHosts) && !Array.isArray(rawHosts)) return invalid('hosts must be a list');
    const hosts: string[] = [];
    ((Array.isArray(rawHosts) ? rawHosts : []) as readonly unknown[]).forEach((rawHost, m) => {
      const host = parseHostName(rawHost);
      if (typeof host === 'string') {
        sink.report(id, 'IngressHostInvalid', 'error', `${host}; the TLS host is ignored`, `${provenance}/host/${m}`);
      } else if (!hosts.includes(host.host)) {
        hosts.push(host.host);
      }
    });
    // Per the API, a TLS entry without hosts covers the hosts of the Ingress's rules.
    if (hosts.length === 0 && (!Array.isArray(rawHosts) || rawHosts.length === 0)) hosts.push(...ruleHosts);
    if (hosts.length === 0) {
      return invalid(Array.isArray(rawHosts) && rawHosts.length > 0 ? 'none of its hosts is valid' : 'no hosts, and no rule of the Ingress names a host');
    }
    if (typeof secretName === 'string') out.push({ secretName, hosts, provenance });
    else defaultCertificateHosts?.push(...hosts.filter((h) => !defaultCertificateHosts.includes(h)));
  });
  return out;
}
