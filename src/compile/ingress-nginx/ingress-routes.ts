/**
 * Turning Ingress paths into route candidates the way ingress-nginx serves them, once every
 * Ingress of the snapshot is read (some rules are about a whole host, across Ingresses):
 * - **Regex hosts.** When any path of a host comes from an Ingress with `use-regex` or a
 *   `rewrite-target`, ingress-nginx writes every location of that host as `~* "^path"`: each path
 *   of the host, of any Ingress, becomes a case-insensitive regular expression anchored at the
 *   start only, tried longest first (ties: the greater path first, byte-wise).
 * - Elsewhere, `Exact` and `Prefix` are the Ingress API's, and in the ingress-nginx profile
 *   `ImplementationSpecific` is nginx's plain prefix location (a string prefix: `/foo` takes
 *   `/foobar`); in signalbox's it stays `Prefix`.
 * - **Listeners.** A host whose routes differ between plain HTTP and HTTPS (the redirect to HTTPS,
 *   HSTS) gets one virtual host per listener, every route of it copied to both.
 * - `app-root` adds a redirect of `/` to each host of its Ingress; `from-to-www-redirect` a host
 *   for the other name (`www.` added or removed) that redirects every request to the Ingress's.
 * - Filters, in nginx's phase order: CORS preflights, the snippets' redirects (`return`,
 *   `rewrite … redirect`), the fixed redirect, the redirect to HTTPS (ingress-nginx's Lua, at the
 *   end of the rewrite phase), the request id, basic authentication then
 *   external authentication (all must allow: `satisfy all`; with `satisfy: any` one suffices, see
 *   any-access.ts in the data plane), request headers
 *   (`upstream-vhost`, `X-Forwarded-Prefix`), the snippets' rewrites, the rewrite, the snippets'
 *   header edits; HSTS on the way back. A `server-snippet` applies to the paths of its own Ingress
 *   only, like a `configuration-snippet`, not to other Ingresses' paths of the host.
 * - Canaries (canary.ts) add routes in front of their main path's.
 */
import type { Filter, PathMatch, RedirectFilter, ValueMatch } from '../../model/table.ts';
import { canaryIndex, canaryVariants, MAIN, type RouteVariant } from './canary.ts';
import { serviceOf, type NginxPath } from './nginx-path.ts';
import { accessLists } from './snippets.ts';
import { normalizeCidr } from '../../model/cidr.ts';
import { escapeRegExp } from './regex-text.ts';
import type { FilterCandidate, HostName, RouteCandidate, RoutePrecedence } from '../shared/candidates.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { compareNumbers, compareStrings } from '../shared/order.ts';
import type { IngressPath } from '../ingress/ingress.ts';
import { INGRESS_LISTENERS } from '../ingress/listeners.ts';
import { prefixKey } from '../ingress/paths.ts';
import type { DefaultBackendService } from './default-backend-annotations.ts';
import type { FixedRedirect, NginxIngress } from './ingress-annotations.ts';
import { hstsValue, type NginxSettings } from './settings.ts';

/** How a candidate sorts among its host's routes (the back half's comparator reads it). */
interface SortKey {
  /** `app-root`'s redirect of `/` runs before any location (nginx's server-level rewrite). */
  readonly first: boolean;
  readonly length: number;
  readonly path: string;
  readonly exact: boolean;
  readonly regexHost: boolean;
  /** A canary's header (2) and cookie (1) routes come before the path's weighted one (0). */
  readonly conditions?: number;
}

/** The route candidates of the Ingresses' paths, and the order of routes in a host. */
export interface NginxRoutes {
  readonly routes: RouteCandidate[];
  readonly precedence: RoutePrecedence;
}

/**
 * The candidates of `paths` (oldest Ingress first, each in the order written); `tlsHosts` are the
 * hosts some Ingress gives a certificate.
 */
export function nginxRoutes(paths: readonly NginxPath[], canaries: readonly NginxPath[], tlsHosts: ReadonlySet<string>, settings: NginxSettings, sink: DiagnosticSink, globalBackend: DefaultBackendService | null = null): NginxRoutes {
  const regexHosts = new Set(paths.filter(isRegexPath).map((p) => p.path.host.host));
  const keys = new WeakMap<RouteCandidate, SortKey>();
  const routes: RouteCandidate[] = [];
  const hsts = settings.hsts === null ? null : hstsValue(settings.hsts);
  const headerBlocks: FilterCandidate[] = [];
  if (settings.blockUserAgents.length > 0) headerBlocks.push({ type: 'HeaderDeny', header: 'user-agent', matches: [...settings.blockUserAgents] });
  if (settings.blockReferers.length > 0) headerBlocks.push({ type: 'HeaderDeny', header: 'referer', matches: [...settings.blockReferers] });

  // Per host: does plain HTTP differ from HTTPS for any of its paths?
  // ingress-nginx's force_no_ssl_redirect: a path starting with one of no-tls-redirect-locations
  // (`/.well-known/acme-challenge`, so that HTTP-01 challenges are answered) is never redirected.
  const noRedirect = (p: NginxPath): boolean => settings.noTlsRedirectLocations.some((l) => p.path.path.startsWith(l));
  const redirects = (p: NginxPath): boolean => !noRedirect(p) && (p.ingress.forceSslRedirect || (p.ingress.sslRedirect && hasTls(p.path.host.host, tlsHosts)));
  const splitHosts = new Set(paths.filter((p) => hsts !== null || redirects(p)).map((p) => p.path.host.host));

  const emit = (p: NginxPath, host: HostName, match: PathMatch, filters: FilterCandidate[], key: SortKey, conflictKey: string, listeners: readonly string[], provenance: string, variant: RouteVariant = MAIN): void => {
    const backends = variant.backends ?? [{ service: serviceOf(p), weight: 1, provenance: `${p.path.provenance}/backend` }];
    // block-user-agents, block-referers: `if ($block_ua) { return 403; }` heads every server,
    // redirect servers too, so it runs before anything of the location.
    const all = headerBlocks.length > 0 ? [...headerBlocks, ...filters] : filters;
    const candidate: RouteCandidate = {
      owner: p.owner,
      host,
      listeners,
      route: { match: { path: match, ...(variant.headers.length > 0 ? { headers: variant.headers } : {}) }, backends, filters: all, ...logFlags(p, settings), ...(settings.addOriginalUriHeader ? { originalUriHeader: true as const } : {}), ...(variant.sticky ? { stickyBackends: true as const } : {}), ...(satisfiesAny(p, all) ? { satisfy: 'any' as const } : {}), provenance },
      conflictKey: listeners === INGRESS_LISTENERS ? conflictKey : `${listeners.join(',')} ${conflictKey}`,
      ruleProvenance: p.path.ruleProvenance,
      ...(p.ingress.clientAuth === null ? {} : { clientAuth: p.ingress.clientAuth }),
      ...(p.ingress.hostTls === null ? {} : { tlsParameters: p.ingress.hostTls }),
      ...(settings.hostTls === null ? {} : { tlsDefaults: settings.hostTls }),
    };
    keys.set(candidate, key);
    routes.push(candidate);
  };

  const canaryOf = canaryIndex(paths, canaries, sink);
  for (const p of paths) {
    const host = p.path.host;
    const regexHost = regexHosts.has(host.host);
    const { match, key } = matchOf(p.path, regexHost, settings);
    const conflictKey = `${match.type} ${match.type === 'Prefix' ? prefixKey(match.value) : match.value}`;
    const common = requestFilters(p, settings);
    // Last, so that their response side runs first: the route's header filters edit the page.
    const pages = errorPageFilters(p, settings, globalBackend);
    const canary = canaryOf.get(p);
    for (const variant of canary === undefined ? [MAIN] : canaryVariants(p, canary)) {
      const variantKey = { ...key, conditions: variant.headers.length === 0 ? 0 : variant.rank };
      const variantConflict = variant.id === '' ? conflictKey : `${conflictKey} canary:${variant.id}`;
      if (!splitHosts.has(host.host)) {
        emit(p, host, match, [...common.before, ...common.after, ...pages], variantKey, variantConflict, INGRESS_LISTENERS, p.path.provenance, variant);
        continue;
      }
      // ingress-nginx's Lua writes `https://host:<its HTTPS port>` with use-port-in-redirects.
      const toHttps: FilterCandidate[] = redirects(p) ? [{ type: 'RequestRedirect', scheme: 'https', ...(p.ingress.usePortInRedirects ? { portFrom: 'listener' as const } : {}), statusCode: settings.httpRedirectCode }] : [];
      emit(p, host, match, [...common.before, ...toHttps, ...common.after, ...pages], variantKey, variantConflict, ['http'], p.path.provenance, variant);
      const secure: FilterCandidate[] = hsts === null ? [] : [{ type: 'ResponseHeaderModifier', set: [{ name: 'strict-transport-security', value: hsts }] }];
      emit(p, host, match, [...common.before, ...common.after, ...secure, ...pages], variantKey, variantConflict, ['https'], p.path.provenance, variant);
    }
  }

  // app-root: `/` itself is redirected on each host of an Ingress that sets it (once per host).
  const appRoots = new Set<string>();
  for (const p of paths) {
    if (p.ingress.appRoot === null || appRoots.has(p.path.host.host)) continue;
    appRoots.add(p.path.host.host);
    const host = p.path.host;
    const filters: FilterCandidate[] = [{ type: 'RequestRedirect', path: { type: 'ReplaceFullPath', value: p.ingress.appRoot }, statusCode: 302 }];
    const key: SortKey = { first: true, length: 1, path: '/', exact: true, regexHost: false };
    const provenance = `${p.owner.id.provenance}/annotations/app-root`;
    const listeners = splitHosts.has(host.host) ? [['http'], ['https']] : [INGRESS_LISTENERS];
    for (const l of listeners) emit(p, host, { type: 'Exact', value: '/' }, filters, key, 'app-root /', l, provenance);
  }
  // from-to-www-redirect: the other name (www. added or removed) redirects to the Ingress's host,
  // unless some Ingress serves that name itself.
  const served = new Set(paths.map((p) => p.path.host.host));
  const www = new Set<string>();
  for (const p of paths) {
    const { host, match } = p.path.host;
    if (!p.ingress.fromToWwwRedirect || match !== 'exact') continue;
    const other = host.startsWith('www.') ? host.slice(4) : `www.${host}`;
    if (served.has(other) || www.has(other)) continue;
    www.add(other);
    const filters: FilterCandidate[] = [{ type: 'RequestRedirect', hostname: host, statusCode: settings.httpRedirectCode }];
    const key: SortKey = { first: false, length: 1, path: '/', exact: false, regexHost: false };
    const provenance = `${p.owner.id.provenance}/annotations/from-to-www-redirect`;
    emit(p, { host: other, match: 'exact' }, { type: 'Prefix', value: '/' }, filters, key, 'Prefix /', INGRESS_LISTENERS, provenance);
  }
  return { routes, precedence: precedenceOf(keys) };
}

/**
 * Whether a route of `p` takes `satisfy: any`: asked for, and two kinds of access check on the
 * route — address lists, basic authentication, external authentication (with one kind alone, any
 * and all are the same). The ConfigMap's block-cidrs is not one of the Ingress's checks: it never
 * makes a route `any`, where a client it does not block would then skip the password.
 */
function satisfiesAny(p: NginxPath, filters: readonly FilterCandidate[]): boolean {
  if (!p.ingress.satisfyAny) return false;
  const kinds = new Set(filters.flatMap((f) => ((f.type === 'ClientAddress' && !GLOBAL_BLOCKS.has(f)) || f.type === 'BasicAuth' || f.type === 'ExternalAuth' ? [f.type] : [])));
  return kinds.size >= 2;
}

/** The block-cidrs filters made by {@link requestFilters}, told apart from the Ingress's own address lists. */
const GLOBAL_BLOCKS = new WeakSet<FilterCandidate>();

/** The access-log fields of a route of `p`: `accessLog: false`, or the ConfigMap's skip-access-log-urls. */
function logFlags(p: NginxPath, settings: NginxSettings): { accessLog?: false; accessLogSkip?: ValueMatch[] } {
  if (!p.ingress.accessLog) return { accessLog: false };
  return settings.skipAccessLogUrls.length > 0 ? { accessLogSkip: [...settings.skipAccessLogUrls] } : {};
}

/**
 * Whether a host has TLS: a TLS entry names it, or names the one-label wildcard that covers it
 * (`*.home.example.com` for `sonarr.home.example.com`: cert-manager's wildcard certificates), as
 * ingress-nginx finds a certificate for a host by the certificate's names.
 */
function hasTls(host: string, tlsHosts: ReadonlySet<string>): boolean {
  if (tlsHosts.has(host)) return true;
  const dot = host.indexOf('.');
  return !host.startsWith('*.') && dot > 0 && tlsHosts.has(`*${host.slice(dot)}`);
}

/** ingress-nginx's `enforceRegexModifier` for one location: `use-regex`, or a rewrite to another path. */
function isRegexPath(p: NginxPath): boolean {
  return p.ingress.useRegex || (p.ingress.rewriteTarget !== null && p.ingress.rewriteTarget !== p.path.path);
}

/** The path match of an Ingress path, and how it sorts. */
function matchOf(path: IngressPath, regexHost: boolean, settings: NginxSettings): { match: PathMatch; key: SortKey } {
  if (regexHost) {
    // `~* "^path"`: whatever follows the pattern is allowed. Wrapping keeps `a|b` one alternative.
    return {
      match: { type: 'RegularExpression', value: `(?:${path.path}).*`, ignoreCase: true },
      key: { first: false, length: path.path.length, path: path.path, exact: false, regexHost: true },
    };
  }
  if (path.rawType === 'ImplementationSpecific' && settings.profile === 'ingress-nginx' && path.path !== '/') {
    return {
      match: { type: 'RegularExpression', value: `${escapeRegExp(path.path)}.*` },
      key: { first: false, length: path.path.length, path: path.path, exact: false, regexHost: false },
    };
  }
  const value = path.pathType === 'Prefix' ? prefixKey(path.path) : path.path;
  return {
    match: { type: path.pathType, value: path.path },
    key: { first: false, length: value.length, path: path.path, exact: path.pathType === 'Exact', regexHost: false },
  };
}

/**
 * The request-side filters of a path on both listeners: `before` the redirect to HTTPS (nginx's
 * find-config and rewrite phases), `after` it (access phase, then what goes upstream).
 */
function requestFilters(p: NginxPath, settings: NginxSettings): { before: FilterCandidate[]; after: FilterCandidate[] } {
  const a = p.ingress;
  const before: FilterCandidate[] = [];
  const after: FilterCandidate[] = [];
  // nginx checks client_max_body_size as soon as the location is found, before any rewrite.
  if (a.proxyBodySize > 0) before.push({ type: 'BodyLimit', maxBytes: a.proxyBodySize });
  if (settings.generateRequestId) after.push({ type: 'RequestId', header: 'x-request-id' });
  // The ConfigMap's proxy-set-headers (http level): before the Ingress's own edits, which win.
  if (settings.proxySetHeaders.length > 0) after.push({ type: 'RequestHeaderModifier', set: [...settings.proxySetHeaders] });
  // nginx's rewrite phase, in the order ingress-nginx writes it: CORS preflights first; then the
  // configuration snippet, written into the location before the fixed redirect's `return` and the
  // rewrite-target's `rewrite` (nginx runs rewrite directives in the order written, the server
  // snippet's, at server level, before any); access, headers and the proxying come after. So: the
  // snippets' redirects, the fixed redirect, …, the snippets' rewrites, the annotations' rewrite,
  // the snippets' header edits.
  if (a.cors !== null) before.push(a.cors);
  const snippet = a.snippets?.filters ?? [];
  before.push(...snippet.filter((f) => f.type === 'RequestRedirect'));
  if (a.redirect !== null) before.push(fixedRedirect(a.redirect, a));
  // Its preaccess phase (limit_conn, limit_req), then its access phase, after the redirect to
  // HTTPS: the address lists, then basic auth and auth-url, which must both allow the request
  // (ingress-nginx's `satisfy all`); the local checks first, so a stranger costs no subrequest.
  if (a.rateLimit !== null) after.push(a.rateLimit);
  // block-cidrs: the http level's `deny` rules. nginx drops them from a location with allow/deny
  // rules of its own; they are kept here, so that a global block is never lifted by an Ingress.
  if (settings.blockCidrs.length > 0) {
    const block: FilterCandidate = { type: 'ClientAddress', deny: [...settings.blockCidrs] };
    GLOBAL_BLOCKS.add(block);
    after.push(block);
  }
  after.push(...addressFilters(a));
  if (a.basicAuth !== null) after.push(a.basicAuth);
  // ingress-nginx's no-auth-locations (`/.well-known/acme-challenge` by default): never asked.
  if (a.auth !== null && !settings.noAuthLocations.some((l) => p.path.path.startsWith(l))) after.push(a.auth);
  // nginx's precontent phase: only a request the access checks let through is copied.
  if (a.mirror !== null) after.push(a.mirror);
  // limit_rate in the location: what goes back to the client is paced.
  if (a.responseRate !== null) after.push(a.responseRate);
  // gzip and brotli, at http level in nginx.tmpl: every location of the profile compresses alike.
  if (settings.compress !== null) after.push(settings.compress);
  const set: { name: string; value: string }[] = [];
  if (a.rewriteTarget !== null && a.xForwardedPrefix !== null) set.push({ name: 'x-forwarded-prefix', value: a.xForwardedPrefix });
  if (set.length > 0) after.push({ type: 'RequestHeaderModifier', set });
  after.push(...snippet.filter((f) => f.type === 'URLRewrite'));
  const rewrite: Filter & { type: 'URLRewrite' } = { type: 'URLRewrite' };
  const rewritten: { hostname?: string; path?: { type: 'ReplaceRegexMatch'; pattern: string; substitution: string } } = {};
  if (a.upstreamVhost !== null) rewritten.hostname = a.upstreamVhost;
  // ingress-nginx: `rewrite "(?i)path" target break;` unless the target is the path itself.
  if (a.rewriteTarget !== null && a.rewriteTarget !== p.path.path) {
    rewritten.path = { type: 'ReplaceRegexMatch', pattern: `(?i)(?:${p.path.path}).*`, substitution: a.rewriteTarget };
  }
  if (rewritten.hostname !== undefined || rewritten.path !== undefined) after.push({ ...rewrite, ...rewritten });
  after.push(...snippet.filter((f) => f.type !== 'RequestRedirect' && f.type !== 'URLRewrite'));
  // proxy_redirect and proxy_cookie_*: the upstream's fields as they arrive, before any other.
  if (a.responseRewrite !== null) after.push(a.responseRewrite);
  // custom-headers (more_set_headers in the location) and, last, the ConfigMap's add-headers: on
  // the way back filters unwind, so the Ingress's own edits run after add-headers and win.
  if (a.customHeaders.length > 0) after.push({ type: 'ResponseHeaderModifier', set: [...a.customHeaders] });
  if (settings.addHeaders.length > 0) after.push({ type: 'ResponseHeaderModifier', set: [...settings.addHeaders] });
  // hide-headers (proxy_hide_header): the upstream's fields are dropped as they arrive, before any
  // header the proxy sets itself, so last in the list (the first to run on the way back).
  if (settings.hideHeaders.length > 0) after.push({ type: 'ResponseHeaderModifier', remove: [...settings.hideHeaders] });
  return { before, after };
}

/**
 * The DefaultBackend filters of a path, as ingress-nginx writes its error pages:
 * - the Ingress's `default-backend` takes the path's requests while its Service has no endpoint,
 *   and serves the Ingress's own `custom-http-errors`;
 * - `custom-http-errors` of an Ingress without a usable `default-backend` go to the global default
 *   backend (`--default-backend-service`), and so do the ConfigMap's `custom-http-errors` on a path
 *   whose Ingress sets none (nginx's server-level `error_page`, which a location's own replaces).
 */
function errorPageFilters(p: NginxPath, settings: NginxSettings, globalBackend: DefaultBackendService | null): FilterCandidate[] {
  const { backend, codes, ownErrorsOnly } = p.ingress.errorPages;
  const ref = p.path.ref;
  const headers = [
    { name: 'x-namespace', value: p.owner.id.namespace },
    { name: 'x-ingress-name', value: p.owner.id.name },
    { name: 'x-service-name', value: ref.service },
    { name: 'x-service-port', value: String(ref.port) },
  ];
  // disable-proxy-intercept-errors is the location's: it holds for the Ingress's own codes only.
  const ownOnly = codes !== null && ownErrorsOnly;
  const filter = (to: DefaultBackendService, list: readonly number[], whenNoEndpoints: boolean, global: boolean): FilterCandidate => ({
    type: 'DefaultBackend',
    service: { namespace: to.namespace, service: to.service, port: to.port },
    codes: list,
    whenNoEndpoints,
    ...(global ? { global: true as const } : {}),
    ...(ownOnly && list.length > 0 ? { ownErrorsOnly: true as const } : {}),
    headers: list.length === 0 ? [] : headers,
  });
  const out: FilterCandidate[] = [];
  if (backend !== null) out.push(filter(backend, codes ?? [], true, false));
  const global = backend === null ? codes ?? settings.customHttpErrors : codes === null ? settings.customHttpErrors : [];
  if (globalBackend !== null && global.length > 0) out.push(filter(globalBackend, global, false, true));
  return out;
}

/**
 * The address checks of an Ingress, as ingress-nginx writes them into the location: the
 * denylist's `deny` rules, the allowlist's `allow` rules and `deny all`, then the snippet's
 * `allow`/`deny`. nginx takes the first rule that matches, so with an allowlist the snippet's rules
 * are never reached; without one, the snippet's lists apply after the denylist.
 */
function addressFilters(a: NginxIngress): FilterCandidate[] {
  const out: FilterCandidate[] = [];
  const deny = a.denySourceRange;
  const allow = a.allowSourceRange;
  if (deny.length > 0 || allow.length > 0) {
    out.push({ type: 'ClientAddress', ...(allow.length > 0 ? { allow } : {}), ...(deny.length > 0 ? { deny } : {}) });
  }
  const access = a.snippets?.access ?? [];
  if (allow.length === 0 && access.length > 0) {
    const lists = accessLists(access);
    const canonical = (list: readonly string[]): string[] => list.map((c) => normalizeCidr(c) ?? c);
    if (lists.allow.length > 0 || lists.deny.length > 0) {
      out.push({ type: 'ClientAddress', ...(lists.allow.length > 0 ? { allow: canonical(lists.allow) } : {}), ...(lists.deny.length > 0 ? { deny: canonical(lists.deny) } : {}) });
    }
  }
  return out;
}

/**
 * `return CODE URL;`: Location is the URL as written, whatever the request — but for the request's
 * host where it says `$host`, and its path (and query) where it ends in `$uri` (`$request_uri`).
 * A path alone is completed as nginx completes it (`relative-redirects`, `use-port-in-redirects`).
 */
function fixedRedirect(redirect: FixedRedirect, a: NginxIngress): RedirectFilter {
  const { url, code, requestHost, requestTarget } = redirect;
  if (redirect.relative) {
    // nginx completes `return 301 /path` itself: relative with `absolute_redirect off`, else the
    // request's scheme and host, and its own port only with `port_in_redirect on`.
    const where = a.relativeRedirects ? { relative: true as const } : { portFrom: a.usePortInRedirects ? ('listener' as const) : ('none' as const) };
    return { type: 'RequestRedirect', path: { type: 'ReplaceFullPath', value: url.pathname }, query: url.search, ...where, statusCode: code };
  }
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
  return {
    type: 'RequestRedirect',
    scheme,
    ...(requestHost ? {} : { hostname: url.hostname }),
    port,
    ...(requestTarget === null ? { path: { type: 'ReplaceFullPath' as const, value: url.pathname }, query: url.search } : {}),
    ...(requestTarget === '$uri' ? { query: '' } : {}),
    statusCode: code,
  };
}

/**
 * nginx's order: app-root first; then, on regex hosts, the longest path (ties: the greater path,
 * byte-wise, as ingress-nginx sorts its locations); elsewhere the longest match key with Exact first
 * on a tie. Then the older Ingress, then path and provenance to make the order total.
 */
function precedenceOf(keys: WeakMap<RouteCandidate, SortKey>): RoutePrecedence {
  return (a, b) => {
    const ka = keys.get(a)!;
    const kb = keys.get(b)!;
    return (
      compareNumbers(kb.first ? 1 : 0, ka.first ? 1 : 0) ||
      compareNumbers(kb.length, ka.length) ||
      (ka.regexHost && kb.regexHost ? compareStrings(kb.path, ka.path) : 0) ||
      compareNumbers(kb.conditions ?? 0, ka.conditions ?? 0) ||
      compareNumbers(ka.exact ? 0 : 1, kb.exact ? 0 : 1) ||
      compareNumbers(a.owner.rank, b.owner.rank) ||
      compareStrings(a.route.match.path.value, b.route.match.path.value) ||
      compareStrings(a.route.provenance, b.route.provenance) ||
      compareStrings(a.listeners.join(','), b.listeners.join(','))
    );
  };
}
