/**
 * The digest that names a cluster with overrides (`ns/svc:80~<digest>`): it must not change between
 * compiles, processes or releases for the same overrides, or every table swap would rename the
 * clusters (new pools, new health state, new metric series).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson, clusterOverridesDigest, withOverridesSuffix } from '../../src/model/override-digest.ts';
import type { ClusterOverrides } from '../../src/model/policy.ts';

const HTTPS_WITH_CA: ClusterOverrides = { protocol: 'https', tls: { ca: { kind: 'Secret', name: 'web-ca', key: 'ca.crt' }, serverName: 'web.internal' } };

describe('cluster overrides digest', () => {
  test('is pinned: the same overrides give the same name in every process and release', () => {
    // The first 10 hex digits of SHA-256('{"protocol":"https"}'), as `sha256sum` gives them. Changing
    // this renames every override cluster of every running table: do it on purpose only.
    assert.equal(clusterOverridesDigest({ protocol: 'https' }), '98604dd6d8');
    assert.equal(withOverridesSuffix('shop/web:80', HTTPS_WITH_CA), `shop/web:80~${clusterOverridesDigest(HTTPS_WITH_CA)}`);
    assert.match(clusterOverridesDigest(HTTPS_WITH_CA), /^[0-9a-f]{10}$/);
  });

  test('does not depend on the order a front end wrote the keys in', () => {
    const reordered: ClusterOverrides = { tls: { serverName: 'web.internal', ca: { key: 'ca.crt', name: 'web-ca', kind: 'Secret' } }, protocol: 'https' };
    assert.equal(canonicalJson(reordered), canonicalJson(HTTPS_WITH_CA));
    assert.equal(clusterOverridesDigest(reordered), clusterOverridesDigest(HTTPS_WITH_CA));
  });

  test('tells apart overrides that differ in one value, and keeps the order of lists', () => {
    const digests = new Set([
      clusterOverridesDigest({ protocol: 'https' }),
      clusterOverridesDigest({ protocol: 'h2' }),
      clusterOverridesDigest({ timeouts: { connectMs: 1000 } }),
      clusterOverridesDigest({ timeouts: { connectMs: 1001 } }),
      clusterOverridesDigest({ timeouts: { connectMs: null } }),
      clusterOverridesDigest({ retry: { onStatuses: [502, 503] } }),
      clusterOverridesDigest({ retry: { onStatuses: [503, 502] } }),
      clusterOverridesDigest(HTTPS_WITH_CA),
    ]);
    assert.equal(digests.size, 8);
  });

  test('leaves undefined members out, as JSON does, and a name without overrides alone', () => {
    assert.equal(canonicalJson({ protocol: 'h2c', timeouts: undefined }), '{"protocol":"h2c"}');
    assert.equal(withOverridesSuffix('shop/web:80', null), 'shop/web:80');
  });
});
