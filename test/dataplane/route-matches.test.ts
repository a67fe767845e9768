/**
 * Route conditions through the proxy, with real sockets: routes with method, header, query and
 * regular-expression matches (added to an Ingress table, as a front end will write them), the
 * first that holds taking the request, and virtual hosts served only on the listeners they name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';
import type { Route, RouteMatch, RoutingTable } from '../../src/model/table.ts';

const SERVICES = ['shop', 'api', 'canary', 'writes', 'reports', 'beta', 'fallback'] as const;

/** A route to Service `service` of namespace default, as a front end would write it. */
function routeTo(service: string, match: RouteMatch, n: number): Route {
  const provenance = `HTTPRoute/default/matches/rule/${n}`;
  return { match, backends: [{ cluster: `default/${service}:80`, weight: 1, provenance: `${provenance}/backendRef/0` }], filters: [], provenance };
}

/** The Ingress table with conditional routes first on shop.example.com, and secure.example.com on HTTPS only. */
function edit(table: RoutingTable): RoutingTable {
  const root = { type: 'Prefix', value: '/' } as const;
  const conditional: Route[] = [
    routeTo('reports', { path: { type: 'RegularExpression', value: '/reports/[0-9]{4}/[a-z]+\\.csv', ignoreCase: true } }, 0),
    routeTo('canary', { path: root, headers: [{ name: 'x-canary', type: 'Exact', value: 'always' }] }, 1),
    routeTo('beta', { path: { type: 'Prefix', value: '/api' }, queryParams: [{ name: 'channel', type: 'RegularExpression', value: 'beta|preview' }] }, 2),
    routeTo('writes', { path: { type: 'Prefix', value: '/api' }, method: 'POST' }, 3),
    // Exponential on a backtracking engine for a run of a's without a b.
    routeTo('canary', { path: root, headers: [{ name: 'x-slow', type: 'RegularExpression', value: '(a+)+b' }] }, 4),
  ];
  return {
    ...table,
    virtualHosts: table.virtualHosts.map((vhost) => {
      if (vhost.host === 'shop.example.com') return { ...vhost, routes: [...conditional, ...vhost.routes] };
      if (vhost.host === 'secure.example.com') return { ...vhost, listeners: ['https'] };
      return vhost;
    }),
  };
}

describe('route conditions through the proxy', () => {
  let dir: string;
  let proxy: TestProxy;
  const upstreams: TestUpstream[] = [];
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });

  before(async () => {
    for (const name of SERVICES) upstreams.push(await startUpstream(name));
    dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', [
      ingressClass(),
      ...upstreams.flatMap((u) => serviceWithEndpoints(u.name, [{ port: u.port }])),
      // Every Service is named by a path, so that its cluster is in the table for the edit to use.
      ingress('shop', 'shop.example.com', [{ path: '/', service: 'shop' }, { path: '/api', service: 'api' }, ...SERVICES.slice(2, 6).map((service) => ({ path: `/only-${service}`, service }))], { defaultBackend: 'fallback' }),
      ingress('secure', 'secure.example.com', [{ path: '/', service: 'shop' }]),
    ]);
    proxy = await startProxy(dir, { editTable: edit });
  });

  after(async () => {
    await proxy?.stop();
    await insecure.close();
    await Promise.all(upstreams.map((u) => u.close()));
    await removeDir(dir);
  });

  /** Which upstream a request reaches (or the status when none does). */
  async function reach(base: string, method: string, path: string, headers: Record<string, string | string[]> = {}, host = 'shop.example.com'): Promise<string | number> {
    const res = await request(`${base}${path}`, { method, headers: { host, ...headers }, dispatcher: base.startsWith('https') ? insecure : undefined });
    await res.body.text();
    return (res.headers['x-upstream'] as string | undefined) ?? res.statusCode;
  }

  const cases: [method: string, path: string, headers: Record<string, string | string[]>, expected: string][] = [
    ['GET', '/', {}, 'shop'],
    ['GET', '/api/orders', {}, 'api'],
    ['POST', '/api/orders', {}, 'writes'],
    ['POST', '/cart', {}, 'shop'],
    ['GET', '/api/orders?channel=preview', {}, 'beta'],
    ['POST', '/api/orders?channel=beta', {}, 'beta'],
    ['GET', '/api/orders?channel=stable', {}, 'api'],
    ['GET', '/api/orders?x=1&channel=be%74a', {}, 'beta'],
    ['GET', '/cart', { 'x-canary': 'always' }, 'canary'],
    ['POST', '/api/orders', { 'X-Canary': 'always' }, 'canary'],
    ['GET', '/cart', { 'x-canary': 'sometimes' }, 'shop'],
    ['GET', '/Reports/2024/Sales.CSV', {}, 'reports'],
    ['GET', '/reports/2024/sales.csv', { 'x-canary': 'always' }, 'reports'],
    ['GET', '/reports/24/sales.csv', {}, 'shop'],
    ['GET', '/reports/2024/sales.csv/more', {}, 'shop'],
    // The path is matched normalised: an encoded letter or a dot segment cannot dodge the pattern.
    ['GET', '/x/../reports/2024/%73ales.csv', {}, 'reports'],
  ];
  for (const [method, path, headers, expected] of cases) {
    it(`${method} ${path} ${JSON.stringify(headers)} reaches ${expected}`, async () => {
      assert.equal(await reach(proxy.http, method, path, headers), expected);
    });
  }

  it('a host served on HTTPS only is not found on HTTP: the default backend answers there', async () => {
    assert.equal(await reach(proxy.https, 'GET', '/', {}, 'secure.example.com'), 'shop');
    assert.equal(await reach(proxy.http, 'GET', '/', {}, 'secure.example.com'), 'fallback');
  });

  it('a pathological pattern does not stall the worker', async () => {
    assert.equal(await reach(proxy.http, 'GET', '/cart', { 'x-slow': `${'a'.repeat(5000)}!` }), 'shop');
    assert.equal(await reach(proxy.http, 'GET', '/cart', { 'x-slow': 'aaab' }), 'canary');
  });
});
