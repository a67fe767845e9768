/**
 * Gateway API match precedence, from the specification's rules (the comment on
 * HTTPRouteRule.Matches) and its conformance tests httproute-matching and
 * httproute-matching-across-routes: candidates are sorted, placed in a virtual host in that order,
 * and the router's first match must be the backend the conformance test expects.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareGatewayMatches, sortByGatewayPrecedence, type GatewayMatchCandidate } from '../../src/compile/gateway/precedence.ts';
import type { Route, RouteMatch } from '../../src/model/table.ts';
import { buildRouter } from '../../src/router/router.ts';
import { nameOf, table, vhost } from '../router/builders.ts';

type Candidate = GatewayMatchCandidate & { readonly backend: string };

const prefix = (value: string): RouteMatch['path'] => ({ type: 'Prefix', value });

function candidate(name: string, ruleIndex: number, matchIndex: number, match: RouteMatch, backend: string, extra: Partial<GatewayMatchCandidate> = {}): Candidate {
  return { match, created: 0, namespace: 'gateway-conformance-infra', name, ruleIndex, matchIndex, backend, ...extra };
}

/** The candidates sorted, as one virtual host's routes whose clusters name the backend. */
function hostOf(candidates: readonly Candidate[]): Route[] {
  return sortByGatewayPrecedence(candidates).map((c) => ({ match: c.match, backends: [{ cluster: c.backend, weight: 1, provenance: 'test/b' }], filters: [], provenance: `HTTPRoute/ns/${c.name}/rule/${c.ruleIndex}/match/${c.matchIndex}` }));
}

function expectRouting(routes: Route[], cases: readonly [path: string, headers: Record<string, string>, backend: string][]): void {
  const router = buildRouter(table([vhost('example.com', ...routes)]));
  for (const [path, headers, backend] of cases) {
    const rawHeaders = Object.entries(headers).flat();
    assert.equal(nameOf(router.match('example.com', path, { method: 'GET', url: path, rawHeaders })), backend, `${path} ${JSON.stringify(headers)}`);
  }
}

const version = (value: string): RouteMatch['headers'] => [{ name: 'version', type: 'Exact', value }];

describe('Gateway API match precedence', () => {
  test('conformance httproute-matching: longest prefix, then more headers', () => {
    const routes = hostOf([
      candidate('matching', 0, 0, { path: prefix('/') }, 'v1'),
      candidate('matching', 0, 1, { path: prefix('/'), headers: version('one') }, 'v1'),
      candidate('matching', 1, 0, { path: prefix('/v2') }, 'v2'),
      candidate('matching', 1, 1, { path: prefix('/'), headers: version('two') }, 'v2'),
    ]);
    expectRouting(routes, [
      ['/', {}, 'v1'],
      ['/example', {}, 'v1'],
      ['/', { Version: 'one' }, 'v1'],
      ['/v2', {}, 'v2'],
      ['/v2/example', {}, 'v2'],
      ['/', { Version: 'two' }, 'v2'],
      ['/v2/', {}, 'v2'],
      ['/v2example', {}, 'v1'],
      ['/foo/v2/example', {}, 'v1'],
      // The longer prefix wins over a header match: /v2 with version one still reaches v2.
      ['/v2', { Version: 'one' }, 'v2'],
    ]);
  });

  test('conformance httproute-matching-across-routes: the same order across two HTTPRoutes', () => {
    const routes = hostOf([
      candidate('matching-part1', 0, 0, { path: prefix('/') }, 'v1'),
      candidate('matching-part1', 0, 1, { path: prefix('/'), headers: version('one') }, 'v1'),
      candidate('matching-part2', 0, 0, { path: prefix('/v2') }, 'v2'),
      candidate('matching-part2', 0, 1, { path: prefix('/'), headers: version('two') }, 'v2'),
    ]);
    expectRouting(routes, [['/', {}, 'v1'], ['/example', {}, 'v1'], ['/example', { Version: 'one' }, 'v1'], ['/v2', {}, 'v2'], ['/v2/example', {}, 'v2'], ['/', { Version: 'two' }, 'v2']]);
  });

  test('each criterion in turn: Exact, longest Prefix, method, headers, query parameters', () => {
    const expected = [
      candidate('r', 9, 0, { path: { type: 'Exact', value: '/a' } }, 'exact'),
      candidate('r', 8, 0, { path: { type: 'RegularExpression', value: '/a/[0-9]+' } }, 'regex'),
      candidate('r', 7, 0, { path: prefix('/a/b/') }, 'longer prefix'),
      candidate('r', 6, 0, { path: prefix('/a'), method: 'GET' }, 'method'),
      candidate('r', 5, 0, { path: prefix('/a'), headers: [...version('1')!, { name: 'x', type: 'Exact', value: '1' }] }, 'two headers'),
      candidate('r', 4, 0, { path: prefix('/a'), headers: version('1'), queryParams: [{ name: 'q', type: 'Exact', value: '1' }] }, 'header and query'),
      candidate('r', 3, 0, { path: prefix('/a'), headers: version('1') }, 'one header'),
      candidate('r', 2, 0, { path: prefix('/a') }, 'bare'),
    ];
    assert.deepEqual(sortByGatewayPrecedence([...expected].reverse()).map((c) => c.backend), expected.map((c) => c.backend));
  });

  test('ties: the older Route, then namespace/name, then rule and match order', () => {
    const m: RouteMatch = { path: prefix('/') };
    const expected = [
      candidate('zeta', 1, 0, m, 'oldest', { created: 100 }),
      candidate('alpha', 0, 0, m, 'a/alpha', { created: 200, namespace: 'a' }),
      candidate('beta', 0, 0, m, 'b/beta rule 0 match 0', { created: 200, namespace: 'b' }),
      candidate('beta', 0, 1, m, 'b/beta rule 0 match 1', { created: 200, namespace: 'b' }),
      candidate('beta', 1, 0, m, 'b/beta rule 1', { created: 200, namespace: 'b' }),
      candidate('aaa', 0, 0, m, 'no creation time', { created: null }),
    ];
    assert.deepEqual(sortByGatewayPrecedence([...expected].reverse()).map((c) => c.backend), expected.map((c) => c.backend));
    assert.equal(compareGatewayMatches(expected[2]!, expected[2]!), 0);
  });

  test('a trailing slash does not lengthen a prefix; a longer pattern comes first', () => {
    const sorted = sortByGatewayPrecedence([
      candidate('r', 0, 0, { path: prefix('/foo/') }, 'slash'),
      candidate('r', 1, 0, { path: prefix('/foo'), method: 'GET' }, 'method'),
      candidate('r', 2, 0, { path: { type: 'RegularExpression', value: '/.*' } }, 'short pattern'),
      candidate('r', 3, 0, { path: { type: 'RegularExpression', value: '/api/.*' } }, 'long pattern'),
    ]);
    assert.deepEqual(sorted.map((c) => c.backend), ['long pattern', 'short pattern', 'method', 'slash']);
  });
});
