/**
 * `checkTable` on small hand-made tables: a sound one passes, and each invariant, broken on its
 * own, is reported once, at the node that breaks it and with that node's provenance.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTable, type TableViolation } from '../../src/model/check-table.ts';
import { clusterOverridesDigest } from '../../src/model/override-digest.ts';
import { DEFAULT_BACKEND_TLS, DEFAULT_CLUSTER_POLICY } from '../../src/model/policy.ts';
import { INGRESS_LISTENER_LIST } from '../../src/compile/ingress/listeners.ts';
import type { Cluster, CompiledScript, Endpoint, PathMatchType, Route, RoutingTable } from '../../src/model/table.ts';

/** A table as a test may edit it. */
type Draft<T> = T extends readonly (infer U)[] ? Draft<U>[] : T extends object ? { -readonly [K in keyof T]: Draft<T[K]> } : T;

const draft = <T>(value: T): Draft<T> => value as Draft<T>;

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

function endpoint(address: string, slice = 'EndpointSlice/shop/web-abc12/endpoint/0'): Endpoint {
  return { address, port: 8080, weight: 1, ready: true, serving: true, terminating: false, provenance: slice };
}

function cluster(service: string, port: number, endpoints: Endpoint[], provenance: string[]): Cluster {
  return { name: `shop/${service}:${port}`, namespace: 'shop', service, servicePort: port, portName: 'http', endpoints, policy: DEFAULT_CLUSTER_POLICY, provenance };
}

const P = 'Ingress/shop/storefront';

/** A route as the Ingress front end makes it: one backend, the RouteScript (if any) as its one filter. */
function r(type: PathMatchType, path: string, cluster: string, provenance: string, script?: string): Route {
  return {
    match: { path: { type, value: path } },
    backends: [{ cluster, weight: 1, provenance: `${provenance}/backend` }],
    filters: script === undefined ? [] : [{ type: 'RouteScript', script }],
    provenance,
  };
}

/** A sound table using every kind of node: three kinds of virtual host, scripts, a certificate. */
function sound(): Draft<RoutingTable> {
  const script: CompiledScript = {
    name: 'shop/auth',
    code: 'export function onRequest() {}',
    data: { allow: ['10.0.0.0/8'] },
    limits: { timeoutMs: 5, memoryMiB: 16 },
    failurePolicy: 'fallback',
    rejectStatus: 503,
    backends: { canary: 'shop/canary:80' },
    lookup: { cluster: 'shop/users:80', path: '/users/{key}', cacheTtlMs: 60_000, timeoutMs: 50 },
    pause: null,
    invalid: false,
    provenance: 'RouteScript/shop/auth',
  };
  const closed: CompiledScript = {
    ...script,
    name: 'shop/closed',
    code: '',
    data: {},
    limits: { timeoutMs: 5, memoryMiB: 16 },
    failurePolicy: 'reject',
    backends: {},
    lookup: null,
    invalid: true,
    provenance: 'RouteScript/shop/closed',
  };
  const table: RoutingTable = {
    listeners: INGRESS_LISTENER_LIST,
    virtualHosts: [
      {
        host: 'shop.example.com',
        match: 'exact',
        routes: [
          r('Exact', '/checkout', 'shop/web:80', `${P}/rule/0/path/2`, 'shop/auth'),
          r('Exact', '/api', 'shop/web:80', `${P}/rule/0/path/3`, 'shop/closed'),
          r('Prefix', '/api/', 'shop/api:http', `${P}/rule/0/path/1`),
          r('Prefix', '/', 'shop/web:80', `${P}/rule/0/path/0`),
        ],
        listeners: ['http', 'https'],
        provenance: [`${P}/rule/0`],
      },
      { host: '*.example.com', match: 'wildcard', routes: [r('Prefix', '/', 'shop/web:80', `${P}/rule/1/path/0`)], listeners: ['http', 'https'], provenance: [`${P}/rule/1`] },
      { host: '*', match: 'any', routes: [r('Prefix', '/', 'shop/web:80', `${P}/rule/2/path/0`)], listeners: ['http', 'https'], provenance: [`${P}/rule/2`] },
    ],
    defaultRoute: r('Prefix', '/', 'shop/web:80', `${P}/defaultBackend`),
    clusters: {
      'shop/api:http': { name: 'shop/api:http', namespace: 'shop', service: 'api', servicePort: null, portName: '', endpoints: [], policy: DEFAULT_CLUSTER_POLICY, provenance: [`${P}/rule/0/path/1`] },
      'shop/canary:80': cluster('canary', 80, [endpoint('10.0.0.9', 'EndpointSlice/shop/canary-x/endpoint/0')], ['RouteScript/shop/auth/backends/canary']),
      'shop/users:80': cluster('users', 80, [], ['RouteScript/shop/auth/lookup']),
      'shop/web:80': cluster('web', 80, [endpoint('10.0.0.2'), endpoint('10.0.0.10'), endpoint('2001:db8::1')], [`${P}/defaultBackend`, `${P}/rule/0/path/0`]),
    },
    certificates: [{ name: 'shop/tls', hosts: ['*.example.com', 'shop.example.com'], certPem: CERT, keyPem: KEY, provenance: [`${P}/tls/0`] }],
    scripts: { 'shop/auth': script, 'shop/closed': closed },
    streamRoutes: [],
  };
  return structuredClone(table) as Draft<RoutingTable>;
}

/** The one violation a broken table has; fails, listing them all, when there is not exactly one. */
function only(table: Draft<RoutingTable>): TableViolation {
  const violations = checkTable(table as RoutingTable);
  assert.equal(violations.length, 1, `expected one violation, got ${JSON.stringify(violations, null, 2)}`);
  return violations[0]!;
}

/** Breaks a sound table with `edit` and expects one violation, at `at`, with that provenance and message. */
function expect(edit: (t: Draft<RoutingTable>) => void, at: string, provenance: string, message: RegExp): void {
  const table = sound();
  edit(table);
  const violation = only(table);
  assert.equal(violation.at, at);
  assert.equal(violation.provenance, provenance);
  assert.match(violation.message, message);
}

/** Adds a cluster, keeping the keys sorted as a compiled table has them. */
function addCluster(t: Draft<RoutingTable>, c: Cluster): void {
  const all = { ...t.clusters, [c.name]: structuredClone(c) as Draft<Cluster> };
  t.clusters = Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const shop = (t: Draft<RoutingTable>) => t.virtualHosts[0]!;
const web = (t: Draft<RoutingTable>) => t.clusters['shop/web:80']!;
const auth = (t: Draft<RoutingTable>) => t.scripts['shop/auth']!;

describe('checkTable', () => {
  test('a sound table has no violations', () => assert.deepEqual(checkTable(sound() as RoutingTable), []));
  test('the empty table has none', () => assert.deepEqual(checkTable({ listeners: [], virtualHosts: [], defaultRoute: null, clusters: {}, certificates: [], scripts: {}, streamRoutes: [] }), []));

  describe('references', () => {
    test('a route to a cluster that is not in clusters', () =>
      expect((t) => { shop(t).routes[3]!.backends[0]!.cluster = 'shop/gone:80'; }, 'virtualHosts[0].routes[3].backends[0]', `${P}/rule/0/path/0`, /cluster "shop\/gone:80" is not in clusters/));
    test('the default route to a missing cluster', () =>
      expect((t) => { t.defaultRoute!.backends[0]!.cluster = 'shop/gone:80'; }, 'defaultRoute.backends[0]', `${P}/defaultBackend`, /not in clusters/));
    test('a route to a cluster of another namespace', () =>
      expect((t) => {
        addCluster(t, { ...cluster('ledger', 80, [], [`${P}/rule/1/path/0`]), name: 'bank/ledger:80', namespace: 'bank' });
        t.virtualHosts[1]!.routes[0]!.backends[0]!.cluster = 'bank/ledger:80';
      }, 'virtualHosts[1].routes[0].backends[0]', `${P}/rule/1/path/0`, /is in namespace bank, not shop/));
    test('a route naming a script that is not in scripts', () =>
      expect((t) => { shop(t).routes[0]!.filters = [{ type: 'RouteScript', script: 'shop/gone' }]; }, 'virtualHosts[0].routes[0].filters[0]', `${P}/rule/0/path/2`, /script "shop\/gone" is not in scripts/));
    test('a route running a script of another namespace', () =>
      expect((t) => {
        t.scripts = { 'bank/closed': { ...structuredClone(t.scripts['shop/closed']!), name: 'bank/closed', provenance: 'RouteScript/bank/closed' }, ...t.scripts };
        shop(t).routes[1]!.filters = [{ type: 'RouteScript', script: 'bank/closed' }];
      }, 'virtualHosts[0].routes[1].filters[0]', `${P}/rule/0/path/3`, /script bank\/closed is not in namespace shop/));
    test('a script backend whose cluster is missing', () =>
      expect((t) => { auth(t).backends = { canary: 'shop/canary:80', stable: 'shop/stable:80' }; }, 'scripts["shop/auth"].backends.stable', 'RouteScript/shop/auth', /backend stable: cluster "shop\/stable:80" is not in clusters/));
    test('a lookup whose cluster is missing', () =>
      expect((t) => {
        delete t.clusters['shop/users:80'];
      }, 'scripts["shop/auth"].lookup', 'RouteScript/shop/auth', /lookup cluster "shop\/users:80" is not in clusters/));
    test('a cluster nothing uses', () =>
      expect((t) => addCluster(t, cluster('web', 81, [], [`${P}/rule/0/path/9`])), 'clusters["shop/web:81"]', `${P}/rule/0/path/9`, /used by no route and no script/));
  });

  describe('virtual hosts', () => {
    for (const [index, host] of [
      [0, 'Shop.example.com'],
      [0, '10.0.0.1'],
      [0, 'shop.example.com:443'],
      [0, '*.shop.example.com'],
      [1, 'a.*.example.com'],
      [1, '**.example.com'],
      [1, 'example.com'],
      [2, 'all'],
    ] as const) {
      test(`${['an exact', 'a wildcard', 'the catch-all'][index]} virtual host named ${JSON.stringify(host)}`, () =>
        expect((t) => { t.virtualHosts[index]!.host = host; }, `virtualHosts[${index}]`, `${P}/rule/${index}`, /is not|must be named \*/));
    }
    test('two virtual hosts for one name', () =>
      expect((t) => { t.virtualHosts.splice(1, 0, { ...structuredClone(shop(t)), provenance: [`${P}/rule/5`] }); }, 'virtualHosts[1]', `${P}/rule/5`, /second virtual host/));
    test('hosts out of order: a wildcard before an exact host', () =>
      expect((t) => { t.virtualHosts.unshift(...t.virtualHosts.splice(1, 1)); }, 'virtualHosts[1]', `${P}/rule/0`, /exact hosts come first/));
    test('a virtual host without routes', () =>
      expect((t) => { t.virtualHosts[1]!.routes = []; }, 'virtualHosts[1]', `${P}/rule/1`, /has no routes/));
  });

  describe('routes', () => {
    test('a path that does not start with /', () =>
      expect((t) => { shop(t).routes[0]!.match.path.value = 'checkout/'; }, 'virtualHosts[0].routes[0]', `${P}/rule/0/path/2`, /does not start with \//));
    for (const path of ['/a b', '/a?b', '/a#b', '/a\u0000', '/a//b', '/a/../b', '/a/./b']) {
      test(`an unmatchable path ${JSON.stringify(path)}`, () =>
        expect((t) => { shop(t).routes[0]!.match.path.value = `/checkout${path}`; }, 'virtualHosts[0].routes[0]', `${P}/rule/0/path/2`, /no request could match it/));
    }
    test('a path type the router does not know', () =>
      expect((t) => { (shop(t).routes[3]!.match.path as { type: string }).type = 'Glob'; }, 'virtualHosts[0].routes[3]', `${P}/rule/0/path/0`, /not Exact, Prefix or RegularExpression/));
    test('two Prefix routes for one path, spelled with and without a trailing slash', () =>
      expect((t) => { shop(t).routes.splice(3, 0, draft(r('Prefix', '/api', 'shop/web:80', `${P}/rule/0/path/4`))); }, 'virtualHosts[0].routes[3]', `${P}/rule/0/path/4`, /Prefix \/api is never reached: the earlier route Prefix \/api\/ /));
    test('routes out of precedence order: a shorter path first', () =>
      expect((t) => { shop(t).routes.splice(3, 0, draft(r('Prefix', '/api/v1', 'shop/web:80', `${P}/rule/0/path/4`))); }, 'virtualHosts[0].routes[3]', `${P}/rule/0/path/4`, /Prefix \/api\/v1 is never reached: the earlier route Prefix \/api\/ /));
    test('a route with conditions is not shadowed by one without them after it, but is by one before it', () => {
      const t = sound();
      const api = shop(t).routes[2]!;
      shop(t).routes.splice(2, 0, { ...structuredClone(api), match: { ...structuredClone(api.match), method: 'POST' }, provenance: `${P}/rule/0/path/5` });
      assert.deepEqual(checkTable(t as RoutingTable), []);
      shop(t).routes.splice(2, 2, shop(t).routes[3]!, shop(t).routes[2]!);
      assert.match(only(t).message, /Prefix \/api\/ \+ POST is never reached: the earlier route Prefix \/api\/ /);
    });
    test('Prefix before Exact for paths of one length', () =>
      expect((t) => { shop(t).routes.splice(1, 0, ...shop(t).routes.splice(2, 1)); }, 'virtualHosts[0].routes[2]', `${P}/rule/0/path/3`, /Exact \/api is never reached: the earlier route Prefix \/api\/ /));
    test('regular-expression matches and rewrites the linear-time engine accepts', () => {
      const t = sound();
      const route = shop(t).routes[0]!;
      route.match = { path: { type: 'RegularExpression', value: '/checkout/[0-9]+', ignoreCase: true }, headers: [{ name: 'x-tenant', type: 'RegularExpression', value: '(?i)acme|initech' }], queryParams: [{ name: 'v', type: 'RegularExpression', value: '\\d{1,3}' }] };
      route.filters = [{ type: 'URLRewrite', path: { type: 'ReplaceRegexMatch', pattern: '/checkout/(\\d+)', substitution: '/orders/$1' } }];
      assert.deepEqual(checkTable(t as RoutingTable), []);
    });
    test('a RegularExpression path the linear-time engine refuses', () =>
      expect((t) => { shop(t).routes[0]!.match.path = { type: 'RegularExpression', value: '/(a+)\\1' }; }, 'virtualHosts[0].routes[0]', `${P}/rule/0/path/2`, /path pattern "\/\(a\+\)\\\\1" cannot be used: backreferences .* linear time/));
    test('a RegularExpression header match with lookahead', () =>
      expect((t) => { shop(t).routes[0]!.match.headers = [{ name: 'x-tenant', type: 'RegularExpression', value: '(?!admin).*' }]; }, 'virtualHosts[0].routes[0]', `${P}/rule/0/path/2`, /header x-tenant pattern .* cannot be used: lookahead/));
    test('a RegularExpression query match that does not parse', () =>
      expect((t) => { shop(t).routes[0]!.match.queryParams = [{ name: 'v', type: 'RegularExpression', value: '[z-a]' }]; }, 'virtualHosts[0].routes[0]', `${P}/rule/0/path/2`, /query parameter v pattern .* not a valid regular expression/));
    test('an Exact header value is not a pattern', () => {
      const t = sound();
      shop(t).routes[0]!.match.headers = [{ name: 'x-tenant', type: 'Exact', value: '(a)\\1' }];
      assert.deepEqual(checkTable(t as RoutingTable), []);
    });
    test('a ReplaceRegexMatch pattern with a count too large to run in linear time', () =>
      expect((t) => { shop(t).routes[0]!.filters = [{ type: 'URLRewrite', path: { type: 'ReplaceRegexMatch', pattern: '/[0-9a-f]{32}', substitution: '/x' } }]; }, 'virtualHosts[0].routes[0].filters[0]', `${P}/rule/0/path/2`, /rewrite pattern .* cannot be used: .*at most 16/));
    test('a default route that is not Prefix /', () =>
      expect((t) => { t.defaultRoute!.match.path.value = '/shop'; }, 'defaultRoute', `${P}/defaultBackend`, /must be Prefix \/ without conditions/));
  });

  describe('forwarding', () => {
    test('a client address header and a route sending X-Original-URI are sound', () => {
      const t = sound();
      t.clientAddressHeader = 'cf-connecting-ip';
      shop(t).routes[0]!.originalUriHeader = true;
      assert.deepEqual(checkTable(t as RoutingTable), []);
    });
    test('a client address header that is not a lower-case header name', () =>
      expect((t) => { t.clientAddressHeader = 'CF-Connecting-IP'; }, 'clientAddressHeader', '', /not a lower-case header name/));
    test('Host as the client address header', () =>
      expect((t) => { t.clientAddressHeader = 'host'; }, 'clientAddressHeader', '', /other than host and connection/));
    test('a HeaderDeny filter with exact values and a pattern is sound', () => {
      const t = sound();
      shop(t).routes[2]!.filters = [{ type: 'HeaderDeny', header: 'user-agent', matches: [{ exact: 'BadBot/1.0' }, { pattern: '.*(?:bot).*', ignoreCase: true }] }];
      assert.deepEqual(checkTable(t as RoutingTable), []);
    });
    test('a HeaderDeny pattern the linear-time engine refuses', () =>
      expect((t) => { shop(t).routes[2]!.filters = [{ type: 'HeaderDeny', header: 'referer', matches: [{ pattern: '(a)\\1' }] }]; }, 'virtualHosts[0].routes[2].filters[0].matches[0]', `${P}/rule/0/path/1`, /cannot be used/));
    test('a HeaderDeny filter that matches nothing', () =>
      expect((t) => { shop(t).routes[2]!.filters = [{ type: 'HeaderDeny', header: 'referer', matches: [] }]; }, 'virtualHosts[0].routes[2].filters[0]', `${P}/rule/0/path/1`, /matches nothing/));
    test('originalUriHeader that is not true', () =>
      expect((t) => { (shop(t).routes[0] as { originalUriHeader?: unknown }).originalUriHeader = false; }, 'virtualHosts[0].routes[0]', `${P}/rule/0/path/2`, /originalUriHeader is neither true nor absent/));
  });

  describe('provenance', () => {
    test('a route without provenance', () =>
      expect((t) => { shop(t).routes[1]!.provenance = ''; }, 'virtualHosts[0].routes[1]', '', /not of the form Kind\/namespace\/name/));
    test('a virtual host without provenance', () =>
      expect((t) => { t.virtualHosts[2]!.provenance = []; }, 'virtualHosts[2]', '', /has no provenance/));
    test('an endpoint with provenance that names no object', () =>
      expect((t) => { web(t).endpoints[0]!.provenance = 'EndpointSlice/shop'; }, 'clusters["shop/web:80"].endpoints[0]', 'EndpointSlice/shop', /not of the form/));
    test('a cluster without provenance', () =>
      expect((t) => { t.clusters['shop/users:80']!.provenance = []; }, 'clusters["shop/users:80"]', '', /has no provenance/));
    test('a script whose provenance is not its RouteScript', () =>
      expect((t) => { auth(t).provenance = 'RouteScript/shop/other'; }, 'scripts["shop/auth"]', 'RouteScript/shop/other', /must be RouteScript\/shop\/auth/));
  });

  /** DEFAULT_BACKEND_TLS's fields, as a cluster of the mutable table under test takes them. */
  const DEFAULT_TLS_FIELDS = { serverName: DEFAULT_BACKEND_TLS.serverName, caPem: DEFAULT_BACKEND_TLS.caPem, verify: DEFAULT_BACKEND_TLS.verify, clientCertificate: DEFAULT_BACKEND_TLS.clientCertificate };

  describe('clusters and endpoints', () => {
    test('a cluster listed under another name', () =>
      expect((t) => { web(t).name = 'shop/www:80'; web(t).service = 'www'; }, 'clusters["shop/web:80"]', `${P}/defaultBackend`, /listed under another name/));
    test('TLS versions that leave none, or a cipher list out of OpenSSL\'s syntax', () => {
      expect((t) => { web(t).policy = { ...web(t).policy, protocol: 'https', tls: { ...DEFAULT_TLS_FIELDS, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' } }; }, 'clusters["shop/web:80"]', `${P}/defaultBackend`, /policy\.tls: minVersion TLSv1\.3 is newer than maxVersion TLSv1\.2/);
      expect((t) => { web(t).policy = { ...web(t).policy, protocol: 'https', tls: { ...DEFAULT_TLS_FIELDS, minVersion: 'TLSv1.1' as 'TLSv1.2' } }; }, 'clusters["shop/web:80"]', `${P}/defaultBackend`, /minVersion "TLSv1\.1" is not one of/);
      expect((t) => { web(t).policy = { ...web(t).policy, protocol: 'https', tls: { ...DEFAULT_TLS_FIELDS, ciphers: 'HIGH; rm' } }; }, 'clusters["shop/web:80"]', `${P}/defaultBackend`, /ciphers "HIGH; rm" is not an OpenSSL cipher list/);
      expect((t) => { web(t).policy = { ...web(t).policy, protocol: 'https', tls: { ...DEFAULT_TLS_FIELDS, maxVersion: 'TLSv1.3' } }; }, 'clusters["shop/web:80"]', `${P}/defaultBackend`, /a TLS version equal to the default is written as none/);
    });
    test('listener TLS parameters: on an HTTPS listener only, valid, and setting something', () => {
      const https = (t: Draft<RoutingTable>) => t.listeners.find((l) => l.name === 'https')!;
      const http = (t: Draft<RoutingTable>) => t.listeners.find((l) => l.name === 'http')!;
      const table = sound();
      https(table).tlsParameters = { minVersion: 'TLSv1.3', ciphers: 'HIGH' };
      assert.deepEqual(checkTable(table as RoutingTable), []);
      expect((t) => { https(t).tlsParameters = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }; }, 'listeners[1].tlsParameters', 'Listener/https', /minVersion TLSv1\.3 is newer than maxVersion TLSv1\.2/);
      expect((t) => { https(t).tlsParameters = {}; }, 'listeners[1].tlsParameters', 'Listener/https', /set nothing/);
      expect((t) => { http(t).tlsParameters = { ciphers: 'HIGH' }; }, 'listeners[0].tlsParameters', 'Listener/http', /only an HTTPS listener/);
    });
    test('a resolved cluster not named by its port number', () =>
      expect((t) => { web(t).servicePort = 8080; }, 'clusters["shop/web:80"]', `${P}/defaultBackend`, /must be named shop\/web:8080/));
    test('a cluster with overrides not named by their digest', () =>
      expect((t) => { web(t).overrides = { lbPolicy: 'round-robin' }; }, 'clusters["shop/web:80"]', `${P}/defaultBackend`, /must be named shop\/web:80~[0-9a-f]{10}, not shop\/web:80$/));
    test('a cluster named by the digest of other overrides', () =>
      expect((t) => {
        const name = `shop/web:80~${clusterOverridesDigest({ protocol: 'https' })}`;
        addCluster(t, { ...cluster('web', 80, [], [`${P}/rule/0/path/0`]), name, overrides: { protocol: 'h2c' }, policy: { ...DEFAULT_CLUSTER_POLICY, protocol: 'h2c' } });
        shop(t).routes[3]!.backends[0]!.cluster = name;
      }, `clusters["shop/web:80~${clusterOverridesDigest({ protocol: 'https' })}"]`, `${P}/rule/0/path/0`, new RegExp(`must be named shop/web:80~${clusterOverridesDigest({ protocol: 'h2c' })}`)));
    test('overrides that set nothing', () =>
      expect((t) => {
        const name = `shop/web:80~${clusterOverridesDigest({})}`;
        addCluster(t, { ...cluster('web', 80, [], [`${P}/rule/0/path/0`]), name, overrides: {} });
        shop(t).routes[3]!.backends[0]!.cluster = name;
      }, `clusters["shop/web:80~${clusterOverridesDigest({})}"]`, `${P}/rule/0/path/0`, /overrides that set nothing/));
    test('a cluster whose policy does not apply its overrides', () => {
      const overrides = { protocol: 'h2c', timeouts: { connectMs: 500 } } as const;
      const name = `shop/web:80~${clusterOverridesDigest(overrides)}`;
      expect((t) => {
        addCluster(t, { ...cluster('web', 80, [], [`${P}/rule/0/path/0`]), name, overrides, policy: { ...DEFAULT_CLUSTER_POLICY, protocol: 'h2c' } });
        shop(t).routes[3]!.backends[0]!.cluster = name;
      }, `clusters["${name}"]`, `${P}/rule/0/path/0`, /does not apply its overrides' timeouts.connectMs/);
    });
    test('an unresolved cluster with overrides', () =>
      expect((t) => { t.clusters['shop/api:http']!.overrides = { protocol: 'h2c' }; }, 'clusters["shop/api:http"]', `${P}/rule/0/path/1`, /unresolved cluster has overrides/));
    test('an unresolved cluster with endpoints', () =>
      expect((t) => { t.clusters['shop/api:http']!.endpoints = [endpoint('10.0.0.3', 'EndpointSlice/shop/api-x/endpoint/0')]; }, 'clusters["shop/api:http"]', `${P}/rule/0/path/1`, /unresolved cluster has endpoints/));
    test('an unresolved cluster with a policy of its own', () =>
      expect((t) => { t.clusters['shop/api:http']!.policy = draft({ ...DEFAULT_CLUSTER_POLICY, lbPolicy: 'maglev' }); }, 'clusters["shop/api:http"]', `${P}/rule/0/path/1`, /policy other than the default/));
    test('an lbPolicy no balancer implements', () =>
      expect((t) => { web(t).policy = draft({ ...DEFAULT_CLUSTER_POLICY, lbPolicy: 'fastest' as 'random' }); }, 'clusters["shop/web:80"]', `${P}/defaultBackend`, /lbPolicy "fastest"/));
    test('cluster keys out of order', () =>
      expect((t) => { const { 'shop/api:http': api, ...rest } = t.clusters; t.clusters = { ...rest, 'shop/api:http': api! }; }, 'clusters["shop/api:http"]', '', /comes after shop\/web:80: keys are sorted/));
    for (const [name, edit, message] of [
      ['weight 0', (e: Draft<Endpoint>) => { e.weight = 0; }, /weight 0 is not an integer from 1 to 1000/],
      ['weight 1001', (e: Draft<Endpoint>) => { e.weight = 1001; }, /weight 1001/],
      ['weight 1.5', (e: Draft<Endpoint>) => { e.weight = 1.5; }, /weight 1.5/],
      ['port 0', (e: Draft<Endpoint>) => { e.port = 0; }, /port 0 is not a port number/],
      ['port 65536', (e: Draft<Endpoint>) => { e.port = 65536; }, /port 65536/],
      ['a host name as address', (e: Draft<Endpoint>) => { e.address = 'web.shop.svc'; }, /is not an IP address/],
      ['a slice of another namespace', (e: Draft<Endpoint>) => { e.provenance = 'EndpointSlice/bank/ledger-x/endpoint/0'; }, /namespace bank in a cluster of namespace shop/],
    ] as const) {
      test(`an endpoint with ${name}`, () =>
        expect((t) => edit(web(t).endpoints[1]!), 'clusters["shop/web:80"].endpoints[1]', name === 'a slice of another namespace' ? 'EndpointSlice/bank/ledger-x/endpoint/0' : 'EndpointSlice/shop/web-abc12/endpoint/0', message));
    }
    test('the same endpoint twice', () =>
      expect((t) => { web(t).endpoints.push(endpoint('2001:db8::1')); }, 'clusters["shop/web:80"].endpoints[3]', 'EndpointSlice/shop/web-abc12/endpoint/0', /2001:db8::1 port 8080 is listed twice/));
  });

  describe('scripts', () => {
    const at = 'scripts["shop/auth"]';
    for (const [name, edit, message] of [
      ['timeoutMs 0', (s: Draft<CompiledScript>) => { s.limits.timeoutMs = 0; }, /limits.timeoutMs 0/],
      ['memoryMiB 4', (s: Draft<CompiledScript>) => { s.limits.memoryMiB = 4; }, /limits.memoryMiB 4/],
      ['rejectStatus 302', (s: Draft<CompiledScript>) => { s.rejectStatus = 302; }, /rejectStatus 302/],
      ['failurePolicy ignore', (s: Draft<CompiledScript>) => { s.failurePolicy = 'ignore' as 'reject'; }, /failurePolicy "ignore"/],
      ['a pause of 0 ms', (s: Draft<CompiledScript>) => { s.pause = { maxWaitMs: 0 }; }, /pause.maxWaitMs 0/],
      ['no code although valid', (s: Draft<CompiledScript>) => { s.code = ''; }, /valid script has no code/],
    ] as const) {
      test(`a script with ${name}`, () => expect((t) => edit(auth(t)), at, 'RouteScript/shop/auth', message));
    }
    test('a lookup path without {key}', () =>
      expect((t) => { auth(t).lookup!.path = '/users'; }, `${at}.lookup`, 'RouteScript/shop/auth', /must start with \/ and contain \{key\}/));
    test('a lookup timeout out of range', () =>
      expect((t) => { auth(t).lookup!.timeoutMs = 5000; }, `${at}.lookup`, 'RouteScript/shop/auth', /lookup timeoutMs 5000/));
    test('an invalid script that would still run something', () =>
      expect((t) => { t.scripts['shop/closed']!.code = 'export function onRequest() {}'; }, 'scripts["shop/closed"]', 'RouteScript/shop/closed', /must fail closed/));
    test('an invalid script that falls back', () =>
      expect((t) => { t.scripts['shop/closed']!.failurePolicy = 'fallback'; }, 'scripts["shop/closed"]', 'RouteScript/shop/closed', /must fail closed/));
    test('a script listed under another key', () =>
      expect((t) => { t.scripts['shop/closed']!.name = 'shop/open'; }, 'scripts["shop/closed"]', 'RouteScript/shop/closed', /listed under its namespace\/name/));
  });

  describe('certificates', () => {
    test('an SNI name in two certificates', () =>
      expect((t) => { t.certificates.push({ name: 'shop/tls2', hosts: ['shop.example.com'], certPem: CERT, keyPem: KEY, provenance: [`${P}/tls/1`] }); }, 'certificates[1].hosts[0]', `${P}/tls/1`, /SNI name shop.example.com is also served by certificate shop\/tls/));
    test('an upper-case SNI name, which a handshake (looked up lower-case) never finds', () =>
      expect((t) => { t.certificates[0]!.hosts[1] = 'Shop.example.com'; }, 'certificates[0].hosts[1]', `${P}/tls/0`, /not a lower-case DNS name/));
    test('a certificate without hosts', () =>
      expect((t) => { t.certificates[0]!.hosts = []; }, 'certificates[0]', `${P}/tls/0`, /serves no host/));
    test('a certificate without its key', () =>
      expect((t) => { t.certificates[0]!.keyPem = ''; }, 'certificates[0]', `${P}/tls/0`, /no PEM private key/));
    test('a certificate serving a TLS entry of another namespace', () =>
      expect((t) => { t.certificates[0]!.provenance = ['Ingress/bank/vault/tls/0']; }, 'certificates[0]', 'Ingress/bank/vault/tls/0', /serves a TLS entry of namespace bank/));
    test('a Gateway\'s certificateRef to another namespace (a ReferenceGrant the front end checked) is no violation', () => {
      const t = sound();
      t.certificates[0]!.provenance = ['Gateway/infra/edge/listener/0/tls/certificateRefs/0', 'ListenerSet/infra/extra/listener/0/tls/certificateRefs/0'];
      assert.deepEqual(checkTable(t as RoutingTable), []);
    });
    test('a listener-bound certificate no listener lists (it would be offered nowhere)', () =>
      expect((t) => { t.certificates[0]!.listenerBound = true; }, 'certificates[0]', `${P}/tls/0`, /bound to listeners, but no listener lists it/));
    test('certificates out of order', () =>
      expect((t) => { t.certificates.unshift({ name: 'shop/zz', hosts: ['zz.example.com'], certPem: CERT, keyPem: KEY, provenance: [`${P}/tls/1`] }); }, 'certificates[1]', `${P}/tls/0`, /sorted by name/));
  });

  describe('plain JSON', () => {
    for (const [name, value, message] of [
      ['undefined', undefined, /undefined is not JSON/],
      ['a Date', new Date(0), /Date is not a plain object/],
      ['a Map', new Map(), /Map is not a plain object/],
      ['NaN', Number.NaN, /NaN is not a JSON number/],
      ['a BigInt', 1n, /bigint is not JSON/],
      ['a function', () => 1, /function is not JSON/],
    ] as const) {
      test(`script data holding ${name}`, () =>
        expect((t) => { (auth(t).data as Record<string, unknown>).when = value; }, 'scripts["shop/auth"].data.when', '', message));
    }
    test('a cycle', () =>
      expect((t) => { const data = auth(t).data as Record<string, unknown>; data.self = data; }, 'scripts["shop/auth"].data.self', '', /a cycle/));
    test('an object shared by two nodes is fine', () => {
      const t = sound();
      const shared = { maxWaitMs: 1000 };
      auth(t).pause = shared;
      t.scripts['shop/closed']!.data = shared;
      assert.deepEqual(checkTable(t as RoutingTable), []);
    });
  });
});
