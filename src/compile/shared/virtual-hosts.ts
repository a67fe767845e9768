/**
 * Merging route candidates into virtual hosts: conflicts (the first claim wins), precedence inside
 * a host (the front end's comparator), and the order of hosts in the table.
 */
import type { VirtualHost } from '../../model/table.ts';
import type { HostTlsParameters } from '../../model/tls-parameters.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { describeWinner } from './age.ts';
import type { RankedOwner, RouteCandidate, RoutePrecedence } from './candidates.ts';
import type { ClusterNamer } from './cluster-names.ts';
import { describeMatch, type MatchDescription } from './match-description.ts';
import { compareNumbers, compareStrings } from './order.ts';
import { resolveRoute, type MergedRoute } from './placed-route.ts';

/** How a message names the object that won a conflict against `loser`. */
export function winnerName(winner: RankedOwner, loser: RankedOwner): string {
  return describeWinner({ ...winner.id, created: winner.created }, loser.created);
}

/** The virtual hosts and, flat, every route in them. */
export interface VirtualHostsResult {
  readonly virtualHosts: VirtualHost[];
  readonly routes: MergedRoute[];
}

/**
 * Builds the virtual hosts from route candidates given in claim order (for Ingresses: oldest
 * first, and within one Ingress in the order written). Candidates for the same host merge into
 * virtual hosts by listener (see `listenerGroups`): a listener serves the candidates that name it. The same (host, conflict key) twice is a
 * conflict: the first claim wins, and the loser gets `RouteConflict`. Conflicts are decided before
 * the winners' backends are resolved by `clusterOf`; inside a host, routes are sorted by
 * `precedence`.
 */
export function buildVirtualHosts(candidates: readonly RouteCandidate[], precedence: RoutePrecedence, clusterOf: ClusterNamer, sink: DiagnosticSink): VirtualHostsResult {
  const winners = new Map<string, RouteCandidate>();
  const byHost = new Map<string, RouteCandidate[]>();
  for (const candidate of candidates) {
    const identity = `${candidate.host.host} ${candidate.conflictKey}`;
    const winner = winners.get(identity);
    if (winner !== undefined) {
      reportConflict(sink, candidate, winner);
      continue;
    }
    winners.set(identity, candidate);
    // One name matched two ways (an Ingress's one-label wildcard, a Gateway's suffix) is two hosts.
    const key = hostKey(candidate);
    const list = byHost.get(key);
    if (list === undefined) byHost.set(key, [candidate]);
    else list.push(candidate);
  }

  const virtualHosts: VirtualHost[] = [];
  const routes: MergedRoute[] = [];
  for (const key of [...byHost.keys()].sort(compareHosts(byHost))) {
    const host = byHost.get(key)![0]!.host.host;
    for (const { claims, listeners } of listenerGroups(byHost.get(key)!)) {
      // Provenance lists rules in merge order, before sorting routes by precedence.
      const provenance = [...new Set(claims.map((c) => c.ruleProvenance))];
      const placed = [...claims].sort(precedence).map((c) => resolveRoute(c.route, c.owner, clusterOf));
      routes.push(...placed);
      // Host level, as nginx's server: the first claim that asks for a check gives it to every route.
      const clientAuth = claims.find((c) => c.clientAuth !== undefined)?.clientAuth;
      const tlsParameters = hostTlsParameters(claims);
      virtualHosts.push({ host, match: claims[0]!.host.match, routes: placed.map((p) => p.route), listeners, provenance, ...(clientAuth === undefined ? {} : { clientAuth }), ...(tlsParameters === null ? {} : { tlsParameters }) });
    }
  }
  return { virtualHosts, routes };
}

/**
 * The virtual hosts of one name: each listener serves exactly the candidates that name it, and
 * listeners that serve the same candidates share one virtual host (the usual case: one virtual host
 * on every listener the name's candidates name). Groups come in the order of their first listener.
 */
function listenerGroups(claims: readonly RouteCandidate[]): { claims: RouteCandidate[]; listeners: string[] }[] {
  const listeners = [...new Set(claims.flatMap((c) => c.listeners))].sort(compareStrings);
  const groups = new Map<string, { claims: RouteCandidate[]; listeners: string[] }>();
  for (const listener of listeners) {
    const mine = claims.filter((c) => c.listeners.includes(listener));
    const key = mine.map((c) => claims.indexOf(c)).join(',');
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { claims: mine, listeners: [listener] });
    else group.listeners.push(listener);
  }
  return [...groups.values()];
}

function reportConflict(sink: DiagnosticSink, loser: RouteCandidate, winner: RouteCandidate): void {
  const by =
    winner.owner.id.provenance === loser.owner.id.provenance
      ? `an earlier path of this ${loser.owner.id.kind} (${winner.route.provenance})`
      : `${winnerName(winner.owner, loser.owner)} (${winner.route.provenance})`;
  const what: MatchDescription = describeMatch(loser.route.match);
  sink.report(loser.owner.id, 'RouteConflict', 'error', `${what.text} on host "${loser.host.host}" is already routed by ${by}; this ${what.noun} is ignored`, loser.route.provenance);
}

const MATCH_ORDER: Readonly<Record<VirtualHost['match'], number>> = { exact: 0, wildcard: 1, suffix: 2, any: 3 };

/** The key of a candidate's host: its match and name (`exact shop.example.com`). */
function hostKey(candidate: RouteCandidate): string {
  return `${candidate.host.match} ${candidate.host.host}`;
}

/** Exact hosts first, then wildcards, then suffixes, then `*`; each group by name. */
function compareHosts(byHost: ReadonlyMap<string, readonly RouteCandidate[]>): (a: string, b: string) => number {
  const first = (key: string): RouteCandidate => byHost.get(key)![0]!;
  return (a, b) => compareNumbers(MATCH_ORDER[first(a).host.match], MATCH_ORDER[first(b).host.match]) || compareStrings(first(a).host.host, first(b).host.host);
}

/**
 * The TLS parameters of a host, as nginx builds its server: field by field, from the first claim
 * that sets it (ingress-nginx: the oldest Ingress with `ssl-ciphers` gives the ciphers, the oldest
 * with `ssl-prefer-server-ciphers` the order), else from the claims' defaults (its ConfigMap).
 * Null when nothing sets any.
 */
function hostTlsParameters(claims: readonly RouteCandidate[]): HostTlsParameters | null {
  const first = <K extends keyof HostTlsParameters>(key: K): HostTlsParameters[K] | undefined =>
    claims.find((c) => c.tlsParameters?.[key] !== undefined)?.tlsParameters?.[key] ?? claims.find((c) => c.tlsDefaults?.[key] !== undefined)?.tlsDefaults?.[key];
  const out: { -readonly [K in keyof HostTlsParameters]: HostTlsParameters[K] } = {};
  // The versions come as one setting, from one place.
  const versions = claims.find((c) => c.tlsParameters?.minVersion !== undefined || c.tlsParameters?.maxVersion !== undefined)?.tlsParameters
    ?? claims.find((c) => c.tlsDefaults?.minVersion !== undefined || c.tlsDefaults?.maxVersion !== undefined)?.tlsDefaults;
  if (versions?.minVersion !== undefined) out.minVersion = versions.minVersion;
  if (versions?.maxVersion !== undefined) out.maxVersion = versions.maxVersion;
  const ciphers = first('ciphers');
  if (ciphers !== undefined) out.ciphers = ciphers;
  const prefer = first('preferServerCiphers');
  if (prefer !== undefined) out.preferServerCiphers = prefer;
  return Object.keys(out).length === 0 ? null : out;
}
