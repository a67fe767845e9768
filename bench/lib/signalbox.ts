/**
 * signalbox under test: a manifest directory describing one Ingress in front of the upstream, and
 * `signalbox serve` running on it with one worker.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { HOST, waitForHttp } from './net.ts';
import type { Scope, Service } from './processes.ts';

/** The Host header every benchmark request carries, and the host of the Ingress rule. */
export const BENCH_HOST = 'bench.local';

const NAMESPACE = 'default';
const SERVICE = 'bench-upstream';

/**
 * The objects the standalone mode reads: a default IngressClass for signalbox, a selector-less Service
 * whose port 80 ("http") the EndpointSlice maps to the upstream on 127.0.0.1, and an Ingress routing
 * `bench.local/` (Prefix) to it. One object per file keeps the directory easy to read when debugging.
 */
export function benchManifests(upstreamPort: number): Record<string, object> {
  return {
    '00-ingressclass.yaml': {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'signalbox', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: 'signalbox.dev/ingress-controller' },
    },
    '10-service.yaml': {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: SERVICE, namespace: NAMESPACE },
      spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: upstreamPort }] },
    },
    '20-endpointslice.yaml': {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${SERVICE}-1`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': SERVICE } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [HOST], conditions: { ready: true } }],
      ports: [{ name: 'http', port: upstreamPort, protocol: 'TCP' }],
    },
    '30-ingress.yaml': {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'bench', namespace: NAMESPACE },
      spec: {
        ingressClassName: 'signalbox',
        rules: [
          {
            host: BENCH_HOST,
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: SERVICE, port: { number: 80 } } } }] },
          },
        ],
      },
    },
  };
}

/** Ports signalbox listens on. */
export interface SignalboxPorts {
  http: number;
  admin: number;
}

/**
 * Writes the manifests, runs `bin/signalbox.js serve` (one worker, no access log) with this Node,
 * and waits until `/readyz` on the admin port answers 200.
 */
export async function startSignalbox(scope: Scope, root: string, upstreamPort: number, ports: SignalboxPorts): Promise<Service> {
  const dir = scope.tempDir('manifests');
  for (const [file, object] of Object.entries(benchManifests(upstreamPort))) writeFileSync(join(dir, file), stringify(object));
  const args = [
    join(root, 'bin', 'signalbox.js'),
    'serve',
    '--manifests', dir,
    '--http-port', String(ports.http),
    '--https-port', '0',
    '--admin-port', String(ports.admin),
    '--workers', '1',
    '--access-log', 'off',
  ];
  const service = scope.start('signalbox', process.execPath, args, root);
  await waitForHttp(service, ports.admin, '/readyz', 30_000);
  return service;
}
