/**
 * signalbox under test: a manifest directory describing one Ingress in front of the upstream, and
 * `signalbox serve` running on it. The Service's annotations can be rewritten while it runs
 * ({@link setServiceAnnotations}) and {@link waitForPolicy} waits until every worker serves them.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { freePort, get, HOST, waitForHttp } from './net.ts';
import type { Scope, Service } from './processes.ts';

/** The Host header every benchmark request carries, and the host of the Ingress rule. */
export const BENCH_HOST = 'bench.local';

const NAMESPACE = 'default';
const SERVICE = 'bench-upstream';
const SERVICE_FILE = '10-service.yaml';

/** Name of the one cluster in the table (`namespace/service:port`), as `/debug/table` keys it. */
export const BENCH_CLUSTER = `${NAMESPACE}/${SERVICE}:80`;

/** The selector-less Service in front of the upstream, port 80 ("http"), with `annotations`. */
function serviceManifest(targetPort: number, annotations: Record<string, string>): object {
  const metadata = Object.keys(annotations).length > 0 ? { name: SERVICE, namespace: NAMESPACE, annotations } : { name: SERVICE, namespace: NAMESPACE };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort }] },
  };
}

/**
 * The objects the standalone mode reads: a default IngressClass for signalbox, a selector-less Service
 * whose port 80 ("http") maps to the upstream on 127.0.0.1, one EndpointSlice per upstream port (a
 * slice has a single port list, so endpoints on different ports need a slice each; they share the
 * port name "http"), and an Ingress routing `bench.local/` (Prefix) to it. One object per file keeps
 * the directory easy to read when debugging.
 */
export function benchManifests(upstreamPorts: number | readonly number[], annotations: Record<string, string> = {}): Record<string, object> {
  const ports = typeof upstreamPorts === 'number' ? [upstreamPorts] : upstreamPorts;
  const slices = Object.fromEntries(
    ports.map((port, i) => [
      `20-endpointslice-${i + 1}.yaml`,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${SERVICE}-${i + 1}`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': SERVICE } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [HOST], conditions: { ready: true } }],
        ports: [{ name: 'http', port, protocol: 'TCP' }],
      },
    ]),
  );
  return {
    '00-ingressclass.yaml': {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'signalbox', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: 'signalbox.dev/ingress-controller' },
    },
    [SERVICE_FILE]: serviceManifest(ports[0]!, annotations),
    ...slices,
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
  /** The debug listener (`/debug/table`), on loopback; a free port when not given. */
  debug?: number;
}

/** A running signalbox and the manifest directory it watches. */
export interface Signalbox {
  service: Service;
  manifests: string;
  /** A directory on the same file system, where rewritten manifests are written before the rename. */
  staging: string;
  ports: Required<SignalboxPorts>;
  upstreamPorts: readonly number[];
}

/** How to run signalbox: data-plane worker threads (default 1) and the Service's annotations. */
export interface SignalboxOptions {
  workers?: number;
  annotations?: Record<string, string>;
  /** The HTTPS listener's port; any free port when not given (its port is then not known). */
  httpsPort?: number;
  /** More objects for the manifest directory, by file name (a ConfigMap with a CA, say). */
  extraManifests?: Record<string, object>;
  /** More `serve` flags (`--default-cert FILE`, say). */
  extraArgs?: string[];
  /** More flags for node itself (`--trace-gc-nvp`, say). */
  nodeFlags?: string[];
}

/**
 * Writes the manifests, runs `bin/signalbox.js serve` (one worker unless told otherwise, no access
 * log) with this Node and `--no-node-snapshot`, as the container image does, and waits until
 * `/readyz` on the admin port answers 200.
 */
export async function startSignalbox(
  scope: Scope,
  root: string,
  upstreamPorts: number | readonly number[],
  ports: SignalboxPorts,
  options: SignalboxOptions = {},
): Promise<Signalbox> {
  const dir = scope.tempDir('manifests');
  const debugPort = ports.debug ?? (await freePort());
  const manifests = { ...benchManifests(upstreamPorts, options.annotations), ...options.extraManifests };
  for (const [file, object] of Object.entries(manifests)) writeFileSync(join(dir, file), stringify(object));
  const args = [
    // The flag bin/signalbox.js otherwise re-executes itself to get: one process, whose pid is signalbox's.
    '--no-node-snapshot',
    ...(options.nodeFlags ?? []),
    join(root, 'bin', 'signalbox.js'),
    'serve',
    '--manifests', dir,
    '--http-port', String(ports.http),
    '--https-port', String(options.httpsPort ?? 0),
    '--admin-port', String(ports.admin),
    // A checkout from before the debug listener (a --baseline) has neither it nor the flag.
    ...(['debug-server.ts', 'server/debug-server.ts'].some((f) => existsSync(join(root, 'src', 'dataplane', f))) ? ['--debug-port', String(debugPort)] : []),
    '--workers', String(options.workers ?? 1),
    '--access-log', 'off',
    ...(options.extraArgs ?? []),
  ];
  const service = scope.start('signalbox', process.execPath, args, root);
  await waitForHttp(service, ports.admin, '/readyz', 30_000);
  return { service, manifests: dir, staging: scope.tempDir('staging'), ports: { ...ports, debug: debugPort }, upstreamPorts: typeof upstreamPorts === 'number' ? [upstreamPorts] : upstreamPorts };
}

/**
 * Replaces the Service's annotations in the watched directory. The file is written elsewhere and
 * renamed into it, so signalbox never reads half a file.
 */
export function setServiceAnnotations(sb: Signalbox, annotations: Record<string, string>): void {
  const staging = join(sb.staging, SERVICE_FILE);
  writeFileSync(staging, stringify(serviceManifest(sb.upstreamPorts[0]!, annotations)));
  renameSync(staging, join(sb.manifests, SERVICE_FILE));
}

/** The part of `/debug/table` this harness reads. */
interface DebugTable {
  version: number;
  table: { clusters: Record<string, { policy: { lbPolicy: string }; endpoints: unknown[] } | undefined> };
}

/**
 * Waits until `/debug/table` satisfies `wanted` — which also describes what it saw, for the error —
 * and every worker serves that table version or newer (`signalbox_worker_table_version_min`).
 * Returns the table version.
 */
export async function waitForTable<T extends { version: number }>(sb: Signalbox, what: string, wanted: (published: T) => { ok: boolean; seen: string }, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = 'nothing yet';
  while (Date.now() < deadline) {
    if (sb.service.hasExited()) throw new Error(`signalbox exited (${await sb.service.exited}):\n${sb.service.output().trim()}`);
    const res = await get(sb.ports.debug, '/debug/table');
    if (res.status === 200) {
      const published = JSON.parse(res.body) as T;
      const check = wanted(published);
      seen = `${check.seen}, version ${published.version}`;
      if (check.ok) {
        const metrics = (await get(sb.ports.admin, '/metrics')).body;
        const served = Number(/^signalbox_worker_table_version_min (\S+)$/m.exec(metrics)?.[1] ?? NaN);
        if (served >= published.version) return published.version;
        seen += `, workers still on ${served}`;
      }
    }
    await sleep(100);
  }
  throw new Error(`signalbox did not switch to ${what} within ${timeoutMs} ms (last seen: ${seen})`);
}

/** Waits until the bench cluster has `lbPolicy` and `endpoints` endpoints, live in every worker. */
export function waitForPolicy(sb: Signalbox, lbPolicy: string, endpoints: number, timeoutMs = 15_000): Promise<number> {
  return waitForTable<DebugTable>(sb, `${lbPolicy} with ${endpoints} endpoint(s)`, (published) => {
    const cluster = published.table.clusters[BENCH_CLUSTER];
    return {
      ok: cluster?.policy.lbPolicy === lbPolicy && cluster.endpoints.length === endpoints,
      seen: cluster ? `${cluster.policy.lbPolicy} with ${cluster.endpoints.length} endpoint(s)` : `no cluster ${BENCH_CLUSTER}`,
    };
  }, timeoutMs);
}
