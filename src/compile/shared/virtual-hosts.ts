/**
 * Merging the routes of all our Ingresses into virtual hosts: conflicts between Ingresses (the
 * oldest wins), precedence inside a host, and the order of hosts in the table.
 */
import type { Route, VirtualHost } from '../../model/table.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import type { RouteCandidate } from '../ingress/ingress.ts';
import type { ObjectIdentity } from './objects.ts';
import { describeWinner } from './age.ts';
import type { ClusterNamer, ServiceRef } from '../ingress/backend.ts';
import { compareNumbers, compareStrings } from './order.ts';
import { ingressRoute } from '../ingress/ingress-route.ts';
import { INGRESS_LISTENERS } from '../ingress/listeners.ts';

/** An Ingress that is ours, with its place in age order (0 = oldest). */
export interface RankedIngress {
  readonly id: ObjectIdentity;
  readonly rank: number;
  /** Creation time in ms, null when unknown; see age.ts. */
  readonly created: number | null;
}

/** How a message names the Ingress that won a conflict against `loser`. */
export function winnerName(winner: RankedIngress, loser: RankedIngress): string {
  return describeWinner({ ...winner.id, created: winner.created }, loser.created);
}

/** A route that made it into the table, with what is needed to resolve its cluster. */
export interface PlacedRoute {
  readonly route: Route;
  readonly ref: ServiceRef;
  readonly owner: RankedIngress;
}

/** The virtual hosts and, flat, every route in them. */
export interface VirtualHostsResult {
  readonly virtualHosts: VirtualHost[];
  readonly routes: PlacedRoute[];
}

interface Claim {
  readonly candidate: RouteCandidate;
  readonly owner: RankedIngress;
}

/**
 * Builds the virtual hosts from route candidates given oldest Ingress first (and, within one
 * Ingress, in the order written). Routes for the same host from several Ingresses merge into one
 * virtual host. The same (host, pathType, key) twice is a conflict: the first claim — the oldest
 * Ingress, or the earlier path of one Ingress — wins, and the loser gets `RouteConflict`. Conflicts
 * are decided on paths alone, before the winners' backends are resolved by `clusterOf`.
 */
export function buildVirtualHosts(
  claims: readonly { readonly owner: RankedIngress; readonly routes: readonly RouteCandidate[] }[],
  clusterOf: ClusterNamer,
  sink: DiagnosticSink,
): VirtualHostsResult {
  const winners = new Map<string, Claim>();
  const byHost = new Map<string, Claim[]>();
  for (const { owner, routes } of claims) {
    for (const candidate of routes) {
      const identity = `${candidate.host.host} ${candidate.pathType} ${candidate.key}`;
      const winner = winners.get(identity);
      if (winner !== undefined) {
        reportConflict(sink, { candidate, owner }, winner);
        continue;
      }
      const claim = { candidate, owner };
      winners.set(identity, claim);
      const list = byHost.get(candidate.host.host);
      if (list === undefined) byHost.set(candidate.host.host, [claim]);
      else list.push(claim);
    }
  }

  const virtualHosts: VirtualHost[] = [];
  const routes: PlacedRoute[] = [];
  for (const host of [...byHost.keys()].sort(compareHosts(byHost))) {
    const hostClaims = byHost.get(host)!;
    // Provenance lists rules in merge order, before sorting routes by precedence.
    const provenance = [...new Set(hostClaims.map((c) => c.candidate.ruleProvenance))];
    const placed = hostClaims.sort(comparePrecedence).map(({ candidate, owner }): PlacedRoute => ({
      route: ingressRoute(candidate.pathType, candidate.path, clusterOf(owner.id.namespace, candidate.ref), candidate.provenance),
      ref: candidate.ref,
      owner,
    }));
    routes.push(...placed);
    virtualHosts.push({ host, match: hostClaims[0]!.candidate.host.match, routes: placed.map((p) => p.route), listeners: INGRESS_LISTENERS, provenance });
  }
  return { virtualHosts, routes };
}

function reportConflict(sink: DiagnosticSink, loser: Claim, winner: Claim): void {
  const { candidate } = loser;
  const by =
    winner.owner === loser.owner
      ? `an earlier path of this Ingress (${winner.candidate.provenance})`
      : `${winnerName(winner.owner, loser.owner)} (${winner.candidate.provenance})`;
  sink.report(
    loser.owner.id,
    'RouteConflict',
    'error',
    `${candidate.pathType} path ${JSON.stringify(candidate.path)} on host "${candidate.host.host}" is already routed by ${by}; this path is ignored`,
    candidate.provenance,
  );
}

const MATCH_ORDER: Readonly<Record<VirtualHost['match'], number>> = { exact: 0, wildcard: 1, any: 2 };

/** Exact hosts first, then wildcards, then `*`; each group by name. */
function compareHosts(byHost: ReadonlyMap<string, readonly Claim[]>): (a: string, b: string) => number {
  const order = (host: string): number => MATCH_ORDER[byHost.get(host)![0]!.candidate.host.match];
  return (a, b) => compareNumbers(order(a), order(b)) || compareStrings(a, b);
}

/**
 * Precedence inside a virtual host: the longest match key first (so Prefix `/foo/` ties with Exact
 * `/foo`), Exact before Prefix on a tie, then the older Ingress. Path and provenance only make the
 * order total; routes that still tie cannot match the same request.
 */
function comparePrecedence(a: Claim, b: Claim): number {
  return (
    compareNumbers(b.candidate.key.length, a.candidate.key.length) ||
    compareNumbers(a.candidate.pathType === 'Exact' ? 0 : 1, b.candidate.pathType === 'Exact' ? 0 : 1) ||
    compareNumbers(a.owner.rank, b.owner.rank) ||
    compareStrings(a.candidate.path, b.candidate.path) ||
    compareStrings(a.candidate.provenance, b.candidate.provenance)
  );
}
