/**
 * The environment's network namespaces, through `ip` (iproute2). The run's namespace holds a bridge;
 * each pod gets a namespace of its own with one end of a veth pair, the other end on that bridge. The
 * machine's own network is never touched: every address and route here is inside a namespace made
 * for the run, and `down` deletes them all.
 */
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { BRIDGE, BRIDGE_IP, BRIDGE_PREFIX, GATEWAY_CIDR, POD_NETNS_PREFIX, RUN_NETNS } from './layout.ts';
import { macForIp } from './pod-spec.ts';
import { run, tryRun } from './processes.ts';

/** The file `ip netns add` mounts namespace `name` on, for `nsenter --net=`. */
export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

/** The network namespaces that exist now (`ip netns list`). */
export async function listNetns(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  // Lines are `name` or `name (id: N)`.
  return stdout.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '').filter((name) => name !== '');
}

/** The namespaces of this environment (the run's and every pod's), pods first. */
export async function ourNetns(): Promise<string[]> {
  const names = await listNetns();
  return [...names.filter((n) => n.startsWith(POD_NETNS_PREFIX)), ...names.filter((n) => n === RUN_NETNS)];
}

/** The pids of every process in namespace `name` (`ip netns pids`). */
export async function netnsPids(name: string): Promise<number[]> {
  try {
    const { stdout } = await run('ip', ['netns', 'pids', name]);
    return stdout.split('\n').map(Number).filter((pid) => Number.isInteger(pid) && pid > 1);
  } catch {
    return [];
  }
}

/** Deletes namespace `name`; its veth ends go with it. */
export async function deleteNetns(name: string): Promise<void> {
  await tryRun('ip', ['netns', 'delete', name]);
}

/** Creates the run's namespace: loopback up, the bridge with {@link BRIDGE_IP}. */
export async function createRunNetns(): Promise<void> {
  await run('ip', ['netns', 'add', RUN_NETNS]);
  const ip = (...args: string[]) => run('ip', ['-n', RUN_NETNS, ...args]);
  await ip('link', 'set', 'lo', 'up');
  await ip('link', 'add', BRIDGE, 'type', 'bridge');
  await ip('addr', 'add', `${BRIDGE_IP}/${BRIDGE_PREFIX}`, 'dev', BRIDGE);
  await ip('link', 'set', BRIDGE, 'up');
  await ip('route', 'add', 'local', GATEWAY_CIDR, 'dev', 'lo');
}

/**
 * Creates pod namespace `name` with `eth0` at `podIp` on the bridge (host end `hostEnd`, at most 15
 * characters), and a default route through the bridge. Runs inside the run's namespace (the pod
 * runner does), so the host end stays there. The MAC comes from the IP, so a reused IP keeps its MAC.
 */
export async function createPodNetns(name: string, hostEnd: string, podIp: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
  const pod = (...args: string[]) => run('ip', ['-n', name, ...args]);
  await pod('link', 'set', 'lo', 'up');
  await pod('link', 'set', 'eth0', 'address', macForIp(podIp));
  await pod('addr', 'add', `${podIp}/${BRIDGE_PREFIX}`, 'dev', 'eth0');
  await pod('link', 'set', 'eth0', 'up');
  await pod('route', 'add', 'default', 'via', BRIDGE_IP);
  await run('ip', ['link', 'set', hostEnd, 'master', BRIDGE, 'up']);
}

/**
 * Forgets the neighbour entry of `podIp` on the bridge: kwok hands a freed IP to the next Pod at once,
 * and an entry left in FAILED or STALE state would make its first connections wait.
 */
export async function forgetNeighbour(podIp: string): Promise<void> {
  await tryRun('ip', ['neigh', 'del', podIp, 'dev', BRIDGE]);
}

/**
 * Undoes what the first `ip netns add` on a machine does (it bind-mounts /run/netns on itself so
 * that namespaces mounted there propagate), but only when no namespace at all is left in it: another
 * user's namespaces keep it as it is.
 */
export async function releaseNetnsDir(): Promise<void> {
  let left: string[];
  try {
    left = await readdir('/run/netns');
  } catch {
    return;
  }
  if (left.length > 0) return;
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  if (mounts.split('\n').some((line) => line.split(' ')[1] === '/run/netns')) await tryRun('umount', ['/run/netns']);
  await rmdir('/run/netns').catch(() => {});
}
