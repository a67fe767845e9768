/**
 * What the conformance environment's pod runner makes of a Pod: the echo server sees the names and
 * namespace the suite compares its answers with, finds its TLS files where the Pod says they are,
 * and only images it knows are run. Pure: no root, no cluster.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { containerEnv, imageKind, macForIp, overlaidMount, readinessPort, relocate, runPlan, volumeFiles, type PodObject } from '../../conformance/env/pod-spec.ts';

/** A Pod like the suite's tls-backend in gateway-conformance-infra (base/manifests.yaml). */
const tlsBackend: PodObject = {
  metadata: { name: 'tls-backend-5d8f-abcde', namespace: 'gateway-conformance-infra', uid: 'u-1' },
  spec: {
    nodeName: 'kwok-node-0',
    containers: [{
      name: 'tls-backend',
      image: 'registry.k8s.io/gateway-api/echo-basic:v1.5.1',
      volumeMounts: [{ name: 'secret-volume', mountPath: '/etc/secret-volume' }],
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'TLS_SERVER_CERT', value: '/etc/secret-volume/crt' },
        { name: 'TLS_SERVER_PRIVKEY', value: '/etc/secret-volume/key' },
      ],
    }],
    volumes: [{ name: 'secret-volume', secret: { secretName: 'tls-checks-certificate', items: [{ key: 'tls.crt', path: 'crt' }, { key: 'tls.key', path: 'key' }] } }],
  },
  status: { phase: 'Running', podIP: '10.244.1.7' },
};

describe('the environment of a pod', () => {
  test('resolves the downward-API fields the echo server reports, and plain values', () => {
    const env = containerEnv(tlsBackend, tlsBackend.spec!.containers![0]!);
    assert.deepEqual(env, {
      POD_NAME: 'tls-backend-5d8f-abcde',
      NAMESPACE: 'gateway-conformance-infra',
      TLS_SERVER_CERT: '/etc/secret-volume/crt',
      TLS_SERVER_PRIVKEY: '/etc/secret-volume/key',
    });
  });

  test('gives status.podIP, expands $(VAR) of earlier entries as the kubelet does, and leaves unknown ones', () => {
    const env = containerEnv(tlsBackend, {
      env: [
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'URL', value: 'http://$(IP):3000/$(LATER)' },
        { name: 'LATER', value: 'x' },
        { name: 'PRICE', value: '$$5' },
        { name: 'ODD', valueFrom: { fieldRef: { fieldPath: 'metadata.labels[\'app\']' } } },
      ],
    });
    assert.deepEqual(env, { IP: '10.244.1.7', URL: 'http://10.244.1.7:3000/$(LATER)', LATER: 'x', PRICE: '$5' });
  });
});

describe('the volumes of a pod', () => {
  const secrets = (kind: string, name: string) =>
    kind === 'Secret' && name === 'tls-checks-certificate' ? { 'tls.crt': Buffer.from('CERT'), 'tls.key': Buffer.from('KEY'), 'ca.crt': Buffer.from('CA') } : null;

  test('a Secret volume with items becomes those files only, at their paths', () => {
    const files = volumeFiles(tlsBackend.spec!.volumes![0]!, secrets);
    assert.deepEqual(files?.map((f) => [f.path, f.content.toString()]), [['crt', 'CERT'], ['key', 'KEY']]);
  });

  test('without items, every key becomes a file; a path that escapes the volume is dropped', () => {
    assert.deepEqual(volumeFiles({ name: 'v', secret: { secretName: 'tls-checks-certificate' } }, secrets)?.map((f) => f.path), ['ca.crt', 'tls.crt', 'tls.key']);
    assert.deepEqual(volumeFiles({ name: 'v', secret: { secretName: 'tls-checks-certificate', items: [{ key: 'tls.key', path: '../../etc/shadow' }, { key: 'tls.crt', path: 'a/./b' }] } }, secrets)?.map((f) => f.path), ['a/b']);
  });

  test('a missing Secret, or a volume of another kind, gives nothing', () => {
    assert.equal(volumeFiles({ name: 'v', secret: { secretName: 'absent' } }, secrets), null);
    assert.equal(volumeFiles({ name: 'v' }, secrets), null);
  });

  test('a volume below a top-level directory is overlaid there, so its files are at the mountPath for the pod alone', () => {
    assert.deepEqual(overlaidMount('/etc/secret-volume'), { top: '/etc', below: 'secret-volume' });
    assert.deepEqual(overlaidMount('/etc/a/b/'), { top: '/etc', below: 'a/b' });
    assert.equal(overlaidMount('/root'), null, 'a top-level directory itself is relocated instead');
    assert.equal(overlaidMount('/'), null);
    assert.equal(overlaidMount('relative/path'), null);
  });

  test('paths under a mountPath follow the volume to the pod\'s directory; the longest mount wins', () => {
    const mounts = new Map([['/etc/secret-volume', '/state/pods/p0/volumes/etc/secret-volume'], ['/etc', '/state/pods/p0/volumes/etc']]);
    assert.equal(relocate('/etc/secret-volume/crt', mounts), '/state/pods/p0/volumes/etc/secret-volume/crt');
    assert.equal(relocate('/etc/hosts', mounts), '/state/pods/p0/volumes/etc/hosts');
    assert.equal(relocate('/etc/secret-volumes/crt', new Map([['/etc/secret-volume', '/x']])), '/etc/secret-volumes/crt');
    assert.equal(relocate('3000', mounts), '3000');
  });
});

describe('which pods run', () => {
  test('the echo image under either registry name and any tag runs as echo-basic', () => {
    assert.equal(imageKind('registry.k8s.io/gateway-api/echo-basic:v1.6.0-dev.2'), 'echo-basic');
    assert.equal(imageKind('gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd'), 'echo-basic');
    assert.equal(imageKind('registry.k8s.io/coredns/coredns:v1.12.2'), 'placeholder');
    assert.equal(imageKind('nginx:1.27'), 'unknown');
    assert.equal(imageKind('registry.k8s.io/gateway-api/echo-basic-evil:v1'), 'unknown');
  });

  test('a pod of the echo image gets a plan with its mounts; one of another image gets the reason', () => {
    const chosen = runPlan(tlsBackend);
    assert.equal(chosen.kind, 'echo-basic');
    assert.deepEqual([...chosen.plan!.mounts], [['/etc/secret-volume', 'secret-volume']]);
    const other = runPlan({ ...tlsBackend, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });
    assert.equal(other.plan, null);
    assert.equal(other.kind, 'unknown');
    assert.match((other as { reason: string }).reason, /nginx:1\.27/);
  });

  test('readiness waits on HTTP_PORT, else the echo server\'s default 3000', () => {
    assert.equal(readinessPort({ HTTP_PORT: '8080' }), 8080);
    assert.equal(readinessPort({}), 3000);
    assert.equal(readinessPort({ HTTP_PORT: 'http' }), 3000);
    assert.equal(readinessPort({ TCP_ECHO_SERVER: '1', TCP_PORT: '4000', HTTP_PORT: '8080' }), 4000);
    assert.equal(readinessPort({ UDP_ECHO_SERVER: '1' }), null);
  });

  test('a pod IP always gets the same locally administered MAC', () => {
    assert.equal(macForIp('10.244.1.7'), '02:42:0a:f4:01:07');
    assert.throws(() => macForIp('10.244.1'), TypeError);
  });
});
