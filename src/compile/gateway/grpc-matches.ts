/**
 * GRPCRoute matches (apis/v1/grpcroute_types.go, `GRPCRouteMatch`) as HTTP/2 path matches: a
 * gRPC call is a POST to `/<service>/<method>`. Method Exact with both names is an Exact path;
 * with the service only, a Prefix `/<service>/`; with the method only, or RegularExpression, a
 * pattern over both parts. Header matches as on HTTPRoutes. Backends speak HTTP/2 in clear text
 * unless their Service port's `appProtocol` says otherwise.
 */
import type { HeaderMatch, RouteMatch } from '../../model/table.ts';
import type { BackendCandidate } from '../shared/candidates.ts';
import { field, isUnset } from '../shared/guards.ts';
import type { RouteProblem } from './route-problems.ts';

/** The filters a GRPCRoute rule may carry. */
export const GRPC_FILTERS: ReadonlySet<string> = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']);

/** A Service port's `appProtocol` ('' when it has none), or null when the Service or port is unknown. */
export type AppProtocolOf = (namespace: string, service: string, port: number | string) => string | null;

const NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** The matches of a GRPCRoute rule (every call when it has none), or the first problem. */
export function grpcMatches(matches: unknown, at: string): RouteMatch[] | RouteProblem {
  const list = Array.isArray(matches) && matches.length > 0 ? (matches as unknown[]) : [{}];
  const out: RouteMatch[] = [];
  for (const [i, m] of list.entries()) {
    const where = `${at}/match/${i}`;
    const problem = (message: string): RouteProblem => ({ reason: 'UnsupportedValue', message, path: where });
    const method = field(m, 'method');
    const type = field(method, 'type') ?? 'Exact';
    const service = field(method, 'service');
    const name = field(method, 'method');
    let path: RouteMatch['path'] = { type: 'Prefix', value: '/' };
    if (!isUnset(method)) {
      if (type !== 'Exact' && type !== 'RegularExpression') return problem(`method.type ${JSON.stringify(type)} is not Exact or RegularExpression`);
      if (isUnset(service) && isUnset(name)) return problem('method needs a service or a method');
      if ((!isUnset(service) && typeof service !== 'string') || (!isUnset(name) && typeof name !== 'string')) return problem('method.service and method.method must be strings');
      if (type === 'Exact') {
        if ((typeof service === 'string' && !NAME.test(service)) || (typeof name === 'string' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))) return problem('method.service and method.method must be gRPC names');
        if (typeof service === 'string' && typeof name === 'string') path = { type: 'Exact', value: `/${service}/${name}` };
        else if (typeof service === 'string') path = { type: 'Prefix', value: `/${service}/` };
        else path = { type: 'RegularExpression', value: `/[^/]+/${name as string}` };
      } else {
        path = { type: 'RegularExpression', value: `/${typeof service === 'string' ? service : '[^/]+'}/${typeof name === 'string' ? name : '[^/]+'}` };
      }
    }
    const headers: HeaderMatch[] = [];
    const raw = field(m, 'headers');
    const seen = new Set<string>();
    for (const [j, h] of (Array.isArray(raw) ? (raw as unknown[]) : []).entries()) {
      const hname = field(h, 'name');
      const htype = field(h, 'type') ?? 'Exact';
      const value = field(h, 'value');
      if (typeof hname !== 'string' || typeof value !== 'string' || (htype !== 'Exact' && htype !== 'RegularExpression')) return problem(`headers[${j}] needs a name, a value and type Exact or RegularExpression`);
      const lower = hname.toLowerCase();
      if (seen.has(lower)) continue;
      seen.add(lower);
      headers.push({ name: lower, type: htype, value });
    }
    out.push({ path, ...(headers.length === 0 ? {} : { headers }) });
  }
  return out;
}

/** A GRPCRoute backend: HTTP/2 in clear text, unless its Service port's appProtocol names a protocol. */
export function grpcOverrides(backend: BackendCandidate, appProtocolOf: AppProtocolOf): BackendCandidate {
  const ref = backend.service;
  if (ref === null || ref.overrides?.protocol !== undefined) return backend;
  const app = appProtocolOf(ref.namespace, ref.service, ref.port);
  if (app !== null && app !== '') return backend;
  return { ...backend, service: { ...ref, overrides: { ...ref.overrides, protocol: 'h2c' } } };
}
