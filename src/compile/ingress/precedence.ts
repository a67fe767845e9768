/**
 * The Ingress front end's precedence and conflict rules: what makes two paths the same route, and
 * which route of a virtual host a request tries first.
 */
import type { PathMatch } from '../../model/table.ts';
import type { RouteCandidate } from '../shared/candidates.ts';
import { compareNumbers, compareStrings } from '../shared/order.ts';
import { prefixKey } from './paths.ts';

/**
 * What a path matches, as in {@link ParsedPath.key}: the path itself for Exact, for Prefix the path
 * without trailing slashes (`/foo/` and `/foo` match the same requests).
 */
function matchKey(path: PathMatch): string {
  return path.type === 'Prefix' ? prefixKey(path.value) : path.value;
}

/** The conflict key of an Ingress path: its type and match key (see `RouteCandidate.conflictKey`). */
export function ingressConflictKey(path: PathMatch): string {
  return `${path.type} ${matchKey(path)}`;
}

/**
 * Precedence inside a virtual host: the longest match key first (so Prefix `/foo/` ties with Exact
 * `/foo`), Exact before Prefix on a tie, then the older Ingress. Path and provenance only make the
 * order total; routes that still tie cannot match the same request.
 */
export function ingressPrecedence(a: RouteCandidate, b: RouteCandidate): number {
  const pa = a.route.match.path;
  const pb = b.route.match.path;
  return (
    compareNumbers(matchKey(pb).length, matchKey(pa).length) ||
    compareNumbers(pa.type === 'Exact' ? 0 : 1, pb.type === 'Exact' ? 0 : 1) ||
    compareNumbers(a.owner.rank, b.owner.rank) ||
    compareStrings(pa.value, pb.value) ||
    compareStrings(a.route.provenance, b.route.provenance)
  );
}
