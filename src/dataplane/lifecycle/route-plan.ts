import type { ClientAuthCheck } from './client-auth-check.ts';
import type { DataplaneMetrics } from '../../metrics/metrics.ts';
import type { CompiledScript, ResponseRateFilter, Route, WeightedBackend } from '../../model/table.ts';
import type { PreparedCluster, Upstream } from '../upstream/prepared-cluster.ts';
import { BackendChoice } from './backend-choice.ts';
import { AnyAccessStep } from './filters/any-access.ts';
import { BasicAuthStep } from './filters/basic-auth.ts';
import { externalAuthSteps } from './filters/external-auth.ts';
import { UrlMirrorStep } from './filters/url-mirror.ts';
import { CorsPolicy, CorsResponseStep, CorsStep } from './filters/cors.ts';
import { DefaultBackendStep } from './filters/default-backend.ts';
import { BodyLimitStep } from './filters/body-limit.ts';
import { ClientAddressStep } from './filters/client-address.ts';
import { HeaderDenyStep } from './filters/header-deny.ts';
import { RequestHeaderStep, ResponseHeaderStep } from './filters/header-edits.ts';
import { MirrorStep } from './filters/mirror.ts';
import { RedirectStep } from './filters/redirect.ts';
import { RequestIdStep } from './filters/request-id.ts';
import { ResponseRewriteStep } from './filters/response-rewrite.ts';
import { CompressStep } from './filters/compress.ts';
import { RateLimitStep } from './filters/rate-limit.ts';
import { RateLimitZone, type RateLimitZones } from './filters/rate-limit-zone.ts';
import { RewriteStep } from './filters/rewrite.ts';
import { ScriptStep } from './filters/script-step.ts';
import { ScriptResponseStep } from './filters/script-response-step.ts';
import type { RequestStep, ResponseStep } from './request-step.ts';
import { RouteContext } from './route-context.ts';
import type { ScriptBinding } from './script-binding.ts';

/**
 * One route's phases, declared once per table swap: the request-side filters in `route.filters`
 * order, the backend pick, the response-side filters in the reverse order, the time limits. An empty phase is null and
 * costs a request nothing: a route with one backend and no filters (every plain Ingress path) goes
 * straight from routing to its one context.
 */
export class RoutePlan {
  readonly route: Route;
  /** The context of the route's first backend (or a `missing` one): what errors before the pick are accounted to. */
  readonly primary: RouteContext;
  /** The one backend that takes every request, or null when a pick is needed (or there is none). */
  readonly single: RouteContext | null;
  /** The weighted pick between two or more backends; null otherwise. */
  readonly choice: BackendChoice | null;
  /** With `stickyBackends`: the backends whose affinity cookie a request may carry; null otherwise. */
  readonly sticky: readonly RouteContext[] | null;
  /**
   * Where requests go whose backend has no endpoint (or does not resolve): the first DefaultBackend
   * filter's cluster that takes them (`whenNoEndpoints`); null when none does.
   */
  readonly fallback: RouteContext | null;
  /** Request-side filters, in order; null when there are none. */
  readonly steps: readonly RequestStep[] | null;
  /** Response-side filters, in order; null when there are none. */
  readonly responseSteps: readonly ResponseStep[] | null;
  /**
   * The ResponseRewrite filters, in order: applied to the upstream's own fields as they arrive,
   * before the response phase; null when there are none.
   */
  readonly upstreamRewrites: readonly ResponseRewriteStep[] | null;
  /**
   * The smallest `maxBytes` of the route's BodyLimit filters: what the exchange holds a streamed
   * body to as it goes upstream. Null when the route has none (its bodies are not counted).
   */
  readonly bodyLimit: number | null;
  /** The route's ResponseRate (the last one, should there be several); null: responses are not paced. */
  readonly responseRate: ResponseRateFilter | null;
  /** The route's Compress filter (the last one, should there be several); null: bodies go as they came. */
  readonly compress: CompressStep | null;
  /** `timeouts.requestMs`, 0 when not set. */
  readonly requestMs: number;
  /** `timeouts.backendRequestMs`, 0 when not set (the cluster's response-header timeout applies). */
  readonly backendRequestMs: number;
  /**
   * The client-certificate check of the route's host, made before its filters; null when the host
   * makes none. Set once, by prepare-table, which knows the host.
   */
  clientAuth: ClientAuthCheck | null = null;

  constructor(route: Route, parts: PlanParts) {
    this.route = route;
    const contexts = new Map<string, RouteContext>();
    // One context per cluster, and per distinct set of a backend's own filters on it.
    const contextOf = (cluster: string | null, filters?: WeightedBackend['filters']): RouteContext => {
      const base = cluster ?? '\0';
      const key = filters === undefined ? base : `${base}\0${JSON.stringify(filters)}`;
      let ctx = contexts.get(key);
      if (ctx === undefined) {
        ctx = new RouteContext(route, parts.clusterFor(cluster ?? ''), parts.metrics, cluster === null, filters);
        contexts.set(key, ctx);
      }
      return ctx;
    };
    const first = route.backends[0];
    this.primary = first === undefined ? contextOf(null) : contextOf(first.cluster, first.filters);
    const weighted = route.backends.filter((b) => b.weight > 0).map((b) => ({ ctx: contextOf(b.cluster, b.filters), weight: b.weight }));
    // No backend that can take a request: a `missing` context answers 500 unless a filter answers first.
    this.single = weighted.length === 0 ? (first === undefined ? this.primary : contextOf(null)) : weighted.length === 1 ? weighted[0]!.ctx : null;
    this.choice = weighted.length > 1 ? new BackendChoice(weighted) : null;
    // Only backends whose clusters set affinity cookies can pin a request.
    const sticky = route.stickyBackends === true ? [...new Set(route.backends.filter((b) => b.cluster !== null).map((b) => contextOf(b.cluster, b.filters)))].filter((c) => c.cluster.affinity !== null) : [];
    this.sticky = sticky.length === 0 ? null : sticky;

    const steps: RequestStep[] = [];
    const responseSteps: ResponseStep[] = [];
    const upstreamRewrites: ResponseRewriteStep[] = [];
    let bodyLimit: number | null = null;
    let fallback: RouteContext | null = null;
    let responseRate: ResponseRateFilter | null = null;
    let compress: CompressStep | null = null;
    // satisfy any: the access checks run as one step, where the first of them stands.
    let any: AnyAccessStep | null = null;
    const anyAccess = (): AnyAccessStep => {
      if (any === null) steps.push((any = new AnyAccessStep()));
      return any;
    };
    for (const filter of route.filters) {
      switch (filter.type) {
        case 'RequestHeaderModifier':
          steps.push(new RequestHeaderStep(filter));
          break;
        case 'ResponseHeaderModifier':
          responseSteps.push(new ResponseHeaderStep(filter));
          break;
        case 'ResponseRewrite':
          upstreamRewrites.push(new ResponseRewriteStep(filter));
          break;
        case 'RequestRedirect':
          steps.push(new RedirectStep(filter, route.match.path));
          break;
        case 'URLRewrite':
          steps.push(new RewriteStep(filter, route.match.path));
          break;
        case 'RequestMirror':
          steps.push(new MirrorStep(parts.clusterFor(filter.cluster), filter.percent));
          break;
        case 'ResponseRate':
          responseRate = filter;
          break;
        case 'Compress':
          compress = new CompressStep(filter);
          break;
        case 'UrlMirror':
          steps.push(new UrlMirrorStep(filter));
          break;
        case 'ExternalAuth': {
          const auth = externalAuthSteps(filter);
          if (route.satisfy === 'any') anyAccess().setExternal(auth.request);
          else steps.push(auth.request);
          responseSteps.push(auth.response);
          break;
        }
        case 'CORS': {
          const policy = new CorsPolicy(filter);
          steps.push(new CorsStep(policy));
          responseSteps.push(new CorsResponseStep(policy));
          break;
        }
        case 'RequestId':
          steps.push(new RequestIdStep(filter));
          break;
        case 'BasicAuth':
          if (route.satisfy === 'any') anyAccess().setBasic(new BasicAuthStep(filter));
          else steps.push(new BasicAuthStep(filter));
          break;
        case 'ClientAddress':
          if (route.satisfy === 'any') anyAccess().addAddresses(new ClientAddressStep(filter));
          else steps.push(new ClientAddressStep(filter));
          break;
        case 'HeaderDeny':
          steps.push(new HeaderDenyStep(filter));
          break;
        case 'BodyLimit':
          steps.push(new BodyLimitStep(filter));
          bodyLimit = bodyLimit === null ? filter.maxBytes : Math.min(bodyLimit, filter.maxBytes);
          break;
        case 'RateLimit':
          // Without the worker's zones (tools that only inspect a table) the counts live with the plan.
          steps.push(new RateLimitStep(parts.rateLimits?.zoneFor(filter) ?? new RateLimitZone(filter), filter));
          break;
        case 'DefaultBackend':
          if (filter.codes.length > 0) responseSteps.push(new DefaultBackendStep(filter, parts.clusterFor(filter.cluster)));
          if (filter.whenNoEndpoints) fallback ??= contextOf(filter.cluster);
          break;
        case 'RouteScript': {
          const script = parts.scriptOf(filter.script);
          const binding = script === undefined ? null : parts.bindScript(script, (cluster) => contextOf(cluster));
          if (binding === null) break;
          steps.push(new ScriptStep(binding));
          // Only a script that exports onResponse has a response step: the others cost nothing there.
          if (binding.loaded?.hooks?.onResponse === true) responseSteps.push(new ScriptResponseStep(binding));
          break;
        }
      }
    }
    this.steps = steps.length === 0 ? null : steps;
    this.fallback = fallback;
    this.bodyLimit = bodyLimit;
    this.responseRate = responseRate;
    this.compress = compress;
    // The response phase unwinds: the filter that saw the request first sees the response last.
    this.responseSteps = responseSteps.length === 0 ? null : responseSteps.reverse();
    this.upstreamRewrites = upstreamRewrites.length === 0 ? null : upstreamRewrites;
    this.requestMs = route.timeouts?.requestMs ?? 0;
    this.backendRequestMs = route.timeouts?.backendRequestMs ?? 0;
  }

  /** The backend of a request no RouteScript sent elsewhere. */
  pick(req: { readonly headers: { readonly cookie?: string | string[] | undefined } }): RouteContext {
    if (this.sticky !== null) {
      for (const ctx of this.sticky) if (ctx.cluster.affinity!.pinned(req.headers.cookie, usable) !== null) return ctx;
    }
    return this.single ?? this.choice!.pick();
  }
}

/** What a table being prepared gives each route's plan. */
export interface PlanParts {
  readonly metrics: DataplaneMetrics;
  /** The prepared cluster `name` of the table (an unknown name gets an empty, unresolved one). */
  readonly clusterFor: (name: string) => PreparedCluster;
  readonly scriptOf: (key: string) => CompiledScript | undefined;
  /** Binds a RouteScript to the route; null where scripts are not run (tools that only inspect a table). */
  readonly bindScript: (script: CompiledScript, contextFor: (cluster: string) => RouteContext) => ScriptBinding | null;
  /** The worker's RateLimit zones, which outlive the table; absent: each plan counts on its own. */
  readonly rateLimits?: RateLimitZones;
}

const usable = (e: Upstream): boolean => e.health.usable;
