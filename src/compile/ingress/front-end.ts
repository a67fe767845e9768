/**
 * The Ingress front end: IngressClass ownership, then each of our Ingresses read on its own
 * (ingress.ts), then everything they ask for as route candidates for the back half — oldest
 * Ingress first, so that the back half's "first claim wins" is the Ingress rule "the oldest wins".
 */
import type { CompileOptions } from '../../model/snapshot.ts';
import { compareAge, withAge } from '../shared/age.ts';
import type { DefaultRouteCandidate, FrontEndOutput, RankedOwner, TLSCandidate } from '../shared/candidates.ts';
import { DiagnosticSink, guarded } from '../shared/diagnostics.ts';
import { readNginxConfigMap } from '../ingress-nginx/config-map.ts';
import { NGINX_PREFIX } from '../ingress-nginx/annotation-table.ts';
import { readNginxIngress, type NginxIngress } from '../ingress-nginx/ingress-annotations.ts';
import { captureGroups, highestReference } from '../ingress-nginx/rewrite-groups.ts';
import { nginxRoutes } from '../ingress-nginx/ingress-routes.ts';
import { servicePort, type DefaultBackendService } from '../ingress-nginx/default-backend-annotations.ts';
import type { NginxPath } from '../ingress-nginx/nginx-path.ts';
import { nginxConfigMapOf, profileOf } from '../ingress-nginx/profile.ts';
import { profileSettings, type NginxSettings } from '../ingress-nginx/settings.ts';
import { field, isRecord } from '../shared/guards.ts';
import { identify, indexByKey, indexObjects, subjectOf, type Identified } from '../shared/objects.ts';
import { ownership, ourClasses, type Ownership } from './ingress-class.ts';
import { ingressCandidateRoute } from './ingress-route.ts';
import { parseIngress, type IngressContribution, type IngressPath } from './ingress.ts';
import { INGRESS_LISTENER_LIST } from './listeners.ts';
import { passthroughCandidates } from '../streams/passthrough.ts';
import type { StreamCandidate } from '../streams/stream-candidates.ts';

const EMPTY: IngressContribution = Object.freeze({ paths: [], defaultBackend: null, tls: [], defaultCertificateHosts: [] });

/** What the Ingress front end gives the back half, and the Ingresses it read (for their status). */
export interface IngressFrontEnd extends FrontEndOutput {
  /** Our Ingresses, oldest first. */
  readonly ingresses: readonly RankedOwner[];
  /** The TLS passthrough routes of Ingresses with `signalbox.dev/ssl-passthrough`, oldest first. */
  readonly streams: readonly StreamCandidate[];
  /** The ConfigMap's `forwarded-for-header` when it is not X-Forwarded-For; null otherwise. */
  readonly clientAddressHeader: string | null;
}

/**
 * Reads the IngressClasses and Ingresses of a snapshot (any shape). Ingresses of other
 * controllers are ignored without a trace; every problem of ours is reported to `sink`.
 */
export function ingressFrontEnd(input: unknown, options: CompileOptions, sink: DiagnosticSink): IngressFrontEnd {
  const ours = ourClasses(indexObjects(field(input, 'ingressClasses'), 'IngressClass', false, sink), options, sink);
  const ingresses = ourIngresses(field(input, 'ingresses'), ours, options, sink);
  // auth-secret and proxy-ssl-secret name Secrets, the controller ConfigMap and custom-headers
  // ConfigMaps: indexed once here, reported by the back half where they are indexed again.
  const secrets = indexObjects(field(input, 'secrets'), 'Secret', true, new DiagnosticSink());
  const configMaps = indexObjects(field(input, 'configMaps'), 'ConfigMap', true, new DiagnosticSink());
  // default-backend names a Service: its first port is read here, the rest by the back half.
  const services = indexObjects(field(input, 'services'), 'Service', true, new DiagnosticSink());
  const settings = nginxSettingsOf(configMaps, options, sink);
  const globalBackend = globalDefaultBackend(options, settings, services, sink);
  const keyPairs = keyPairSecrets(secrets);
  const paths: NginxPath[] = [];
  const canaries: NginxPath[] = [];
  const defaultRoutes: DefaultRouteCandidate[] = [];
  const tls: TLSCandidate[] = [];
  const streams: StreamCandidate[] = [];
  const passedThrough = new Map<string, string>();
  // Hosts with TLS from the data plane's default certificate (a spec.tls entry without secretName).
  const defaultCertificateHosts = new Set<string>();
  // ingress-nginx: the default backend of an Ingress with rules, by the Ingress (see below).
  const ruleDefaults = new Map<RankedOwner, NginxPath>();
  for (const { owner, item } of ingresses) {
    const nginx = guarded(sink, owner.id, null, () => readNginxIngress(owner.id, item.obj, settings, sink, secrets, keyPairs, configMaps, services));
    if (nginx === null || 'refused' in nginx) continue;
    if (nginx.errorPages.codes !== null && globalBackend === null && !nginx.raw.has('default-backend')) {
      sink.report(owner.id, 'AnnotationMissing', 'warning', `${NGINX_PREFIX}custom-http-errors needs ${NGINX_PREFIX}default-backend (or --default-backend-service); its errors pass through unchanged`, `${owner.id.provenance}/annotations/${NGINX_PREFIX}custom-http-errors`);
    }
    // A rewrite-target reads its path's capture groups: the path may be written as a pattern.
    const mode = { regex: nginx.useRegex || nginx.rewriteTarget !== null, strict: settings.strictValidatePathType };
    // ingress-nginx serves a TLS entry without secretName with its default certificate.
    const tlsMode = { defaultCertificate: settings.profile === 'ingress-nginx' };
    const contribution = guarded(sink, owner.id, EMPTY, () => parseIngress(owner.id, item.obj, sink, mode, tlsMode));
    const { namespace } = owner.id;
    // A canary Ingress lends its paths' backends to the Ingress with the same host and path; the
    // rest of it (TLS, default backend) is not used, as in ingress-nginx.
    if (nginx.canary !== null) {
      for (const path of contribution.paths) canaries.push({ owner, path, ingress: nginx });
      continue;
    }
    for (const path of contribution.paths) {
      if (rewritable(owner, path, nginx, sink)) paths.push({ owner, path, ingress: nginx });
    }
    const backend = contribution.defaultBackend;
    if (backend !== null && settings.profile === 'ingress-nginx' && contribution.paths.length > 0) {
      // An Ingress with rules: its default backend takes what they do not, on its hosts only.
      const root: IngressPath = { host: { host: '', match: 'any' }, pathType: 'Prefix', rawType: 'Prefix', path: '/', key: '/', ref: backend.ref, provenance: backend.provenance, ruleProvenance: backend.provenance };
      ruleDefaults.set(owner, { owner, path: root, ingress: nginx });
    } else if (backend !== null) {
      // The default route is a Prefix `/` so that it reads like any other route in the table.
      defaultRoutes.push({ owner, route: ingressCandidateRoute('Prefix', '/', { namespace, ...backend.ref }, backend.provenance) });
    }
    for (const entry of contribution.tls) tls.push({ owner, ...entry });
    for (const host of contribution.defaultCertificateHosts) defaultCertificateHosts.add(host);
    streams.push(...guarded(sink, owner.id, [], () => passthroughCandidates(owner, item.obj, contribution.paths, passedThrough, sink)));
  }
  paths.push(...hostDefaults(paths, ruleDefaults));
  paths.push(...aliasPaths(paths, sink));
  const tlsHosts = new Set([...tls.flatMap((t) => t.hosts), ...defaultCertificateHosts]);
  const { routes, precedence } = nginxRoutes(paths, canaries, tlsHosts, settings, sink, globalBackend);
  // ingress-nginx's ssl-protocols and ssl-ciphers are http-level: every handshake of the HTTPS
  // port has them, with or without SNI, for names no Ingress has too (hosts have them as defaults).
  const listeners = settings.hostTls === null ? INGRESS_LISTENER_LIST : INGRESS_LISTENER_LIST.map((l) => (l.protocol === 'HTTPS' ? { ...l, tlsParameters: settings.hostTls! } : l));
  return { listeners, routes, defaultRoutes, tls, precedence, ingresses: ingresses.map((i) => i.owner), streams, clientAddressHeader: settings.forwardedForHeader === 'x-forwarded-for' ? null : settings.forwardedForHeader };
}

/**
 * ingress-nginx's `server-alias`: each alias serves the paths of its Ingress's rules that have a
 * host, unless some Ingress names the alias as a host itself (then it is reported and ignored).
 */
function aliasPaths(paths: readonly NginxPath[], sink: DiagnosticSink): NginxPath[] {
  const hosts = new Set(paths.map((p) => p.path.host.host));
  const out: NginxPath[] = [];
  const reported = new Set<string>();
  for (const p of paths) {
    if (p.path.host.match === 'any') continue;
    for (const alias of p.ingress.serverAliases) {
      if (hosts.has(alias)) {
        const key = `${p.owner.id.provenance} ${alias}`;
        if (!reported.has(key)) sink.report(p.owner.id, 'AnnotationIgnored', 'warning', `server-alias ${alias} is the host of an Ingress rule already; the alias is ignored`, `${p.owner.id.provenance}/annotations/nginx.ingress.kubernetes.io/server-alias`);
        reported.add(key);
        continue;
      }
      out.push({ ...p, path: { ...p.path, host: { host: alias, match: alias.startsWith('*.') ? 'wildcard' : 'exact' } } });
    }
  }
  return out;
}

/**
 * ingress-nginx's `/` of each host whose oldest Ingress has rules and a default backend: that
 * backend takes the host's requests no path takes — unless some Ingress gives the host a `/` path.
 * (A host's first Ingress creates its server, with a `/` location to its default backend, else to
 * the controller's; only an Ingress without rules configures the catch-all server.)
 */
function hostDefaults(paths: readonly NginxPath[], defaults: ReadonlyMap<RankedOwner, NginxPath>): NginxPath[] {
  if (defaults.size === 0) return [];
  const first = new Map<string, RankedOwner>();
  const rooted = new Set<string>();
  for (const p of paths) {
    const key = `${p.path.host.match} ${p.path.host.host}`;
    if (!first.has(key)) first.set(key, p.owner);
    if (p.path.path === '/' && p.path.rawType !== 'Exact') rooted.add(key);
  }
  const out: NginxPath[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    const key = `${p.path.host.match} ${p.path.host.host}`;
    const root = defaults.get(p.owner);
    // The catch-all server exists before any Ingress: a rule without host never gives it a `/`.
    if (root === undefined || p.path.host.match === 'any' || first.get(key) !== p.owner || rooted.has(key) || seen.has(key)) continue;
    seen.add(key);
    out.push({ ...root, path: { ...root.path, host: p.path.host } });
  }
  return out;
}

/**
 * Whether the Ingress's `rewrite-target` can be applied to `path` (reported when not): its `$N`
 * must be capture groups of the path, or nginx refuses the rewrite (and ingress-nginx the Ingress).
 */
function rewritable(owner: RankedOwner, path: IngressPath, nginx: NginxIngress, sink: DiagnosticSink): boolean {
  const target = nginx.rewriteTarget;
  if (target === null || target === path.path) return true;
  const wanted = highestReference(target);
  const groups = captureGroups(path.path);
  if (wanted <= groups) return true;
  sink.report(owner.id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}rewrite-target ${JSON.stringify(target)} names $${wanted}, but path ${JSON.stringify(path.path)} has ${groups === 0 ? 'no capture group' : `${groups} capture group${groups === 1 ? '' : 's'}`} (nginx refuses such a rewrite, and ingress-nginx the Ingress); the path is ignored`, path.provenance);
  return false;
}

/**
 * `namespace/name` of the Secrets holding a `tls.crt` and a `tls.key`: a `proxy-ssl-secret` naming
 * one also presents that certificate to the endpoints, as ingress-nginx does (a CA-only Secret
 * does not). Whether the pair is usable is the back half's to say.
 */
function keyPairSecrets(secrets: ReadonlyMap<string, Identified>): ReadonlySet<string> {
  const out = new Set<string>();
  for (const [key, item] of secrets) {
    const data = field(item.obj, 'data');
    if (isRecord(data) && typeof data['tls.crt'] === 'string' && typeof data['tls.key'] === 'string') out.add(key);
  }
  return out;
}

/** The profile's defaults, changed by the ingress-nginx controller ConfigMap when one is read. */
/**
 * `--default-backend-service`, at its Service's first port; null without the flag, or when the
 * Service cannot be used (reported). The ConfigMap's `custom-http-errors` without it is reported
 * too: there is nowhere to fetch the pages from.
 */
function globalDefaultBackend(options: CompileOptions, settings: NginxSettings, services: ReadonlyMap<string, Identified>, sink: DiagnosticSink): DefaultBackendService | null {
  const name = options.defaultBackendService;
  if (name === undefined) {
    const configMap = nginxConfigMapOf(options);
    if (settings.customHttpErrors.length > 0 && configMap !== null) {
      const [namespace = '', object = ''] = configMap.split('/');
      sink.report({ kind: 'ConfigMap', namespace, name: object }, 'NginxConfigUnsupported', 'warning', 'custom-http-errors needs --default-backend-service (the global default backend) to fetch its pages from; only Ingresses with default-backend and custom-http-errors of their own get error pages', `ConfigMap/${configMap}/data/custom-http-errors`);
    }
    return null;
  }
  const [namespace = '', service = ''] = name.split('/');
  const backend = servicePort(namespace, service, services);
  if (typeof backend !== 'string') return backend;
  sink.report({ kind: 'Service', namespace, name: service }, 'DefaultBackendNotFound', 'error', `--default-backend-service: ${backend}; no Ingress gets error pages from it`);
  return null;
}

function nginxSettingsOf(configMaps: ReadonlyMap<string, Identified>, options: CompileOptions, sink: DiagnosticSink): NginxSettings {
  const defaults = profileSettings(profileOf(options));
  const name = nginxConfigMapOf(options);
  if (name === null) return defaults;
  return readNginxConfigMap(name, options.nginxConfigMap !== undefined, defaults, configMaps, sink);
}

/**
 * Our Ingresses, identified, deduplicated and ranked oldest first. Ownership is decided before the
 * metadata is validated, so that broken Ingresses of other controllers stay silent.
 */
function ourIngresses(
  list: unknown,
  ours: ReturnType<typeof ourClasses>,
  options: CompileOptions,
  sink: DiagnosticSink,
): { owner: RankedOwner; item: Identified }[] {
  const owned = new Map<Identified, Ownership>();
  for (const obj of Array.isArray(list) ? (list as unknown[]) : []) {
    guarded(sink, subjectOf(obj, 'Ingress'), undefined, () => {
      const own = ownership(obj, ours, options);
      if (own === null) return;
      const item = identify(obj, 'Ingress', true, sink);
      if (item !== null) owned.set(item, own);
    });
  }
  const unique = [...indexByKey([...owned.keys()], sink).values()];
  for (const item of unique) {
    for (const warning of owned.get(item)!.warnings) sink.report(item.id, warning.code, 'warning', warning.message);
  }
  return unique
    .map((item) => guarded(sink, item.id, { ...item, created: null }, () => withAge(item, sink)))
    .sort(compareAge)
    .map((item, rank) => ({ owner: { id: item.id, rank, created: item.created }, item }));
}
