/** A table of one route for the filter checks of `checkTable`, and the messages it gives. */
import assert from 'node:assert/strict';
import { checkTable } from '../../src/model/check-table.ts';
import { DEFAULT_CLUSTER_POLICY } from '../../src/model/policy.ts';
import type { Filter, RoutingTable } from '../../src/model/table.ts';

/** The provenance of the one route. */
export const ROUTE = 'Ingress/shop/api/rule/0/path/0';

/** A table of one route, on one cluster, whose filters are `filters`. */
export function oneRouteTable(filters: readonly Filter[]): RoutingTable {
  return {
    listeners: [{ name: 'http', protocol: 'HTTP', port: null, hostname: null, tls: null, defaultRoute: true, provenance: 'Listener/default/http' }],
    virtualHosts: [
      {
        host: 'api.example.com',
        match: 'exact',
        routes: [{ match: { path: { type: 'Prefix', value: '/' } }, backends: [{ cluster: 'shop/api:80', weight: 1, provenance: `${ROUTE}/backend` }], filters, provenance: ROUTE }],
        listeners: ['http'],
        provenance: ['Ingress/shop/api/rule/0'],
      },
    ],
    defaultRoute: null,
    clusters: { 'shop/api:80': { name: 'shop/api:80', namespace: 'shop', service: 'api', servicePort: 80, portName: 'http', endpoints: [], policy: DEFAULT_CLUSTER_POLICY, provenance: [ROUTE] } },
    certificates: [],
    scripts: {},
    streamRoutes: [],
  };
}

/** The messages `checkTable` gives for a route with `filter` alone, each asserted to be at that filter. */
export function filterMessages(filter: Filter): string[] {
  const violations = checkTable(oneRouteTable([filter]));
  for (const v of violations) {
    assert.match(v.at, /^virtualHosts\[0\]\.routes\[0\]\.filters\[0\]/);
    assert.equal(v.provenance, ROUTE);
  }
  return violations.map((v) => v.message);
}
