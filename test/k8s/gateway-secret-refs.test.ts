/**
 * The Secrets and ConfigMaps the Gateway API names are cached: listener certificates of Gateways
 * and ListenerSets (another namespace too: a ReferenceGrant may allow it, which the compile
 * decides), a Gateway's client certificate and CA references, and BackendTLSPolicy CA bundles.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKEND_TLS_POLICY_REFS, GATEWAY_API_REF_FINDERS, GATEWAY_REFS, LISTENER_SET_REFS } from '../../src/k8s/gateway-secret-refs.ts';
import { BUILT_IN_REF_FINDERS, wantedRefs, type ReferringObject } from '../../src/k8s/object-refs.ts';

const gateway: ReferringObject = {
  metadata: { namespace: 'shop', name: 'web' },
  spec: {
    listeners: [
      { name: 'https', tls: { certificateRefs: [{ name: 'web-cert' }, { kind: 'Secret', group: '', name: 'shared', namespace: 'certs' }] } },
      { name: 'odd', tls: { certificateRefs: [{ group: 'example.com', kind: 'Vault', name: 'elsewhere' }, { name: '' }, 'not a ref'] } },
      { name: 'http' },
    ],
    tls: {
      backend: { clientCertificateRef: { name: 'client' } },
      frontend: {
        default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'client-ca' }] } },
        perPort: [{ port: 8443, tls: { validation: { caCertificateRefs: [{ group: '', kind: 'Secret', name: 'port-ca', namespace: 'certs' }] } } }],
      },
    },
  },
};

describe('Gateway API references to cache', () => {
  test('a Gateway: listener certificates (any namespace), its client certificate and client-validation CAs', () => {
    const refs = GATEWAY_REFS.find(gateway);
    assert.deepEqual([...refs.secrets].sort(), ['certs/port-ca', 'certs/shared', 'shop/client', 'shop/web-cert']);
    assert.deepEqual(refs.configMaps, ['shop/client-ca']);
  });

  test('a ListenerSet: its listeners\' certificates', () => {
    const set: ReferringObject = { metadata: { namespace: 'team', name: 'extra' }, spec: { listeners: [{ name: 'a', tls: { certificateRefs: [{ name: 'a-cert' }] } }] } };
    assert.deepEqual(LISTENER_SET_REFS.find(set), { secrets: ['team/a-cert'], configMaps: [] });
  });

  test('a BackendTLSPolicy: CA ConfigMaps and Secrets of its own namespace only', () => {
    const policy: ReferringObject = {
      metadata: { namespace: 'shop', name: 'api-tls' },
      spec: { validation: { hostname: 'api.shop', caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'api-ca', namespace: 'ignored' }, { group: '', kind: 'Secret', name: 'api-ca-secret' }, { group: 'x.io', kind: 'ConfigMap', name: 'no' }] } },
    };
    assert.deepEqual(BACKEND_TLS_POLICY_REFS.find(policy), { secrets: ['shop/api-ca-secret'], configMaps: ['shop/api-ca'] });
    assert.deepEqual(BACKEND_TLS_POLICY_REFS.find({ metadata: { namespace: 'shop', name: 'p' }, spec: { validation: { wellKnownCACertificates: 'System' } } }), { secrets: [], configMaps: [] });
  });

  test('malformed specs name nothing rather than failing', () => {
    for (const spec of [undefined, null, 'x', { listeners: 'x' }, { listeners: [null, { tls: 'x' }] }, { tls: { frontend: { perPort: 'x' } } }]) {
      assert.deepEqual(GATEWAY_REFS.find({ metadata: { namespace: 'n', name: 'g' }, spec }), { secrets: [], configMaps: [] });
    }
  });

  test('with the built-in finders, what the API source would keep', () => {
    const wanted = wantedRefs([...BUILT_IN_REF_FINDERS, ...GATEWAY_API_REF_FINDERS], (kind) => (kind === 'Gateway' ? [gateway] : []));
    assert.ok(wanted.secrets.has('certs/shared'));
    assert.ok(wanted.configMaps.has('shop/client-ca'));
  });
});
