/**
 * HTTPRoute filters (apis/v1/httproute_types.go, `HTTPRouteFilter`) as filters of the table, in
 * the order written: RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite,
 * RequestMirror and CORS. A filter signalbox cannot apply drops its rule (UnsupportedValue), as
 * do a redirect with a rewrite in one rule or a filter type given twice (IncompatibleFilters): a
 * request must never pass without a filter its route asked for. An ExtensionRef to a signalbox.dev
 * RouteScript runs that script on the rule's routes; one signalbox does not know answers the rule's
 * requests 500, as the specification asks.
 */
import { checkCors } from '../../model/check-cors.ts';
import type { CorsFilter, PathModifier, RedirectFilter, RouteMatch } from '../../model/table.ts';
import type { FilterCandidate } from '../shared/candidates.ts';
import { field, isPortNumber, isUnset } from '../shared/guards.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import { serviceRef, type BackendUse } from './backend-refs.ts';
import { headerEdits } from './header-edits.ts';
import { isGatewayHostname } from './hostnames.ts';
import type { RouteProblem } from './route-problems.ts';

/** A rule's filters, or the problem that drops the rule; `failClosed` when an ExtensionRef is unknown. */
export type FilterReading = {
  readonly filters: readonly FilterCandidate[];
  readonly failClosed: boolean;
  /** The RouteScripts named by ExtensionRef filters (`signalbox.dev` RouteScript), in order. */
  readonly scripts: readonly string[];
  readonly problems: readonly RouteProblem[];
} | RouteProblem;

/** Filter types that may appear only once in a rule. */
const ONCE = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'CORS']);

/**
 * Reads a rule's filters. `matches` are the rule's: a `ReplacePrefixMatch` needs every one of them
 * to be a PathPrefix match.
 */
export function readHttpFilters(route: ObjectIdentity, value: unknown, matches: readonly RouteMatch[], at: string, use: BackendUse, allowed: ReadonlySet<string>): FilterReading {
  const filters: FilterCandidate[] = [];
  const problems: RouteProblem[] = [];
  const seen = new Set<string>();
  const scripts: string[] = [];
  let failClosed = false;
  for (const [i, f] of (Array.isArray(value) ? (value as unknown[]) : []).entries()) {
    const where = `${at}/filter/${i}`;
    const problem = (message: string, reason: RouteProblem['reason'] = 'UnsupportedValue'): RouteProblem => ({ reason, message, path: where });
    const type = field(f, 'type');
    if (typeof type !== 'string' || !allowed.has(type)) return problem(`filter type ${JSON.stringify(type)} is not supported on this route`);
    if (ONCE.has(type) && seen.has(type)) return problem(`filter ${type} is given twice`, 'IncompatibleFilters');
    seen.add(type);
    switch (type) {
      case 'RequestHeaderModifier':
      case 'ResponseHeaderModifier': {
        const key = type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier';
        const edits = headerEdits(field(f, key));
        if (typeof edits === 'string') return problem(`${key}: ${edits}`);
        filters.push({ type, ...edits });
        break;
      }
      case 'RequestRedirect': {
        const redirect = readRedirect(field(f, 'requestRedirect'), matches);
        if (typeof redirect === 'string') return problem(`requestRedirect: ${redirect}`);
        filters.push(redirect);
        break;
      }
      case 'URLRewrite': {
        const rewrite = field(f, 'urlRewrite');
        const hostname = field(rewrite, 'hostname');
        if (!isUnset(hostname) && !isGatewayHostname(hostname)) return problem(`urlRewrite.hostname ${JSON.stringify(hostname)} is not a hostname`);
        const path = pathModifier(field(rewrite, 'path'), matches);
        if (typeof path === 'string') return problem(`urlRewrite.path: ${path}`);
        filters.push({ type: 'URLRewrite', ...(typeof hostname === 'string' ? { hostname } : {}), ...(path === null ? {} : { path }) });
        break;
      }
      case 'RequestMirror': {
        const mirror = field(f, 'requestMirror');
        const percent = mirrorPercent(mirror);
        if (typeof percent === 'string') return problem(`requestMirror: ${percent}`);
        const service = serviceRef(route, field(mirror, 'backendRef'), `${where}/backendRef`, use);
        if ('reason' in service) {
          problems.push(service);
          break;
        }
        if (percent > 0) filters.push({ type: 'RequestMirror', service, percent });
        break;
      }
      case 'CORS': {
        const cors = readCors(field(f, 'cors'));
        if (typeof cors === 'string') return problem(`cors: ${cors}`);
        filters.push(cors);
        break;
      }
      case 'ExtensionRef': {
        const ref = field(f, 'extensionRef');
        const name = field(ref, 'name');
        if (field(ref, 'group') === 'signalbox.dev' && field(ref, 'kind') === 'RouteScript' && typeof name === 'string' && name !== '') {
          // The script runs on the rule's routes (route-script-chains.ts); one that does not load fails them closed.
          if (!scripts.includes(name)) scripts.push(name);
          break;
        }
        problems.push({ reason: 'InvalidKind', message: `extensionRef ${String(field(field(f, 'extensionRef'), 'kind'))} ${String(field(field(f, 'extensionRef'), 'name'))} is not a filter signalbox knows: the rule's requests are answered 500`, path: where });
        failClosed = true;
        break;
      }
      default:
        return problem(`filter type ${type} is not supported`);
    }
  }
  if (seen.has('RequestRedirect') && seen.has('URLRewrite')) return { reason: 'IncompatibleFilters', message: 'a rule cannot both redirect and rewrite', path: at };
  return { filters, failClosed, scripts, problems };
}

/** Header edits (set, add, remove) with lower-case names, or why they cannot be applied. */
function pathModifier(value: unknown, matches: readonly RouteMatch[]): PathModifier | null | string {
  if (isUnset(value)) return null;
  const type = field(value, 'type');
  if (type === 'ReplaceFullPath') {
    const path = field(value, 'replaceFullPath');
    if (typeof path !== 'string' || !path.startsWith('/')) return 'replaceFullPath must be an absolute path';
    return { type, value: path };
  }
  if (type === 'ReplacePrefixMatch') {
    const path = field(value, 'replacePrefixMatch');
    if (typeof path !== 'string' || !path.startsWith('/')) return 'replacePrefixMatch must be an absolute path';
    if (matches.some((m) => m.path.type !== 'Prefix')) return 'ReplacePrefixMatch needs every match of the rule to be a PathPrefix match';
    return { type, value: path };
  }
  return `type ${JSON.stringify(type)} is not ReplaceFullPath or ReplacePrefixMatch`;
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

function readRedirect(value: unknown, matches: readonly RouteMatch[]): RedirectFilter | string {
  const scheme = field(value, 'scheme');
  if (!isUnset(scheme) && scheme !== 'http' && scheme !== 'https') return `scheme ${JSON.stringify(scheme)} is not http or https`;
  const hostname = field(value, 'hostname');
  if (!isUnset(hostname) && !isGatewayHostname(hostname)) return `hostname ${JSON.stringify(hostname)} is not a hostname`;
  const port = field(value, 'port');
  if (!isUnset(port) && !isPortNumber(port)) return 'port must be from 1 to 65535';
  const statusCode = field(value, 'statusCode') ?? 302;
  if (typeof statusCode !== 'number' || !REDIRECT_CODES.has(statusCode)) return `statusCode ${JSON.stringify(statusCode)} is not 301, 302, 303, 307 or 308`;
  const path = pathModifier(field(value, 'path'), matches);
  if (typeof path === 'string') return `path: ${path}`;
  // Without a port, a redirect to another scheme goes to that scheme's own port (the specification's
  // rule); without either, to the listener's port — the request's own.
  const effectivePort = isPortNumber(port) ? port : scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined;
  return {
    type: 'RequestRedirect',
    ...(scheme === 'http' || scheme === 'https' ? { scheme } : {}),
    ...(typeof hostname === 'string' ? { hostname } : {}),
    ...(effectivePort === undefined ? {} : { port: effectivePort }),
    ...(path === null ? {} : { path }),
    statusCode: statusCode as RedirectFilter['statusCode'],
  };
}

function mirrorPercent(mirror: unknown): number | string {
  const percent = field(mirror, 'percent');
  const fraction = field(mirror, 'fraction');
  if (!isUnset(percent)) {
    if (typeof percent !== 'number' || !Number.isInteger(percent) || percent < 0 || percent > 100) return 'percent must be from 0 to 100';
    return percent;
  }
  if (!isUnset(fraction)) {
    const numerator = field(fraction, 'numerator');
    const denominator = field(fraction, 'denominator') ?? 100;
    if (typeof numerator !== 'number' || typeof denominator !== 'number' || !Number.isInteger(numerator) || !Number.isInteger(denominator) || denominator < 1 || numerator < 0 || numerator > denominator) return 'fraction must be numerator/denominator with 0 <= numerator <= denominator';
    const share = (numerator * 100) / denominator;
    return share === 0 ? 0 : Math.max(1, Math.round(share));
  }
  return 100;
}

function readCors(value: unknown): CorsFilter | string {
  const strings = (key: string): string[] | null => {
    const list = field(value, key);
    if (isUnset(list)) return [];
    return Array.isArray(list) && list.every((s) => typeof s === 'string') ? (list as string[]) : null;
  };
  const allowOrigins = strings('allowOrigins');
  const allowMethods = strings('allowMethods');
  const allowHeaders = strings('allowHeaders');
  const exposeHeaders = strings('exposeHeaders');
  if (allowOrigins === null || allowMethods === null || allowHeaders === null || exposeHeaders === null) return 'allowOrigins, allowMethods, allowHeaders and exposeHeaders must be lists of strings';
  const credentials = field(value, 'allowCredentials') ?? false;
  const maxAge = field(value, 'maxAge') ?? 5;
  if (typeof credentials !== 'boolean') return 'allowCredentials must be true or false';
  if (typeof maxAge !== 'number') return 'maxAge must be a number of seconds';
  const cors: CorsFilter = { type: 'CORS', allowOrigins: allowOrigins.map((o) => o.toLowerCase()), allowMethods, allowHeaders, exposeHeaders, allowCredentials: credentials, maxAgeSeconds: maxAge, wildcardLabels: 'any', answerEveryPreflight: true, echoWildcards: true };
  const problems: string[] = [];
  checkCors('', cors, '', (_at, _p, message) => problems.push(message));
  return problems[0] ?? cors;
}
