/**
 * Attaching RouteScripts to routes: which routes a targetRef matches, and the chain of scripts each
 * route runs, in the order they run. Every RouteScript whose targetRefs match a route runs on it;
 * the order is {@link compareChain}'s. The table shows it as the route's `RouteScript` filters.
 */
import type { Route } from '../model/table.ts';
import { compareAge, type Aged } from './shared/age.ts';
import type { DiagnosticSink } from './shared/diagnostics.ts';
import type { PlacedRoute } from './shared/placed-route.ts';

/** A route of the table with what targeting needs: who placed it and under which host. */
export interface TargetableRoute {
  readonly placed: PlacedRoute;
  /** The virtual host (`*` for rules without host), or null for the default route. */
  readonly host: string | null;
  /** Gateway API routes: the `name` of the rule it came from, when the rule has one. */
  readonly section?: string;
  /** Gateway API routes: the RouteScripts its rule names in `ExtensionRef` filters, by name (the route's namespace). */
  readonly extensionRefs?: readonly string[];
}

/** One validated entry of `spec.targetRefs`. */
export interface ParsedTargetRef {
  readonly kind: 'Ingress' | 'Service' | 'HTTPRoute' | 'GRPCRoute';
  readonly name: string;
  /** Ingress targets only. */
  readonly host?: string;
  /** Ingress targets only. */
  readonly path?: string;
  /** HTTPRoute and GRPCRoute targets only: the rule of that `name`. */
  readonly sectionName?: string;
}

/**
 * How specifically a targetRef names a route, most specific first: the chain runs the scripts a
 * Gateway API rule names in an ExtensionRef filter first, then those that target a route by its
 * Ingress host or path (or its HTTPRoute rule), then those that target the whole Ingress (or
 * HTTPRoute), then the ones that target its Service.
 */
const Tier = { ExtensionRef: -1, IngressRoute: 0, Ingress: 1, Service: 2 } as const;
type Tier = (typeof Tier)[keyof typeof Tier];

/** One script in one route's chain, with what orders it there. */
export interface ChainLink {
  readonly item: Aged;
  readonly tier: Tier;
  /** `spec.order`. */
  readonly order: number;
}

/**
 * The order of a route's chain: the most specific targetRef first (Ingress host or path, then the
 * whole Ingress, then the Service; a script with several refs matching the route counts by its
 * most specific one), then `spec.order` (lower first, default 0), then the older script
 * (creationTimestamp; undated ones last), then namespace/name.
 */
export function compareChain(a: ChainLink, b: ChainLink): number {
  return a.tier - b.tier || a.order - b.order || compareAge(a.item, b.item);
}

/** The chains of one compile: scripts are attached one by one, then {@link ordered} gives each route's. */
export class RouteChains {
  /** Routes by the objects a targetRef names, so that matching is not a scan of every route per script. */
  readonly #candidates = new Map<string, TargetableRoute[]>();
  readonly #chains = new Map<Route, ChainLink[]>();
  readonly #sink: DiagnosticSink;

  constructor(routes: readonly TargetableRoute[], sink: DiagnosticSink) {
    this.#sink = sink;
    for (const r of routes) {
      this.#index(`${r.placed.owner.id.kind}\n${r.placed.owner.id.namespace}\n${r.placed.owner.id.name}`, r);
      this.#index(`Service\n${r.placed.owner.id.namespace}\n${r.placed.ref.service}`, r);
      for (const script of r.extensionRefs ?? []) this.#index(`ExtensionRef\n${r.placed.owner.id.namespace}\n${script}`, r);
    }
  }

  /** Whether any of `targetRefs` matches a route for `item` (then it holds an isolate in every worker). */
  matchesAny(item: Aged, targetRefs: readonly ParsedTargetRef[]): boolean {
    return targetRefs.some((ref) => this.#matches(item, ref).length > 0);
  }

  /**
   * Adds a script to the chain of every route its targetRefs match, once per route, at its most
   * specific ref; a ref that matches nothing is a `RouteScriptTargetNotFound` warning.
   */
  attach(item: Aged, targetRefs: readonly ParsedTargetRef[], order: number): void {
    const mine = new Map<Route, ChainLink>();
    // The routes whose rules name this script in an ExtensionRef filter, whatever its targetRefs say.
    for (const { placed } of this.#candidates.get(`ExtensionRef\n${item.id.namespace}\n${item.id.name}`) ?? []) mine.set(placed.route, { item, tier: Tier.ExtensionRef, order });
    targetRefs.forEach((ref, i) => {
      const matched = this.#matches(item, ref);
      if (matched.length === 0) {
        this.#sink.report(item.id, 'RouteScriptTargetNotFound', 'warning', `${describeRef(ref)} matches no route in namespace ${item.id.namespace}; the script runs nowhere for it`, `${item.id.provenance}/targetRefs/${i}`);
      }
      const tier = tierOf(ref);
      for (const { placed } of matched) {
        const known = mine.get(placed.route);
        if (known === undefined || tier < known.tier) mine.set(placed.route, { item, tier, order });
      }
    });
    for (const [route, link] of mine) {
      const chain = this.#chains.get(route);
      if (chain === undefined) this.#chains.set(route, [link]);
      else chain.push(link);
    }
  }

  /** The script keys of each route with scripts, in chain order. */
  ordered(): Map<Route, readonly string[]> {
    const result = new Map<Route, readonly string[]>();
    for (const [route, links] of this.#chains) result.set(route, [...links].sort(compareChain).map((link) => link.item.id.key));
    return result;
  }

  #index(key: string, r: TargetableRoute): void {
    const list = this.#candidates.get(key);
    if (list === undefined) this.#candidates.set(key, [r]);
    else list.push(r);
  }

  /** The routes `ref` matches for `item`. */
  #matches(item: Aged, ref: ParsedTargetRef): TargetableRoute[] {
    return (this.#candidates.get(`${ref.kind}\n${item.id.namespace}\n${ref.name}`) ?? []).filter((r) => targets(ref, item.id.namespace, r));
  }
}

function tierOf(ref: ParsedTargetRef): Tier {
  if (ref.kind === 'Service') return Tier.Service;
  return ref.host === undefined && ref.path === undefined && ref.sectionName === undefined ? Tier.Ingress : Tier.IngressRoute;
}

function describeRef(ref: ParsedTargetRef): string {
  const parts = [`${ref.kind} ${ref.name}`];
  if (ref.host !== undefined) parts.push(`host ${JSON.stringify(ref.host)}`);
  if (ref.path !== undefined) parts.push(`path ${JSON.stringify(ref.path)}`);
  if (ref.sectionName !== undefined) parts.push(`sectionName ${JSON.stringify(ref.sectionName)}`);
  return `targetRef ${parts.join(', ')}`;
}

function targets(ref: ParsedTargetRef, namespace: string, r: TargetableRoute): boolean {
  const { owner, ref: backend, route } = r.placed;
  if (owner.id.namespace !== namespace) return false;
  if (ref.kind === 'Service') return backend.service === ref.name;
  if (owner.id.name !== ref.name || owner.id.kind !== ref.kind) return false;
  if (ref.sectionName !== undefined && r.section !== ref.sectionName) return false;
  if (ref.host !== undefined && (r.host === null || r.host !== ref.host.toLowerCase())) return false;
  if (ref.path !== undefined && (r.host === null || route.match.path.value !== ref.path)) return false;
  return true;
}
