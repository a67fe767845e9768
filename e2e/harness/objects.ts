/**
 * Builders for the objects end-to-end tests put into a {@link TestCluster}, and kubectl-based apply,
 * get, patch and delete. The Ingress, IngressClass, RouteScript and Secret builders are the data-plane
 * tests' own (`test/helpers/manifests.ts`), so both kinds of test describe a route the same way.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import YAML from 'yaml';
import type { KubectlResult, TestCluster } from './cluster.ts';

export { ingress, ingressClass, routeScript, tlsSecret } from '../../test/helpers/manifests.ts';

/** Anything with the cluster's kubectl: a {@link TestCluster}. */
type Kubectl = Pick<TestCluster, 'kubectl'>;

/** An object as the API server returns it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** A kubectl run that failed; the message carries kubectl's stderr, which holds the API server's reason. */
export class KubectlError extends Error {
  override readonly name = 'KubectlError';
  readonly result: KubectlResult;

  constructor(args: readonly string[], result: KubectlResult) {
    super(`kubectl ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
    this.result = result;
  }
}

/** Options of the kubectl-based helpers. */
export interface KubectlCallOptions {
  /** A kubeconfig other than the admin's, e.g. from {@link TestCluster.kubeconfigForToken}. */
  readonly kubeconfig?: string;
}

/**
 * `objects` as one multi-document YAML stream. Written as YAML 1.1, which kubectl reads: in 1.2 a
 * string such as `on` or `yes` (ingress-nginx's `proxy-ssl-verify: "on"`) is left unquoted, and
 * kubectl would take it for a boolean.
 */
export function toYaml(objects: readonly object[]): string {
  return objects.map((o) => YAML.stringify(o, { version: '1.1' })).join('---\n');
}

/**
 * `kubectl apply` of `objects`, in order; resolves to kubectl's output ("… created").
 *
 * @throws KubectlError when any object is refused (validation, admission, RBAC); objects before it may be applied.
 */
export async function apply(cluster: Kubectl, objects: readonly object[], options: KubectlCallOptions = {}): Promise<string> {
  return run(cluster, ['apply', '-f', '-'], options, toYaml(objects));
}

/** Deletes `objects` (missing ones are fine) and waits until they are gone. */
export async function remove(cluster: Kubectl, objects: readonly object[], options: KubectlCallOptions = {}): Promise<void> {
  await run(cluster, ['delete', '--ignore-not-found', '--wait=true', '-f', '-'], options, toYaml(objects));
}

/** Deletes one object by resource (`ingress`, `routescripts.signalbox.dev`…) and name; missing is fine. */
export async function deleteResource(cluster: Kubectl, resource: string, name: string, namespace?: string, options: KubectlCallOptions = {}): Promise<void> {
  await run(cluster, ['delete', resource, name, ...namespaceArgs(namespace), '--ignore-not-found', '--wait=true'], options);
}

/** Options of {@link patch}. */
export interface PatchOptions extends KubectlCallOptions {
  readonly namespace?: string;
  /** Default `merge` (RFC 7386), which works on custom resources, unlike `strategic`. */
  readonly type?: 'merge' | 'strategic' | 'json';
  /** `status` to patch the status subresource, as a controller does. */
  readonly subresource?: 'status';
}

/** Patches one object and resolves to it as patched. */
export async function patch(cluster: Kubectl, resource: string, name: string, body: unknown, options: PatchOptions = {}): Promise<KubeObject> {
  const args = ['patch', resource, name, ...namespaceArgs(options.namespace), '--type', options.type ?? 'merge', '-p', JSON.stringify(body), '-o', 'json'];
  if (options.subresource !== undefined) args.push(`--subresource=${options.subresource}`);
  return JSON.parse(await run(cluster, args, options)) as KubeObject;
}

/** One object, or null when it does not exist. */
export async function get(cluster: Kubectl, resource: string, name: string, namespace?: string, options: KubectlCallOptions = {}): Promise<KubeObject | null> {
  const args = ['get', resource, name, ...namespaceArgs(namespace), '-o', 'json'];
  const result = await cluster.kubectl(args, options);
  if (result.status === 0) return JSON.parse(result.stdout) as KubeObject;
  if (/\(NotFound\)/.test(result.stderr)) return null;
  throw new KubectlError(args, result);
}

/** The objects of `resource` in `namespace`, or in every namespace when it is omitted. */
export async function list(cluster: Kubectl, resource: string, namespace?: string, options: KubectlCallOptions = {}): Promise<KubeObject[]> {
  const args = ['get', resource, ...(namespace === undefined ? ['--all-namespaces'] : namespaceArgs(namespace)), '-o', 'json'];
  return (JSON.parse(await run(cluster, args, options)) as { items: KubeObject[] }).items;
}

/** Options of {@link service}. */
export interface ServiceOptions {
  readonly namespace?: string;
  /** The Service port; default 80. */
  readonly port?: number;
  /** Default `http`, the name {@link endpointSlice} gives its port. */
  readonly portName?: string;
  readonly annotations?: Record<string, string>;
}

/**
 * A Service without a selector: with no controller-manager nothing would fill in its endpoints
 * anyway, so they come from {@link endpointSlice}.
 */
export function service(name: string, options: ServiceOptions = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: options.namespace ?? 'default', ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec: { ports: [{ name: options.portName ?? 'http', port: options.port ?? 80, protocol: 'TCP' }] },
  };
}

/** Options of {@link endpointSlice}. */
export interface EndpointSliceOptions {
  readonly namespace?: string;
  /** Default `<service>-e2e`; give several slices of one Service different names. */
  readonly name?: string;
  /** Default 127.0.0.1, where a test's upstream listens. */
  readonly addresses?: readonly string[];
  readonly portName?: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

/**
 * An EndpointSlice of Service `serviceName` with endpoints at `port` (the target port, where the
 * upstream listens). It carries its own `managed-by` label so that the EndpointSlice controller of a
 * real cluster would leave it alone. The API server refuses the default address, 127.0.0.1: store it
 * with {@link putEndpointSlice}, not {@link apply}.
 */
export function endpointSlice(serviceName: string, port: number, options: EndpointSliceOptions = {}): KubeObject {
  const addresses = options.addresses ?? ['127.0.0.1'];
  const ready = options.ready ?? true;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: options.name ?? `${serviceName}-e2e`,
      namespace: options.namespace ?? 'default',
      labels: { 'kubernetes.io/service-name': serviceName, 'endpointslice.kubernetes.io/managed-by': 'e2e.signalbox.dev' },
    },
    addressType: addresses.some((a) => a.includes(':')) ? 'IPv6' : 'IPv4',
    ports: [{ name: options.portName ?? 'http', port, protocol: 'TCP' }],
    endpoints: addresses.map((address) => ({
      addresses: [address],
      conditions: { ready, serving: options.serving ?? ready, terminating: options.terminating ?? false },
    })),
  };
}

/**
 * Creates or replaces an EndpointSlice by writing it to etcd under the API server's key for it, and
 * resolves to it as the API server then serves it.
 *
 * The API server refuses endpoint addresses in 127.0.0.0/8 and ::1 ("may not be in the loopback
 * range"), but a test's upstreams listen on 127.0.0.1. Stored directly, the slice skips validation
 * only: the API server reads it (JSON decodes alongside protobuf), its watchers get the ADDED or
 * MODIFIED event, and it can be deleted through the API as usual. A replaced slice keeps its uid and
 * creation time, and its generation goes up, as an update through the API would do.
 */
export async function putEndpointSlice(cluster: Kubectl & Pick<TestCluster, 'etcdUrl'>, slice: KubeObject): Promise<KubeObject> {
  const { name, namespace = 'default' } = slice.metadata;
  const existing = await get(cluster, 'endpointslices.discovery.k8s.io', name, namespace);
  const metadata = {
    ...slice.metadata,
    namespace,
    uid: existing?.metadata.uid ?? randomUUID(),
    creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    generation: Number(existing?.metadata.generation ?? 0) + 1,
  };
  // The version is etcd's revision of the key; a stored one would be wrong from the next write on.
  delete metadata.resourceVersion;
  const key = `/registry/endpointslices/${namespace}/${name}`;
  await etcdPut(cluster.etcdUrl, key, JSON.stringify({ ...slice, metadata }));
  return waitFor(async () => {
    const served = await get(cluster, 'endpointslices.discovery.k8s.io', name, namespace);
    return served !== null && served.metadata.generation === metadata.generation ? served : null;
  }, { timeoutMs: 10_000, what: `EndpointSlice ${namespace}/${name} to be served` });
}

/**
 * Applies {@link service} `name` and puts an {@link endpointSlice} for it pointing at
 * 127.0.0.1:`port` (or `options.addresses`) with {@link putEndpointSlice}: what a test needs to
 * route to one of its upstreams. Resolves to the Service and the slice as served.
 */
export async function createServiceWithEndpoints(cluster: Kubectl & Pick<TestCluster, 'etcdUrl'>, name: string, port: number, options: ServiceOptions & EndpointSliceOptions = {}): Promise<[KubeObject, KubeObject]> {
  await apply(cluster, [service(name, options)]);
  const slice = await putEndpointSlice(cluster, endpointSlice(name, port, options));
  const svc = await get(cluster, 'service', name, options.namespace ?? 'default');
  if (svc === null) throw new Error(`Service ${name} vanished right after it was applied`);
  return [svc, slice];
}

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
  /** Default 200 ms. */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout's message. */
  readonly what?: string;
}

/**
 * Calls `check` until it returns something other than undefined, null or false, and resolves to
 * that; errors it throws count as "not yet" (an API server that is restarting, say) and the last one
 * is reported on timeout.
 */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : `; last error: ${(lastError as Error).message}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}

async function run(cluster: Kubectl, args: readonly string[], options: KubectlCallOptions, input?: string): Promise<string> {
  const result = await cluster.kubectl(args, { input, kubeconfig: options.kubeconfig });
  if (result.status !== 0) throw new KubectlError(args, result);
  return result.stdout;
}

/** A put through etcd's JSON gateway (`/v3/kv/put`), which takes keys and values in base64. */
function etcdPut(etcdUrl: string, key: string, value: string): Promise<void> {
  const body = JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') });
  return new Promise((done, fail) => {
    const req = httpRequest(`${etcdUrl}/v3/kv/put`, { method: 'POST', agent: false, timeout: 10_000, headers: { 'content-type': 'application/json' } }, (res) => {
      let answer = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
      res.on('end', () => (res.statusCode === 200 ? done() : fail(new Error(`etcd put ${key}: ${res.statusCode} ${answer}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`etcd put ${key} timed out`)));
    req.on('error', fail);
    req.end(body);
  });
}

function namespaceArgs(namespace: string | undefined): string[] {
  return namespace === undefined ? [] : ['-n', namespace];
}
