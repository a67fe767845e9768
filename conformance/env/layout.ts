/**
 * Names, addresses and paths of the conformance environment, in one place: `up`, `down`, the pod
 * runner and `exec` must agree on every one of them, and `down` must find a run that an earlier,
 * crashed `up` left behind.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** The network namespace everything of the run lives in (API server, controllers, signalbox, the suite). */
export const RUN_NETNS = 'signalbox-conf';
/** Every pod's network namespace is this prefix and a number; `down` deletes all that start with it. */
export const POD_NETNS_PREFIX = 'signalbox-conf-pod-';
/** The bridge in {@link RUN_NETNS} that every pod's veth is attached to. */
export const BRIDGE = 'sbconf0';
/** The bridge's address: the pods' gateway, where the API server listens, and signalbox's published address. */
export const BRIDGE_IP = '10.244.0.1';
export const BRIDGE_PREFIX = 16;
/**
 * The fake Node's podCIDR, from which kwok hands out Pod IPs (the first address and up). It must lie
 * inside the bridge's /16 and leave out {@link BRIDGE_IP}: with 10.244.0.0/16 kwok's first Pod would
 * be given 10.244.0.1.
 */
export const POD_CIDR = '10.244.1.0/24';
/**
 * The addresses signalbox gives Gateways (`--gateway-addresses`), one each: local to the run's
 * namespace (a route of type local on lo), so every one is bindable without an interface of its own.
 */
export const GATEWAY_CIDR = '10.244.2.0/24';
/** The fake Node kwok manages. */
export const NODE_NAME = 'kwok-node-0';
/** The API server's port on {@link BRIDGE_IP} (and on loopback) inside {@link RUN_NETNS}. */
export const API_PORT = 6443;
/**
 * The fake Node's kubelet port on {@link BRIDGE_IP} (the Node's InternalIP, kwok's `--node-ip`):
 * kwok publishes it as `status.daemonEndpoints.kubeletEndpoint.Port`, the API server proxies
 * `pods/log` there, and the pod runner serves it (kubelet-server.ts).
 */
export const KUBELET_PORT = 10250;
export const ETCD_CLIENT_URL = 'http://127.0.0.1:2379';
export const ETCD_PEER_URL = 'http://127.0.0.1:2380';
export const SERVICE_CIDR = '10.96.0.0/24';

/** Where the run keeps its state: pid files, logs, certificates, etcd's data, the pods' files. */
export function stateDir(): string {
  const cache = process.env.SIGNALBOX_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'signalbox');
  return process.env.SIGNALBOX_CONFORMANCE_STATE ?? join(cache, 'conformance-run');
}

/** The paths under {@link stateDir}. */
export function statePaths(state = stateDir()) {
  return {
    state,
    kubeconfig: join(state, 'kubeconfig'),
    pki: join(state, 'pki'),
    etcdData: join(state, 'etcd'),
    logs: join(state, 'logs'),
    pids: join(state, 'pids'),
    pods: join(state, 'pods'),
    stages: join(state, 'kwok-stages.yaml'),
    /** Written by `up` when everything is ready, read by `exec` and `make conformance`. */
    env: join(state, 'env.sh'),
  } as const;
}
