/**
 * What the pod runner reads from a Pod before it starts anything: which of its containers it can run,
 * with which environment, and which files its Secret and ConfigMap volumes become. Pure (no I/O), so
 * the rules are tested without root or a cluster (test/conformance/pod-spec.test.ts).
 */
import { posix } from 'node:path';

/** The parts of a Pod the runner reads, as the API returns them. */
export interface PodObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly deletionTimestamp?: string };
  readonly spec?: {
    readonly nodeName?: string;
    readonly containers?: readonly ContainerSpec[];
    readonly volumes?: readonly VolumeSpec[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string }[];
  };
}

/** One container of a Pod spec (only the fields the runner understands). */
export interface ContainerSpec {
  readonly name?: string;
  readonly image?: string;
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly volumeMounts?: readonly { readonly name?: string; readonly mountPath?: string }[];
}

/** An `env` entry: a value, or a downward-API field reference. */
export interface EnvVar {
  readonly name?: string;
  readonly value?: string;
  readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath?: string } };
}

/** A Pod volume: the runner materialises Secret and ConfigMap volumes, and nothing else. */
export interface VolumeSpec {
  readonly name?: string;
  readonly secret?: { readonly secretName?: string; readonly items?: readonly KeyToPath[] };
  readonly configMap?: { readonly name?: string; readonly items?: readonly KeyToPath[] };
}

/** An `items` entry of a Secret or ConfigMap volume. */
export interface KeyToPath {
  readonly key?: string;
  readonly path?: string;
}

/**
 * How the runner treats a container, by image. `echo-basic`: the conformance echo backend, run from
 * the binary built by scripts/conformance-binaries.sh. `placeholder`: an image the suite's base
 * manifests deploy but that no test of the profiles run here sends traffic to (CoreDNS, for UDPRoute
 * tests); the Pod is marked Ready with nothing behind it, so the suite's "every Pod Ready" check
 * passes. `unknown`: logged and not run, and the Pod never becomes Ready.
 */
export type ImageKind = 'echo-basic' | 'placeholder' | 'unknown';

/** The echo image under its registry names (the base manifests use one tag, the tests another). */
const ECHO_IMAGE = /^(registry\.k8s\.io|gcr\.io\/k8s-staging-gateway-api)\/(gateway-api\/)?echo-basic(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/;
const PLACEHOLDER_IMAGE = /^registry\.k8s\.io\/coredns\/coredns(:[\w.-]+)?$/;

/** What kind of image `image` is for the runner. */
export function imageKind(image: string | undefined): ImageKind {
  if (image === undefined) return 'unknown';
  if (ECHO_IMAGE.test(image)) return 'echo-basic';
  if (PLACEHOLDER_IMAGE.test(image)) return 'placeholder';
  return 'unknown';
}

/** A file a volume becomes: `path` inside the volume's directory, with the decoded bytes of its key. */
export interface VolumeFile {
  readonly path: string;
  readonly content: Buffer;
}

/** A Secret's or a ConfigMap's data, as the runner fetched it (null: it does not exist). */
export type VolumeSource = (kind: 'Secret' | 'ConfigMap', name: string) => Record<string, Buffer> | null;

/**
 * The files of volume `volume`: every key of its Secret or ConfigMap, or only its `items`, each at
 * its path. Null for a volume of another kind (an emptyDir, a projected token) or whose source is
 * missing; the runner then starts the container without it, as the echo server needs none of those.
 */
export function volumeFiles(volume: VolumeSpec, source: VolumeSource): VolumeFile[] | null {
  const ref = volume.secret !== undefined ? { kind: 'Secret' as const, name: volume.secret.secretName, items: volume.secret.items }
    : volume.configMap !== undefined ? { kind: 'ConfigMap' as const, name: volume.configMap.name, items: volume.configMap.items }
    : null;
  if (ref === null || ref.name === undefined) return null;
  const data = source(ref.kind, ref.name);
  if (data === null) return null;
  const items = ref.items ?? Object.keys(data).sort().map((key) => ({ key, path: key }));
  const files: VolumeFile[] = [];
  for (const item of items) {
    if (item.key === undefined || item.path === undefined || !(item.key in data)) continue;
    const path = safeRelative(item.path);
    if (path !== null) files.push({ path, content: data[item.key]! });
  }
  return files;
}

/** A container the runner will start: its name, the environment, and the mounts to relocate. */
export interface RunPlan {
  readonly container: string;
  readonly env: Record<string, string>;
  readonly args: readonly string[];
  /** mountPath → volume name, for the container's Secret and ConfigMap mounts. */
  readonly mounts: ReadonlyMap<string, string>;
}

/**
 * The environment of `container` in `pod`: plain values, and the downward-API fields the echo
 * server reads (metadata.name, metadata.namespace, status.podIP, spec.nodeName). `$(VAR)`
 * references to earlier entries are expanded as the kubelet does; a reference to an unknown
 * variable is left as written, and `$$` is a literal `$`.
 */
export function containerEnv(pod: PodObject, container: ContainerSpec): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    if (entry.name === undefined || entry.name === '') continue;
    const fieldPath = entry.valueFrom?.fieldRef?.fieldPath;
    if (fieldPath !== undefined) {
      const value = fieldValue(pod, fieldPath);
      if (value !== undefined) env[entry.name] = value;
      continue;
    }
    env[entry.name] = expand(entry.value ?? '', env);
  }
  return env;
}

function fieldValue(pod: PodObject, fieldPath: string): string | undefined {
  switch (fieldPath) {
    case 'metadata.name': return pod.metadata?.name;
    case 'metadata.namespace': return pod.metadata?.namespace;
    case 'metadata.uid': return pod.metadata?.uid;
    case 'status.podIP': return pod.status?.podIP;
    case 'spec.nodeName': return pod.spec?.nodeName;
    default: return undefined;
  }
}

function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) =>
    name === undefined ? '$' : (env[name] ?? whole));
}

/**
 * Rewrites `value` when it is a path under one of `mounts` (mountPath → directory on this machine),
 * for a volume that cannot be overlaid at its mountPath ({@link overlaidMount} is null, or its
 * top-level directory does not exist here): its files go to the pod's own directory, and the env
 * values and args the container is given follow them. The longest mountPath wins; other values are
 * returned as they are.
 */
export function relocate(value: string, mounts: ReadonlyMap<string, string>): string {
  let best: [string, string] | null = null;
  for (const [mountPath, target] of mounts) {
    const base = mountPath.replace(/\/+$/, '');
    if ((value === base || value.startsWith(`${base}/`)) && (best === null || base.length > best[0].length)) best = [base, target];
  }
  return best === null ? value : best[1] + value.slice(best[0].length);
}

/** Where a volume mounted at an absolute mountPath goes in the pod's own view of the file system. */
export interface OverlaidMount {
  /** The top-level directory overlaid in the pod's mount namespace (`/etc`). */
  readonly top: string;
  /** The mountPath below it (`secret-volume`), where the files go in the overlay's upper layer. */
  readonly below: string;
}

/**
 * How a volume appears at `mountPath` for the pod's process alone: the runner overlays the
 * top-level directory (`/etc` for `/etc/secret-volume`) in a mount namespace of the pod's own, with
 * the volume's files in the overlay's upper layer; the machine's `/etc` is never written. Null for
 * a mountPath that is a top-level directory itself or has `..` in it: those are relocated instead
 * (see {@link relocate}).
 */
export function overlaidMount(mountPath: string): OverlaidMount | null {
  const normal = posix.normalize(mountPath).replace(/\/+$/, '');
  if (!posix.isAbsolute(normal) || normal.split('/').includes('..')) return null;
  const [, top, ...rest] = normal.split('/');
  if (top === undefined || top === '' || rest.length === 0) return null;
  return { top: `/${top}`, below: rest.join('/') };
}

/**
 * The plan for `pod`: its first container with a runnable image (the conformance pods have one
 * container each), or null with the reason when there is none.
 */
export function runPlan(pod: PodObject): { plan: RunPlan; kind: ImageKind } | { plan: null; kind: ImageKind; reason: string } {
  const containers = pod.spec?.containers ?? [];
  const kinds = containers.map((c) => imageKind(c.image));
  const index = kinds.indexOf('echo-basic');
  if (index === -1) {
    const kind = kinds.length > 0 && kinds.every((k) => k === 'placeholder') ? 'placeholder' : 'unknown';
    return { plan: null, kind, reason: `no container with a known image (${containers.map((c) => c.image ?? '?').join(', ') || 'no containers'})` };
  }
  const container = containers[index]!;
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    if (mount.name !== undefined && mount.mountPath !== undefined && posix.isAbsolute(mount.mountPath)) mounts.set(posix.normalize(mount.mountPath).replace(/(.)\/+$/, '$1'), mount.name);
  }
  return { plan: { container: container.name ?? `container-${index}`, env: containerEnv(pod, container), args: container.args ?? [], mounts }, kind: 'echo-basic' };
}

/**
 * The TCP port the echo server answers on first, which readiness waits for: HTTP_PORT (else 3000);
 * as a TCP echo server (TCP_ECHO_SERVER), TCP_PORT (else 3000); null as a UDP echo server
 * (UDP_ECHO_SERVER), which has no TCP port to connect to: it is Ready once started.
 */
export function readinessPort(env: Record<string, string>): number | null {
  if ((env.UDP_ECHO_SERVER ?? '') !== '') return null;
  const port = Number((env.TCP_ECHO_SERVER ?? '') !== '' ? env.TCP_PORT : env.HTTP_PORT);
  return Number.isInteger(port) && port > 0 && port < 65_536 ? port : 3000;
}

/**
 * A MAC address derived from an IPv4 address (locally administered, unicast: 02:42:a.b.c.d), so a
 * Pod IP reused by a new Pod comes back with the same MAC and a stale neighbour entry stays right.
 */
export function macForIp(ip: string): string {
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new TypeError(`not an IPv4 address: ${ip}`);
  return ['02', '42', ...octets.map((o) => o.toString(16).padStart(2, '0'))].join(':');
}

/** A relative path with no `..` and no leading `/`, normalised; null for anything that escapes. */
function safeRelative(path: string): string | null {
  const normal = posix.normalize(path);
  if (normal === '' || normal === '.' || posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../')) return null;
  return normal;
}
