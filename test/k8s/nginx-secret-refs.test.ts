/**
 * The Secret of ingress-nginx's `proxy-ssl-secret` is cached by the controller: the finder names it
 * when it is in the Ingress's own namespace (as `namespace/name` or a bare name, the two forms the
 * front end reads), and names nothing the front end would refuse.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NGINX_PROXY_SSL_SECRET, PROXY_SSL_SECRET_ANNOTATION, withHeaderConfigMaps } from '../../src/k8s/nginx-secret-refs.ts';
import { BUILT_IN_REF_FINDERS, wantedRefs, type ReferringObject } from '../../src/k8s/object-refs.ts';

function nginxIngress(namespace: string, name: string, secret?: string, tlsSecret?: string): ReferringObject {
  return {
    metadata: { namespace, name, annotations: secret === undefined ? {} : { [PROXY_SSL_SECRET_ANNOTATION]: secret, 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' } },
    spec: tlsSecret === undefined ? {} : { tls: [{ hosts: ['shop.example'], secretName: tlsSecret }] },
  };
}

const secretsWanted = (ingresses: readonly ReferringObject[]): string[] =>
  [...wantedRefs([...BUILT_IN_REF_FINDERS, NGINX_PROXY_SSL_SECRET], (kind) => (kind === 'Ingress' ? ingresses : [])).secrets].sort();

describe('the Secret named by nginx.ingress.kubernetes.io/proxy-ssl-secret', () => {
  test('is cached next to the Ingress\'s TLS Secret, in namespace/name and bare form', () => {
    assert.deepEqual(secretsWanted([
      nginxIngress('shop', 'api', 'shop/upstream-ca', 'shop-tls'),
      nginxIngress('bank', 'ledger', ' ledger-ca '),
    ]), ['bank/ledger-ca', 'shop/shop-tls', 'shop/upstream-ca']);
  });

  test('is not followed into another namespace, which the front end refuses', () => {
    assert.deepEqual(secretsWanted([nginxIngress('shop', 'api', 'kube-system/cluster-ca', 'shop-tls')]), ['shop/shop-tls']);
  });

  test('names nothing for a malformed value, and the other Ingresses still name theirs', () => {
    assert.deepEqual(secretsWanted([
      nginxIngress('shop', 'a', 'shop/ca/extra'),
      nginxIngress('shop', 'b', 'shop/Not_A_Name'),
      nginxIngress('shop', 'c', ''),
      { metadata: { namespace: 'shop', name: 'd', annotations: { [PROXY_SSL_SECRET_ANNOTATION]: 7 as unknown as string } } },
      { spec: 'no metadata at all' },
      nginxIngress('shop', 'e', 'shop/good-ca'),
    ]), ['shop/good-ca']);
  });

  test('an Ingress without the annotation names only what the built-in finders find', () => {
    assert.deepEqual(NGINX_PROXY_SSL_SECRET.find(nginxIngress('shop', 'plain', undefined, 'shop-tls')), { secrets: [], configMaps: [] });
  });
});

describe('the ConfigMaps the ingress-nginx ConfigMap names in proxy-set-headers and add-headers', () => {
  const controller = (data: Record<string, string>, name = 'ingress-nginx-controller'): ReferringObject =>
    ({ metadata: { namespace: 'ingress-nginx', name }, data } as ReferringObject);
  const wanted = (configMaps: readonly ReferringObject[]): string[] =>
    [...wantedRefs(withHeaderConfigMaps('ingress-nginx/ingress-nginx-controller'), (kind) => (kind === 'ConfigMap' ? configMaps : []), ['ingress-nginx/ingress-nginx-controller']).configMaps].sort();

  test('are cached with the controller ConfigMap, as namespace/name or a name in its namespace', () => {
    assert.deepEqual(wanted([controller({ 'proxy-set-headers': 'edge/request-headers', 'add-headers': 'response-headers' })]), [
      'edge/request-headers', 'ingress-nginx/ingress-nginx-controller', 'ingress-nginx/response-headers',
    ]);
  });

  test('are read from that ConfigMap only', () => {
    assert.deepEqual(wanted([controller({ 'add-headers': 'response-headers' }, 'some-other-configmap')]), ['ingress-nginx/ingress-nginx-controller']);
    assert.deepEqual(withHeaderConfigMaps(null).some((f) => f.kind === 'ConfigMap'), false);
  });
});

describe('the ConfigMap named by nginx.ingress.kubernetes.io/auth-proxy-set-headers', () => {
  const withHeaders = (namespace: string, name: string, value: string): ReferringObject =>
    ({ metadata: { namespace, name, annotations: { 'nginx.ingress.kubernetes.io/auth-url': 'http://auth.example/verify', 'nginx.ingress.kubernetes.io/auth-proxy-set-headers': value } } });
  const wanted = (ingresses: readonly ReferringObject[]): string[] =>
    [...wantedRefs(withHeaderConfigMaps(null), (kind) => (kind === 'Ingress' ? ingresses : [])).configMaps].sort();

  test('is cached in namespace/name and bare form, and never from another namespace', () => {
    assert.deepEqual(wanted([
      withHeaders('shop', 'a', 'shop/auth-headers'),
      withHeaders('bank', 'b', 'bank-auth'),
      withHeaders('shop', 'c', 'kube-system/secrets-of-others'),
    ]), ['bank/bank-auth', 'shop/auth-headers']);
  });
});
