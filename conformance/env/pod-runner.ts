/**
 * The kubelet of the fake Node, as far as the conformance suite needs one: for each Pod kwok has
 * made Running with an IP, a network namespace with that IP on the run's bridge and the echo server
 * started in it, with the Pod's environment and its Secret and ConfigMap volumes; the Pod is marked
 * Ready once the server accepts connections. When the Pod goes (deleted, or its IP changes), the
 * server is stopped and the namespace removed. Level-triggered like the controller: any change of
 * the Pods reconciles the whole set against what runs.
 *
 * Runs inside the run's network namespace, as a daemon started by `up`; SIGTERM stops every pod.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { KubeApi, KubeApiError } from '../../src/k8s/kube-api.ts';
import { Reflector } from '../../src/k8s/reflector.ts';
import type { ResourceType } from '../../src/k8s/resources.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { ContainerLog } from './container-log.ts';
import { startKubeletServer } from './kubelet-server.ts';
import { BRIDGE_IP, KUBELET_PORT, NODE_NAME, POD_NETNS_PREFIX, statePaths } from './layout.ts';
import { createPodNetns, deleteNetns, forgetNeighbour, netnsPath } from './netns.ts';
import { overlaidMount, readinessPort, relocate, runPlan, volumeFiles, type PodObject, type RunPlan } from './pod-spec.ts';

const PODS: ResourceType = { kind: 'Pod', apiVersion: 'v1', plural: 'pods', fieldSelector: `spec.nodeName=${NODE_NAME}` };
/** How long a server may take to accept a connection before the runner stops waiting (it logs and leaves the Pod not Ready). */
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/** One Pod the runner looks after. */
interface Running {
  readonly uid: string;
  readonly key: string;
  readonly ip: string;
  readonly index: number;
  readonly netns: string;
  readonly dir: string;
  child: ChildProcess | null;
  /** The server's output, stamped line by line; null until it is started. */
  log: { readonly container: string; readonly log: ContainerLog } | null;
  exited: Promise<void>;
  /** Aborted when the Pod is stopped, so a readiness wait in progress gives up. */
  readonly abort: AbortController;
  /** The stop in progress or done: a server that exits and a pass that drops its Pod may both ask. */
  stopped: Promise<void> | null;
}

/** Options of {@link runPodRunner}. */
export interface PodRunnerOptions {
  readonly echoBasic: string;
}

/** Runs the pod runner until SIGTERM or SIGINT. */
export async function runPodRunner(options: PodRunnerOptions): Promise<void> {
  const paths = statePaths();
  const log = createLogger({ bindings: { component: 'pod-runner' } });
  const api = KubeApi.load(paths.kubeconfig);
  const runner = new PodRunner(api, options.echoBasic, paths.pods, log);
  const reflector = new Reflector(api, PODS, null, {
    changed: () => runner.kick(() => [...reflector.objects()] as PodObject[]),
    error: (_type, error, retryInMs) => log.warn({ err: (error as Error).message, retryInMs }, 'watching Pods failed; retrying'),
  }, log);
  reflector.start();
  const pki = (name: string) => readFile(join(paths.pki, name), 'utf8');
  const kubelet = await startKubeletServer({
    host: BRIDGE_IP,
    port: KUBELET_PORT,
    cert: await pki('kubelet.crt'),
    key: await pki('kubelet.key'),
    clientCa: await pki('ca.crt'),
    lookup: (namespace, pod, container) => runner.containerLog(namespace, pod, container),
  });
  log.info({ address: `https://${BRIDGE_IP}:${kubelet.port}` }, 'serving container logs');
  await writeFile(join(paths.state, 'pod-runner.ready'), `${process.pid}\n`);
  await new Promise<void>((done) => {
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  log.info('stopping every pod');
  await reflector.stop();
  kubelet.server.close();
  kubelet.server.closeAllConnections();
  await runner.stopAll();
  await api.close();
}

class PodRunner {
  readonly #api: KubeApi;
  readonly #echoBasic: string;
  readonly #podsDir: string;
  readonly #log: Logger;
  readonly #running = new Map<string, Running>();
  /** Pods whose image the runner does not run, by uid: logged once. */
  readonly #skipped = new Set<string>();
  /** Pods to start again no earlier than this (performance.now()), by uid: a server that exited, a volume not there yet. */
  readonly #backoff = new Map<string, { notBefore: number; delayMs: number }>();
  #pods: () => PodObject[] = () => [];
  #retryTimer: NodeJS.Timeout | null = null;
  #pass: Promise<void> = Promise.resolve();
  #queued = false;
  #stopping = false;

  constructor(api: KubeApi, echoBasic: string, podsDir: string, log: Logger) {
    this.#api = api;
    this.#echoBasic = echoBasic;
    this.#podsDir = podsDir;
    this.#log = log;
  }

  /** Schedules a reconcile pass; passes never overlap, and a burst of changes makes one more pass, not many. */
  kick(pods: () => PodObject[] = this.#pods): void {
    this.#pods = pods;
    if (this.#queued || this.#stopping) return;
    this.#queued = true;
    this.#pass = this.#pass.then(async () => {
      this.#queued = false;
      if (!this.#stopping) await this.#reconcile(pods());
    }).catch((error: unknown) => this.#log.error({ err: (error as Error).message }, 'reconcile failed'));
  }

  /** The log of a running Pod's container, for the kubelet endpoint; a string says why there is none. */
  containerLog(namespace: string, pod: string, container: string): ContainerLog | string {
    const key = `${namespace}/${pod}`;
    const running = [...this.#running.values()].find((r) => r.key === key);
    if (running === undefined) return `pod ${key} is not running on ${NODE_NAME}`;
    if (running.log === null || running.log.container !== container) return `container "${container}" in pod ${key} is not running`;
    return running.log.log;
  }

  async stopAll(): Promise<void> {
    this.#stopping = true;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    await this.#pass;
    await Promise.all([...this.#running.values()].map((r) => this.#stop(r)));
  }

  async #reconcile(pods: PodObject[]): Promise<void> {
    const wanted = new Map<string, PodObject>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid;
      if (uid === undefined || pod.metadata?.deletionTimestamp !== undefined) continue;
      if (pod.status?.phase !== 'Running' || !pod.status.podIP) continue;
      wanted.set(uid, pod);
    }
    // Stops first: the IP a stopping Pod frees may be the one a new Pod was just given.
    const stops: Promise<void>[] = [];
    for (const running of this.#running.values()) {
      const pod = wanted.get(running.uid);
      if (pod === undefined || pod.status?.podIP !== running.ip) stops.push(this.#stop(running));
    }
    await Promise.all(stops);
    for (const uid of this.#skipped) if (!wanted.has(uid)) this.#skipped.delete(uid);
    for (const uid of this.#backoff.keys()) if (!wanted.has(uid)) this.#backoff.delete(uid);
    let nextRetry = Infinity;
    for (const [uid, pod] of wanted) {
      if (this.#running.has(uid) || this.#skipped.has(uid)) continue;
      const backoff = this.#backoff.get(uid);
      if (backoff !== undefined && backoff.notBefore > performance.now()) {
        nextRetry = Math.min(nextRetry, backoff.notBefore);
        continue;
      }
      await this.#start(pod).catch(async (error: unknown) => {
        this.#log.error({ pod: keyOf(pod), err: (error as Error).message }, 'could not start the pod; trying again after a backoff');
        this.#delay(uid);
        // Half a start (a namespace without a server) is undone, so that the retry starts clean.
        const half = this.#running.get(uid);
        if (half !== undefined) await this.#stop(half);
      });
      const delayed = this.#backoff.get(uid);
      if (!this.#running.has(uid) && delayed !== undefined) nextRetry = Math.min(nextRetry, delayed.notBefore);
    }
    // Nothing about the Pod changes when its Secret appears or its server's backoff ends: no event
    // would bring it back, so a pass is scheduled for the earliest retry.
    if (nextRetry !== Infinity && this.#retryTimer === null && !this.#stopping) {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = null;
        this.kick();
      }, Math.max(0, nextRetry - performance.now()));
    }
  }

  /** Holds the Pod back before its next start: 1 s, doubling to 30 s, as a kubelet's crash-loop backoff does. */
  #delay(uid: string): void {
    const previous = this.#backoff.get(uid);
    const delayMs = previous === undefined ? 1_000 : Math.min(30_000, previous.delayMs * 2);
    this.#backoff.set(uid, { notBefore: performance.now() + delayMs, delayMs });
  }

  async #start(pod: PodObject): Promise<void> {
    const uid = pod.metadata!.uid!;
    const key = keyOf(pod);
    const chosen = runPlan(pod);
    if (chosen.plan === null) {
      this.#skipped.add(uid);
      if (chosen.kind === 'placeholder') {
        this.#log.info({ pod: key }, `not run: ${chosen.reason}; no test of these profiles sends it traffic, so it is marked Ready as it is`);
        await this.#markReady(pod);
      } else {
        this.#log.warn({ pod: key }, `skipped: ${chosen.reason}; it stays not Ready`);
      }
      return;
    }
    const plan = chosen.plan;
    const volumes = await this.#volumeData(pod, plan);
    if (volumes.missing.length > 0) {
      // The kubelet, too, waits for a volume's Secret or ConfigMap before it starts the container:
      // the suite creates its certificate Secrets after the Deployments that mount them.
      this.#log.info({ pod: key, missing: volumes.missing }, 'waiting for the volumes\' sources');
      this.#delay(uid);
      return;
    }
    const index = this.#freeIndex();
    const ip = pod.status!.podIP!;
    const netns = `${POD_NETNS_PREFIX}${index}`;
    const dir = join(this.#podsDir, netns);
    const running: Running = { uid, key, ip, index, netns, dir, child: null, log: null, exited: Promise.resolve(), abort: new AbortController(), stopped: null };
    this.#running.set(uid, running);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const { overlays, relocated } = await this.#writeVolumes(pod, plan, dir, volumes.fetched);
    await forgetNeighbour(ip);
    await createPodNetns(netns, `sbconfp${index}`, ip);
    const env: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin' };
    for (const [name, value] of Object.entries(plan.env)) env[name] = relocate(value, relocated);
    const [command, args] = this.#command(netns, [this.#echoBasic, ...plan.args.map((a) => relocate(a, relocated))], overlays);
    // Piped, not a file of its own: every line is stamped as it arrives, so that `sinceTime` is exact.
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const log = new ContainerLog(join(dir, `${plan.container}.log`));
    log.attach('stdout', child.stdout!);
    log.attach('stderr', child.stderr!);
    running.child = child;
    running.log = { container: plan.container, log };
    running.exited = new Promise((done) => child.on('exit', (code, signal) => {
      running.child = null;
      done();
      if (running.abort.signal.aborted) return;
      // restartPolicy Always: clean up, and start it again after a backoff.
      this.#log.warn({ pod: key, code, signal }, 'the pod\'s server exited; starting it again after a backoff');
      this.#delay(uid);
      void this.#stop(running).then(() => this.kick());
    }));
    child.on('error', (error) => this.#log.error({ pod: key, err: error.message }, 'could not start echo-basic'));
    if (child.pid !== undefined) await writeFile(join(dir, 'pid'), `${child.pid}\n`);
    this.#log.info({ pod: key, ip, netns }, 'started');
    const port = readinessPort(plan.env);
    void this.#awaitListening(running, port).then(async (listening) => {
      if (!listening) return;
      await this.#markReady(pod);
      this.#backoff.delete(uid);
      this.#log.info({ pod: key, ip, port }, 'Ready');
    }).catch((error: unknown) => this.#log.error({ pod: key, err: (error as Error).message }, 'could not mark the pod Ready'));
  }

  /** The Secrets and ConfigMaps the container's mounts name, and which of them do not exist (yet). */
  async #volumeData(pod: PodObject, plan: RunPlan): Promise<{ fetched: Map<string, Record<string, Buffer> | null>; missing: string[] }> {
    const namespace = pod.metadata!.namespace!;
    const fetched = new Map<string, Record<string, Buffer> | null>();
    const missing: string[] = [];
    const mounted = new Set(plan.mounts.values());
    for (const volume of pod.spec?.volumes ?? []) {
      if (volume.name === undefined || !mounted.has(volume.name)) continue;
      const ref = volume.secret?.secretName !== undefined ? ['Secret', volume.secret.secretName] as const
        : volume.configMap?.name !== undefined ? ['ConfigMap', volume.configMap.name] as const : null;
      if (ref === null) continue;
      const data = await this.#data(ref[0], namespace, ref[1]);
      fetched.set(`${ref[0]}/${ref[1]}`, data);
      if (data === null) missing.push(`${ref[0]} ${namespace}/${ref[1]}`);
    }
    return { fetched, missing };
  }

  /**
   * Writes the Secret and ConfigMap volumes the container mounts: into the upper layer of an overlay
   * of their top-level directory where they can be (see overlaidMount), else into a directory of
   * the pod's that env values and args are relocated to.
   */
  async #writeVolumes(pod: PodObject, plan: RunPlan, dir: string, fetched: Map<string, Record<string, Buffer> | null>): Promise<{ overlays: Map<string, string>; relocated: Map<string, string> }> {
    const overlays = new Map<string, string>();
    const relocated = new Map<string, string>();
    for (const [mountPath, volumeName] of plan.mounts) {
      const volume = pod.spec?.volumes?.find((v) => v.name === volumeName);
      if (volume === undefined) continue;
      const files = volumeFiles(volume, (kind, name) => fetched.get(`${kind}/${name}`) ?? null);
      if (files === null) continue;
      const overlaid = overlaidMount(mountPath);
      let target: string;
      if (overlaid !== null && (await isDirectory(overlaid.top))) {
        const layer = join(dir, 'overlay', overlaid.top.slice(1));
        overlays.set(overlaid.top, layer);
        target = join(layer, 'upper', overlaid.below);
      } else {
        target = join(dir, 'volumes', mountPath);
        relocated.set(mountPath, target);
      }
      await mkdir(target, { recursive: true });
      for (const file of files) {
        await mkdir(dirname(join(target, file.path)), { recursive: true });
        await writeFile(join(target, file.path), file.content, { mode: 0o600 });
      }
    }
    for (const layer of overlays.values()) await mkdir(join(layer, 'work'), { recursive: true });
    return { overlays, relocated };
  }

  /**
   * The command that starts `argv` in the pod's network namespace and, when the pod has overlays,
   * in a mount namespace of its own where they are mounted: private, so nothing of it reaches the
   * machine's mounts, and gone with the process. Each step execs the next, so the pid is the server's.
   */
  #command(netns: string, argv: readonly string[], overlays: ReadonlyMap<string, string>): [string, string[]] {
    const enter = [`--net=${netnsPath(netns)}`, '--', ...argv];
    if (overlays.size === 0) return ['nsenter', enter];
    const mounts = [...overlays].map(([top, layer]) => {
      // Overlay options are split on commas and colons; the state paths are ours and have neither.
      if (/[,:]/.test(layer)) throw new Error(`cannot overlay ${top}: ${layer} has a comma or a colon`);
      return `mount -t overlay overlay -o ${shellQuote(`lowerdir=${top},upperdir=${layer}/upper,workdir=${layer}/work`)} ${shellQuote(top)}`;
    });
    const script = ['set -e', ...mounts, 'exec nsenter "$@"'].join('\n');
    return ['unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', ...enter]];
  }

  async #data(kind: 'Secret' | 'ConfigMap', namespace: string, name: string): Promise<Record<string, Buffer> | null> {
    const plural = kind === 'Secret' ? 'secrets' : 'configmaps';
    try {
      const object = await this.#api.get<{ data?: Record<string, string>; binaryData?: Record<string, string> }>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}`);
      const data: Record<string, Buffer> = {};
      // Secret data is base64; ConfigMap data is text and its binaryData base64.
      for (const [k, v] of Object.entries(object.data ?? {})) data[k] = kind === 'Secret' ? Buffer.from(v, 'base64') : Buffer.from(v, 'utf8');
      for (const [k, v] of Object.entries(object.binaryData ?? {})) data[k] = Buffer.from(v, 'base64');
      return data;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * Connects to `ip:port` until a connection succeeds (true), or the Pod is stopped, its server exits
   * or the timeout passes (false). A refused connect answers within a millisecond on a bridge, so a
   * short pause between attempts keeps this from spinning.
   */
  async #awaitListening(running: Running, port: number | null): Promise<boolean> {
    if (port === null) {
      // A UDP server: nothing to connect to; give it the moment a bind takes, then it is Ready if still running.
      await new Promise((r) => setTimeout(r, 300));
      return !running.abort.signal.aborted && running.child !== null;
    }
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (running.abort.signal.aborted || running.child === null) return false;
      if (await tryConnect(running.ip, port)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    this.#log.warn({ pod: running.key, port }, `nothing listened within ${READY_TIMEOUT_MS / 1000} s; the pod stays not Ready`);
    return false;
  }

  async #markReady(pod: PodObject): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const ready = new Set(['Ready', 'ContainersReady']);
    const conditions = (pod.status?.conditions ?? []).filter((c) => !ready.has(c.type ?? ''));
    const containerStatuses = ((pod.status as { containerStatuses?: Record<string, unknown>[] } | undefined)?.containerStatuses ?? [])
      .map((s) => ({ ...s, ready: true, started: true }));
    const path = `/api/v1/namespaces/${encodeURIComponent(pod.metadata!.namespace!)}/pods/${encodeURIComponent(pod.metadata!.name!)}/status`;
    // A merge patch replaces lists whole, so every condition is sent, ours replaced.
    await this.#api.mergePatch(path, {
      status: {
        conditions: [...conditions, { type: 'Ready', status: 'True', lastTransitionTime: now }, { type: 'ContainersReady', status: 'True', lastTransitionTime: now }],
        containerStatuses,
      },
    });
  }

  #stop(running: Running): Promise<void> {
    running.stopped ??= this.#doStop(running);
    return running.stopped;
  }

  async #doStop(running: Running): Promise<void> {
    running.abort.abort();
    const child = running.child;
    if (child !== null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await running.exited;
      clearTimeout(timer);
    }
    running.log?.log.end();
    await deleteNetns(running.netns);
    await forgetNeighbour(running.ip);
    await rm(running.dir, { recursive: true, force: true });
    this.#running.delete(running.uid);
    this.#log.info({ pod: running.key, ip: running.ip }, 'stopped');
  }

  #freeIndex(): number {
    const used = new Set([...this.#running.values()].map((r) => r.index));
    let index = 0;
    while (used.has(index)) index++;
    return index;
  }
}

function keyOf(pod: PodObject): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(false));
  });
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
