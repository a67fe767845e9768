/**
 * What names a cluster with overrides and what still finds its routes: the cluster namer (the
 * Service port's name, plus a digest only when the reference resolves and its overrides set
 * something) and a RouteScript targeting the Service, which covers the routes whose backends
 * override its policy — so an operator's pause of a Service holds them too.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RouteChains } from '../../src/compile/route-script-chains.ts';
import { clusterNamer } from '../../src/compile/shared/clusters.ts';
import { normalizeOverrides } from '../../src/compile/shared/cluster-overrides.ts';
import { DiagnosticSink } from '../../src/compile/shared/diagnostics.ts';
import { indexObjects } from '../../src/compile/shared/objects.ts';
import { resolveRoute } from '../../src/compile/shared/placed-route.ts';
import { ServiceResolver } from '../../src/compile/shared/services.ts';
import type { CandidateRoute, RankedOwner } from '../../src/compile/shared/candidates.ts';
import { clusterOverridesDigest } from '../../src/model/override-digest.ts';

const SERVICES = [{ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'web' }, spec: { ports: [{ name: 'http', port: 80 }] } }];

function namer(): ReturnType<typeof clusterNamer> {
  const sink = new DiagnosticSink();
  return clusterNamer(new ServiceResolver(indexObjects(SERVICES, 'Service', true, sink), sink));
}

const OWNER: RankedOwner = {
  id: { kind: 'Ingress', namespace: 'shop', name: 'web', key: 'shop/web', provenance: 'Ingress/shop/web', generation: undefined },
  rank: 0,
  created: null,
};

function route(path: string, overrides: object | undefined): CandidateRoute {
  const provenance = `Ingress/shop/web/rule/0/path${path}`;
  return {
    match: { path: { type: 'Prefix', value: path } },
    backends: [{ service: { namespace: 'shop', service: 'web', port: 'http', ...(overrides === undefined ? {} : { overrides }) }, weight: 1, provenance: `${provenance}/backend` }],
    filters: [],
    provenance,
  };
}

describe('cluster names with overrides', () => {
  test('a resolved reference with overrides is the Service port plus their digest, by number however referenced', () => {
    const name = namer()('shop', { service: 'web', port: 'http' }, { protocol: 'https' });
    assert.equal(name, `shop/web:80~${clusterOverridesDigest({ protocol: 'https' })}`);
    assert.equal(namer()('shop', { service: 'web', port: 80 }, { protocol: 'https' }), name);
  });

  test('no overrides, empty ones and ones that keep nothing valid name the plain cluster', () => {
    const of = namer();
    for (const overrides of [undefined, null, {}, { timeouts: {} }, { protocol: 'spdy' }]) assert.equal(of('shop', { service: 'web', port: 80 }, overrides), 'shop/web:80', JSON.stringify(overrides));
  });

  test('an unresolved reference is named as referenced, overrides unread', () => {
    assert.equal(namer()('shop', { service: 'gone', port: 80 }, { protocol: 'https' }), 'shop/gone:80');
    assert.equal(namer()('shop', { service: 'web', port: 'grpc' }, { protocol: 'https' }), 'shop/web:grpc');
  });

  test('normalising keeps the valid fields in one order, sorted statuses, lower-case names', () => {
    const { overrides, problems } = normalizeOverrides({ retry: { onStatuses: [503, 502, 503] }, hashOn: { source: 'header', name: 'X-User' }, tls: { serverName: 'API.Internal' }, protocol: 'h2' });
    assert.deepEqual(problems, []);
    assert.deepEqual(JSON.stringify(overrides), JSON.stringify({ protocol: 'h2', hashOn: { source: 'header', name: 'x-user' }, retry: { onStatuses: [502, 503] }, tls: { serverName: 'api.internal' } }));
  });

  test('TLS versions are kept as one setting, both ends written; bad versions and cipher lists are dropped, said', () => {
    assert.deepEqual(normalizeOverrides({ tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' } }), { overrides: { tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' } }, problems: [] });
    const bad: [object, string, RegExp][] = [
      [{ minVersion: 'TLSv1.1' }, 'tls.minVersion', /must be one of TLSv1\.2, TLSv1\.3 \(TLS 1\.0 and 1\.1 are never offered\)/],
      [{ ciphers: 'NO-SUCH-CIPHER' }, 'tls.ciphers', /OpenSSL matches no cipher/],
      [{ ciphers: 'HIGH !aNULL' }, 'tls.ciphers', /not an OpenSSL cipher list/],
    ];
    for (const [tls, field, message] of bad) {
      const { overrides, problems } = normalizeOverrides({ tls });
      assert.equal(overrides, null);
      assert.deepEqual(problems.map((p) => p.field), [field]);
      assert.match(problems[0]!.message, message);
    }
    // A maximum older than the minimum is dropped: the minimum, and the default maximum, remain.
    const crossed = normalizeOverrides({ tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' } });
    assert.deepEqual(crossed.overrides, { tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } });
    assert.deepEqual(crossed.problems.map((p) => p.field), ['tls.maxVersion']);
  });

  test('the affinity cookie\'s SameSite and Domain are kept; a bad one drops the affinity override, said', () => {
    const affinity = { cookieName: 'route', ttlSeconds: 0, path: '/', sameSite: 'None', sameSiteNoneCompatibleOnly: true, domain: 'example.com' };
    assert.deepEqual(normalizeOverrides({ affinity }), { overrides: { affinity }, problems: [] });
    const bad: [object, RegExp][] = [
      [{ ...affinity, sameSite: 'none' }, /sameSite "none" is not None, Lax or Strict/],
      [{ ...affinity, sameSite: 'Lax' }, /sameSiteNoneCompatibleOnly is true, with sameSite None, or absent/],
      [{ ...affinity, domain: '.example.com' }, /domain "\.example\.com" is not a lower-case domain name/],
      [{ ...affinity, secure: true }, /secure is not an affinity setting/],
    ];
    for (const [value, message] of bad) {
      const { overrides, problems } = normalizeOverrides({ affinity: value });
      assert.equal(overrides, null);
      assert.equal(problems.length, 1);
      assert.equal(problems[0]!.field, 'affinity');
      assert.match(problems[0]!.message, message);
    }
  });

  test('a RouteScript targeting the Service runs on its routes with and without overrides', () => {
    const of = namer();
    const placed = [resolveRoute(route('/plain', undefined), OWNER, of), resolveRoute(route('/tls', { protocol: 'https' }), OWNER, of)];
    assert.notEqual(placed[0]!.route.backends[0]!.cluster, placed[1]!.route.backends[0]!.cluster);
    const chains = new RouteChains(placed.map((p) => ({ placed: { route: p.route, ref: p.services[0]!, owner: p.owner }, host: 'shop.example.com' })), new DiagnosticSink());
    const script = { id: { ...OWNER.id, kind: 'RouteScript', name: 'hold', key: 'shop/hold', provenance: 'RouteScript/shop/hold' }, obj: {}, created: null };
    chains.attach(script, [{ kind: 'Service', name: 'web' }], 0);
    const attached = chains.ordered();
    assert.deepEqual(placed.map((p) => attached.get(p.route)), [['shop/hold'], ['shop/hold']]);
  });
});
