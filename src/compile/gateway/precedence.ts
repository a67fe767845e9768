/**
 * Gateway API HTTPRoute match precedence (apis/v1/httproute_types.go, the comment on
 * `HTTPRouteRule.Matches`): the order in which the routes of one host are placed in the table, so
 * that the router's first match is the match the specification gives precedence to. Across all
 * rules of all HTTPRoutes attached to a host, continuing on ties:
 *
 * 1. an Exact path match;
 * 2. a Prefix path match with the largest number of characters;
 * 3. a method match;
 * 4. the largest number of header matches;
 * 5. the largest number of query parameter matches;
 * 6. the oldest Route by creation timestamp;
 * 7. the Route first in alphabetical order by `{namespace}/{name}`;
 * 8. within one Route, the first rule, and within it the first match, in list order.
 *
 * RegularExpression paths are implementation-specific in the specification. Here they come after
 * Exact and before every Prefix, the longer pattern first (as Envoy Gateway orders them): a
 * pattern is a deliberate, narrow condition, and after the Prefix `/` that nearly every host has it
 * would never be reached. Prefix lengths are counted without a trailing slash, since `/foo/` and
 * `/foo` match the same requests.
 *
 * Pure: used by the Gateway API front end to sort its route candidates.
 */
import type { RouteMatch } from '../../model/table.ts';
import { compareNumbers, compareStrings } from '../shared/order.ts';

/** One match of one rule of an HTTPRoute, with what breaks ties between equal matches. */
export interface GatewayMatchCandidate {
  /** The match as the route will carry it in the table. */
  readonly match: RouteMatch;
  /** The HTTPRoute's `metadata.creationTimestamp` in milliseconds; null (unknown) counts as newest. */
  readonly created: number | null;
  readonly namespace: string;
  readonly name: string;
  /** Index of the rule in `spec.rules`. */
  readonly ruleIndex: number;
  /** Index of the match in the rule's `matches`. */
  readonly matchIndex: number;
}

const PATH_RANK: Readonly<Record<RouteMatch['path']['type'], number>> = { Exact: 0, RegularExpression: 1, Prefix: 2 };

/** Negative when `a` takes precedence over `b`, positive when `b` does; 0 only for the same match. */
export function compareGatewayMatches(a: GatewayMatchCandidate, b: GatewayMatchCandidate): number {
  const x = a.match;
  const y = b.match;
  return (
    compareNumbers(PATH_RANK[x.path.type], PATH_RANK[y.path.type]) ||
    // Longer first: Prefix by characters, patterns by length; two Exact paths never take the same request.
    (x.path.type === 'Exact' ? 0 : compareNumbers(specificLength(y), specificLength(x))) ||
    compareNumbers(y.method === undefined ? 0 : 1, x.method === undefined ? 0 : 1) ||
    compareNumbers(y.headers?.length ?? 0, x.headers?.length ?? 0) ||
    compareNumbers(y.queryParams?.length ?? 0, x.queryParams?.length ?? 0) ||
    compareNumbers(a.created ?? Number.POSITIVE_INFINITY, b.created ?? Number.POSITIVE_INFINITY) ||
    compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`) ||
    compareNumbers(a.ruleIndex, b.ruleIndex) ||
    compareNumbers(a.matchIndex, b.matchIndex)
  );
}

/** A sorted copy of `candidates`, highest precedence first (the table order of a host's routes). */
export function sortByGatewayPrecedence<T extends GatewayMatchCandidate>(candidates: readonly T[]): T[] {
  return [...candidates].sort(compareGatewayMatches);
}

function specificLength(m: RouteMatch): number {
  const value = m.path.value;
  if (m.path.type !== 'Prefix') return value.length;
  let end = value.length;
  while (end > 1 && value.charCodeAt(end - 1) === 0x2f) end--;
  return end;
}
