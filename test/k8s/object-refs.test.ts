/**
 * Which Secrets and ConfigMaps the API source caches: the built-in finders (Ingress TLS,
 * RouteScript data, Service backend TLS) and one a front end adds for its own annotations, the way
 * ingress-nginx's `proxy-ssl-secret` names the Secret of a route's backend TLS overrides.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NGINX_AUTH_SECRET_REFS } from '../../src/k8s/nginx-auth-secret-refs.ts';
import { NGINX_REF_FINDERS } from '../../src/k8s/nginx-secret-refs.ts';
import { BUILT_IN_REF_FINDERS, wantedRefs, type ReferringObject, type RefFinder } from '../../src/k8s/object-refs.ts';
import { selectedStreams, WATCHED } from '../../src/k8s/resources.ts';

const OBJECTS: Readonly<Record<string, readonly ReferringObject[]>> = {
  Ingress: [
    { metadata: { namespace: 'shop', name: 'web', annotations: { 'example.com/proxy-ssl-secret': 'shop/upstream-tls' } }, spec: { tls: [{ secretName: 'web-cert' }, { hosts: ['x'] }] } },
    { metadata: { namespace: 'bank', name: 'odd' }, spec: { tls: 'not a list' } },
  ],
  RouteScript: [{ metadata: { namespace: 'shop', name: 'auth' }, spec: { dataFrom: { configMapRef: { name: 'tenants' } } } }],
  Service: [{ metadata: { namespace: 'shop', name: 'api', annotations: { 'signalbox.dev/backend-tls-ca': 'configmap/api-ca/ca.pem', 'signalbox.dev/backend-tls-client-certificate': 'api-client' } } }],
};
const objectsOf = (kind: string): readonly ReferringObject[] => OBJECTS[kind] ?? [];

/** A front end's finder: `namespace/name` in one annotation of an Ingress. */
const PROXY_SSL_SECRET: RefFinder = {
  kind: 'Ingress',
  find: (ingress) => {
    const value = ingress.metadata?.annotations?.['example.com/proxy-ssl-secret'];
    return { secrets: value === undefined ? [] : [value], configMaps: [] };
  },
};

describe('Secrets and ConfigMaps to cache', () => {
  test('the built-in finders name TLS, script data and backend TLS references, plus the pinned ConfigMaps', () => {
    const wanted = wantedRefs(BUILT_IN_REF_FINDERS, objectsOf, ['ingress/tcp-services']);
    assert.deepEqual([...wanted.secrets].sort(), ['shop/api-client', 'shop/web-cert']);
    assert.deepEqual([...wanted.configMaps].sort(), ['ingress/tcp-services', 'shop/api-ca', 'shop/tenants']);
  });

  test("a front end's finder adds what its annotations name", () => {
    const wanted = wantedRefs([...BUILT_IN_REF_FINDERS, PROXY_SSL_SECRET], objectsOf);
    assert.ok(wanted.secrets.has('shop/upstream-tls'));
    assert.ok(wanted.secrets.has('shop/web-cert'));
  });

  test('a finder that throws names nothing for that object, and the others still run', () => {
    const throwing: RefFinder = { kind: 'Ingress', find: () => { throw new Error('malformed'); } };
    const wanted = wantedRefs([throwing, ...BUILT_IN_REF_FINDERS], objectsOf);
    assert.ok(wanted.secrets.has('shop/web-cert'));
  });

  test("ingress-nginx's auth-secret: name or namespace/name, the Ingress's own namespace only", () => {
    const ingress = (namespace: string, value: string): ReferringObject => ({ metadata: { namespace, name: 'i', annotations: { 'nginx.ingress.kubernetes.io/auth-secret': value } } });
    const found = (o: ReferringObject): readonly string[] => NGINX_AUTH_SECRET_REFS.find(o).secrets;
    assert.deepEqual(found(ingress('shop', 'htpasswd')), ['shop/htpasswd']);
    assert.deepEqual(found(ingress('shop', ' shop/htpasswd ')), ['shop/htpasswd']);
    // Another namespace is refused by the compiler: nothing of it is cached either.
    assert.deepEqual(found(ingress('shop', 'bank/htpasswd')), []);
    assert.deepEqual(found(ingress('shop', 'a/b/c')), []);
    assert.deepEqual(found({ metadata: { namespace: 'shop', name: 'i' } }), []);
    const wanted = wantedRefs([...BUILT_IN_REF_FINDERS, NGINX_AUTH_SECRET_REFS], (kind) => (kind === 'Ingress' ? [ingress('shop', 'htpasswd')] : []));
    assert.ok(wanted.secrets.has('shop/htpasswd'));
  });

  test("ingress-nginx's auth-tls-secret: the CA bundle is cached, the Ingress's own namespace only", () => {
    const ingress = (namespace: string, value: string): ReferringObject => ({ metadata: { namespace, name: 'i', annotations: { 'nginx.ingress.kubernetes.io/auth-tls-secret': value } } });
    const wanted = (o: ReferringObject): Set<string> => new Set(wantedRefs([...BUILT_IN_REF_FINDERS, ...NGINX_REF_FINDERS], (kind) => (kind === 'Ingress' ? [o] : [])).secrets);
    assert.ok(wanted(ingress('shop', 'shop/client-ca')).has('shop/client-ca'));
    assert.ok(wanted(ingress('shop', 'client-ca')).has('shop/client-ca'));
    assert.equal(wanted(ingress('shop', 'bank/client-ca')).has('bank/client-ca'), false);
  });

  test('Secrets are listed by type, TLS and Opaque (htpasswd files and CA bundles), in a stream each', () => {
    const secret = WATCHED.find((t) => t.kind === 'Secret')!;
    assert.deepEqual(selectedStreams(secret).map((t) => t.fieldSelector), ['type=kubernetes.io/tls', 'type=Opaque']);
    const ingress = WATCHED.find((t) => t.kind === 'Ingress')!;
    assert.deepEqual(selectedStreams(ingress), [ingress]);
  });
});
