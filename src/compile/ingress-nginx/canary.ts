/**
 * Canary Ingresses (`canary: "true"`): the Ingress with the same host and path keeps its route,
 * and the canary adds routes in front of it — by header, then by cookie — and a share of the rest
 * by weight, each with the main path's filters (ingress-nginx takes everything but the backend from
 * the main Ingress).
 */
import type { HeaderMatch } from '../../model/table.ts';
import type { BackendCandidate, ServiceBackendRef } from '../shared/candidates.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { serviceOf, type NginxPath } from './nginx-path.ts';
import { escapeRegExp } from './regex-text.ts';

/** One route of a path: the main one, or one of a canary's (with its header condition and backends). */
export interface RouteVariant {
  /** '' for the main route; names the canary route in its conflict key. */
  readonly id: string;
  readonly headers: readonly HeaderMatch[];
  /** Null: the path's own backend. */
  readonly backends: readonly BackendCandidate[] | null;
  /** See `SortKey.conditions` in ingress-routes.ts. */
  readonly rank: number;
  /** The route's `stickyBackends`: a client pinned by affinity to the main or canary backend stays there. */
  readonly sticky: boolean;
}

export const MAIN: RouteVariant = Object.freeze({ id: '', headers: [], backends: null, rank: 0, sticky: false });

/**
 * The canary of each main path: the canary Ingress path with the same host and path, of the same
 * namespace (ingress-nginx allows one per path; the oldest canary wins). A canary path no main
 * path of its namespace has is reported.
 */
export function canaryIndex(paths: readonly NginxPath[], canaries: readonly NginxPath[], sink: DiagnosticSink): Map<NginxPath, NginxPath> {
  const mains = new Map<string, NginxPath>();
  for (const p of paths) {
    const key = `${p.path.host.host} ${p.path.path}`;
    if (!mains.has(key)) mains.set(key, p);
  }
  const out = new Map<NginxPath, NginxPath>();
  for (const c of canaries) {
    const main = mains.get(`${c.path.host.host} ${c.path.path}`);
    if (main === undefined) {
      sink.report(c.owner.id, 'CanaryInvalid', 'error', `no Ingress routes host "${c.path.host.host}" and path ${JSON.stringify(c.path.path)} for this canary to take requests from; the path is ignored`, c.path.provenance);
    } else if (main.owner.id.namespace !== c.owner.id.namespace) {
      // ingress-nginx merges a canary into any Ingress of the host and path; here a canary would
      // then send another tenant's requests to its own Service, so it takes only its namespace's.
      sink.report(c.owner.id, 'CanaryInvalid', 'error', `host "${c.path.host.host}" and path ${JSON.stringify(c.path.path)} are routed by ${main.owner.id.provenance}, of another namespace: a canary takes requests only from an Ingress of its own namespace; the path is ignored`, c.path.provenance);
    } else if (out.has(main)) {
      sink.report(c.owner.id, 'CanaryInvalid', 'error', `${out.get(main)!.owner.id.provenance} is already the canary of host "${c.path.host.host}" and path ${JSON.stringify(c.path.path)} (one canary per path, the oldest); the path is ignored`, c.path.provenance);
    } else {
      out.set(main, c);
    }
  }
  return out;
}

/**
 * The routes of a path with a canary, in ingress-nginx's order of rules: the header (`always`, or
 * the value, or the pattern; `never`), then the cookie (`always`, `never`), then the weight.
 */
export function canaryVariants(main: NginxPath, canary: NginxPath): RouteVariant[] {
  const rules = canary.ingress.canary!;
  const mainBackend: BackendCandidate = { service: serviceOf(main), weight: 1, provenance: `${main.path.provenance}/backend` };
  const canaryBackend: BackendCandidate = { service: canaryService(main, canary), weight: 1, provenance: `${canary.path.provenance}/backend` };
  // ingress-nginx's balancer asks the affinity cookie before any rule: a client pinned to an
  // endpoint of the main backend or of the canary stays with it. Each route then names both
  // backends, the one its rule does not choose with weight 0 (reached only through the cookie).
  const sticky = mainBackend.service?.overrides?.affinity !== undefined || canaryBackend.service?.overrides?.affinity !== undefined;
  const toMain: BackendCandidate[] = sticky ? [mainBackend, { ...canaryBackend, weight: 0 }] : [mainBackend];
  const toCanary: BackendCandidate[] = sticky ? [{ ...mainBackend, weight: 0 }, canaryBackend] : [canaryBackend];
  const out: RouteVariant[] = [];
  if (rules.header !== null) {
    const name = rules.header;
    if (rules.headerValue !== null) out.push({ id: `header=${rules.headerValue}`, headers: [{ name, type: 'Exact', value: rules.headerValue }], backends: toCanary, rank: 2, sticky });
    else if (rules.headerPattern !== null) out.push({ id: 'header~', headers: [{ name, type: 'RegularExpression', value: rules.headerPattern }], backends: toCanary, rank: 2, sticky });
    else out.push({ id: 'header=always', headers: [{ name, type: 'Exact', value: 'always' }], backends: toCanary, rank: 2, sticky });
    out.push({ id: 'header=never', headers: [{ name, type: 'Exact', value: 'never' }], backends: toMain, rank: 2, sticky });
  }
  if (rules.cookie !== null) {
    // The Cookie field: `a=1; b=2` (HTTP/2 clients may send several, matched joined with `, `).
    const cookie = (value: string): HeaderMatch => ({ name: 'cookie', type: 'RegularExpression', value: `(?:.*[;,] *)?${escapeRegExp(rules.cookie!)}=${value}(?:[;,].*)?` });
    out.push({ id: 'cookie=always', headers: [cookie('always')], backends: toCanary, rank: 1, sticky });
    out.push({ id: 'cookie=never', headers: [cookie('never')], backends: toMain, rank: 1, sticky });
  }
  const weight = Math.round((rules.weight / rules.weightTotal) * 1_000_000);
  const weighted: BackendCandidate[] = weight === 0 ? toMain : [
    { ...mainBackend, weight: 1_000_000 - weight },
    { ...canaryBackend, weight },
  ];
  out.push({ id: '', headers: [], backends: sticky ? weighted : weighted.filter((b) => b.weight > 0), rank: 0, sticky });
  return out;
}

/**
 * The canary's backend: with `affinity-canary-behavior: sticky` (the default) it takes the main
 * Ingress's affinity in place of its own (none when the main has none), as ingress-nginx copies
 * the main backend's session affinity onto the canary's; with `legacy` its own annotations' stay.
 */
function canaryService(main: NginxPath, canary: NginxPath): ServiceBackendRef {
  const own = serviceOf(canary);
  if (canary.ingress.canary!.affinityBehavior === 'legacy') return own;
  const { affinity: _own, ...rest } = canary.ingress.overrides;
  const affinity = main.ingress.overrides.affinity;
  const overrides = affinity === undefined ? rest : { ...rest, affinity };
  const { overrides: _old, ...ref } = own;
  return Object.keys(overrides).length > 0 ? { ...ref, overrides } : ref;
}
