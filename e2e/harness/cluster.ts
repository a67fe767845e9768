/**
 * A real Kubernetes control plane for end-to-end tests: etcd and kube-apiserver on loopback, started
 * the way controller-runtime's envtest does it (no controller-manager, scheduler or kubelet), with the
 * repository's CRDs applied.
 *
 * Nothing outlives the test process: every server is registered with a small reaper shell that holds
 * a pipe from this process and, when the pipe closes — because `stop()` closed it, or because this
 * process exited, was interrupted or was killed with SIGKILL — kills whatever is left and removes
 * the cluster's temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { generateClusterPki } from './pki.ts';

/** The repository root, for `scripts/k8s-binaries.sh` and `crds/`. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Where kube-apiserver, etcd and kubectl are; by default whatever `scripts/k8s-binaries.sh` prints. */
  readonly binDir?: string;
  /** Longest to wait for etcd, then for the API server, to become ready; default 60 s each. */
  readonly readyTimeoutMs?: number;
  /** Extra kube-apiserver flags, after the harness's own (a later flag wins). */
  readonly apiServerFlags?: readonly string[];
  /** Apply the repository's `crds/` and wait until they are served; default true. */
  readonly crds?: boolean;
}

/** What a kubectl run ended with; `status` is null when it was killed (by its timeout, for one). */
export interface KubectlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link TestCluster.kubectl}. */
export interface KubectlOptions {
  /** Written to kubectl's stdin (for `apply -f -`). */
  readonly input?: string;
  /** Another kubeconfig, e.g. one from {@link TestCluster.kubeconfigForToken}; default the admin's. */
  readonly kubeconfig?: string;
  /** Killed after this long; default 60 s. */
  readonly timeoutMs?: number;
}

/** What a raw API request answered. */
export interface ApiResponse {
  readonly status: number;
  readonly body: string;
}

/** A running control plane. */
export interface TestCluster {
  /** An admin kubeconfig (client certificate in `system:masters`), with everything embedded. */
  readonly kubeconfigPath: string;
  /** `https://127.0.0.1:<port>`; the port stays the same across {@link startApiServer}. */
  readonly server: string;
  /** The CA that signed the serving certificate and the client certificates. */
  readonly caPem: string;
  /**
   * etcd's client URL (plain HTTP, no auth). Tests use it only to store what the API server's
   * validation refuses, such as EndpointSlices with loopback addresses (see `putEndpointSlice`).
   */
  readonly etcdUrl: string;
  readonly binDir: string;
  /** The cluster's temp dir (removed by {@link stop}); set `SIGNALBOX_E2E_KEEP=1` to keep it. */
  readonly dir: string;
  /** The servers' logs, appended to across restarts. */
  readonly logs: { readonly etcd: string; readonly apiServer: string };
  /** The servers' process ids, undefined for one not running: for tests that check nothing leaks. */
  processes(): { etcd: number | undefined; apiServer: number | undefined };
  /** Runs kubectl with the admin kubeconfig (or `options.kubeconfig`); never throws for a failing status. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<KubectlResult>;
  /**
   * One HTTPS request to the API server as the admin, or with `token` as a bearer token instead of
   * the client certificate. `body` is sent as JSON unless it is a string.
   */
  request(method: string, path: string, options?: { token?: string; body?: unknown; contentType?: string }): Promise<ApiResponse>;
  /**
   * Stops the API server, leaving etcd, the certificates and the port as they are. Graceful (SIGTERM,
   * then SIGKILL after 15 s) by default; `{graceful: false}` kills it at once, as a crash would.
   */
  stopApiServer(options?: { graceful?: boolean }): Promise<void>;
  /** Starts the API server again, on the same port, and waits until it is ready. */
  startApiServer(): Promise<void>;
  /**
   * Creates `namespace` (if needed) and ServiceAccount `serviceAccount` in it, and returns a token for
   * it from the TokenRequest API (valid `durationSeconds`, default an hour). The account has no RBAC
   * bindings unless the test adds some.
   */
  tokenFor(serviceAccount: string, namespace?: string, options?: { durationSeconds?: number }): Promise<string>;
  /** Writes a kubeconfig that authenticates with `token` alone and returns its path. */
  kubeconfigForToken(token: string): Promise<string>;
  /**
   * Kills both servers (SIGKILL: the data is thrown away) and removes the temp dir. Safe to call
   * twice, and after a failed restart.
   */
  stop(): Promise<void>;
}

/** Thrown when a server does not come up; the message ends with the last lines of its log. */
export class ClusterStartError extends Error {
  override readonly name = 'ClusterStartError';
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const LOG_TAIL_LINES = 40;
const MAX_PORT_ATTEMPTS = 3;

let binDirPromise: Promise<string> | undefined;

/**
 * The directory holding kube-apiserver, etcd, kubectl and helm, from `scripts/k8s-binaries.sh` (fast
 * when they are cached; otherwise it builds them, and its progress goes to stderr).
 */
export function k8sBinDir(): Promise<string> {
  binDirPromise ??= new Promise<string>((resolvePath, reject) => {
    const child = spawn('bash', [join(REPO_ROOT, 'scripts/k8s-binaries.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const dir = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && dir !== '') resolvePath(dir);
      else reject(new Error(`scripts/k8s-binaries.sh failed (exit ${code}); see its messages above`));
    });
  });
  // A failure is not cached: the next cluster tries again (the script itself is safe to rerun).
  binDirPromise.catch(() => (binDirPromise = undefined));
  return binDirPromise;
}

/**
 * Starts etcd and kube-apiserver on free loopback ports, writes an admin kubeconfig, applies `crds/`
 * and waits until they are served. Call {@link TestCluster.stop} when done (an `after` hook); if the
 * process ends without it, the reaper still cleans up.
 *
 * @throws ClusterStartError when a server exits or is not ready in time; everything started is stopped first.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const binDir = options.binDir ?? (await k8sBinDir());
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const keep = process.env.SIGNALBOX_E2E_KEEP === '1';
  const dir = await mkdtemp(join(tmpdir(), 'signalbox-e2e-'));
  const reaper = new Reaper(dir, keep);
  const logs = { etcd: join(dir, 'etcd.log'), apiServer: join(dir, 'kube-apiserver.log') };
  const pkiDir = join(dir, 'pki');
  const file = (name: string) => join(pkiDir, name);
  let etcd: ServerProcess | undefined;
  let apiServer: ServerProcess | undefined;
  let stopped: Promise<void> | undefined;

  const stop = () =>
    (stopped ??= (async () => {
      // Nothing is kept, so nothing needs a graceful shutdown, which takes etcd seconds while an API
      // server is still connected to it.
      await apiServer?.stop(false);
      await etcd?.stop(false);
      if (!keep) await rm(dir, { recursive: true, force: true });
      else process.stderr.write(`signalbox e2e: kept the cluster's files in ${dir}\n`);
      await reaper.close();
    })());

  try {
    const pki = generateClusterPki();
    await mkdir(pkiDir, { mode: 0o700 });
    const secret = { mode: 0o600 };
    await Promise.all([
      writeFile(file('ca.crt'), pki.ca.certPem),
      writeFile(file('serving.crt'), pki.serving.certPem),
      writeFile(file('serving.key'), pki.serving.keyPem, secret),
      writeFile(file('admin.crt'), pki.admin.certPem),
      writeFile(file('admin.key'), pki.admin.keyPem, secret),
      writeFile(file('service-account.pub'), pki.serviceAccount.publicKeyPem),
      writeFile(file('service-account.key'), pki.serviceAccount.privateKeyPem, secret),
      mkdir(join(dir, 'apiserver-certs')),
      mkdir(join(dir, 'etcd'), { mode: 0o700 }),
    ]);
    const tls = { ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem };

    let etcdUrl = '';
    for (let attempt = 1; ; attempt++) {
      const [clientPort, peerPort] = await freePorts(2);
      etcdUrl = `http://127.0.0.1:${clientPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      etcd = ServerProcess.start('etcd', join(binDir, 'etcd'), [
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        // A test cluster's data is thrown away; fsync would only make every write wait for the disk.
        '--unsafe-no-fsync',
      ], logs.etcd, reaper);
      const outcome = await waitReady(etcd, readyTimeoutMs, () => probeEtcd(etcdUrl));
      if (outcome === 'ready') break;
      if (outcome === 'port taken' && attempt < MAX_PORT_ATTEMPTS) continue;
      throw startError(etcd, outcome, `etcd at ${etcdUrl}`);
    }

    let port = 0;
    let apiArgs: string[] = [];
    const apiServerArgs = (securePort: number) => [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${securePort}`,
      // The default reconciler would keep writing this address into the `kubernetes` Service's
      // endpoints; tests have no use for that Service.
      '--endpoint-reconciler-type=none',
      `--tls-cert-file=${file('serving.crt')}`,
      `--tls-private-key-file=${file('serving.key')}`,
      `--client-ca-file=${file('ca.crt')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${file('service-account.pub')}`,
      `--service-account-signing-key-file=${file('service-account.key')}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      // The ServiceAccount admission plugin refuses pods in namespaces without a `default`
      // ServiceAccount, which only the controller-manager (absent here) creates.
      '--disable-admission-plugins=ServiceAccount',
      ...(options.apiServerFlags ?? []),
    ];
    for (let attempt = 1; ; attempt++) {
      [port = 0] = await freePorts(1);
      apiArgs = apiServerArgs(port);
      apiServer = ServerProcess.start('kube-apiserver', join(binDir, 'kube-apiserver'), apiArgs, logs.apiServer, reaper);
      const outcome = await waitReady(apiServer, readyTimeoutMs, () => probeReadyz(port, tls));
      if (outcome === 'ready') break;
      if (outcome === 'port taken' && attempt < MAX_PORT_ATTEMPTS) continue;
      throw startError(apiServer, outcome, `kube-apiserver on port ${port}`);
    }

    const server = `https://127.0.0.1:${port}`;
    const caData = Buffer.from(pki.ca.certPem).toString('base64');
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, server, caData, {
      'client-certificate-data': Buffer.from(pki.admin.certPem).toString('base64'),
      'client-key-data': Buffer.from(pki.admin.keyPem).toString('base64'),
    });
    let tokenConfigs = 0;

    const kubectl = (args: readonly string[], opts: KubectlOptions = {}) =>
      runKubectl(binDir, dir, opts.kubeconfig ?? kubeconfigPath, args, opts.input, opts.timeoutMs ?? 60_000);

    const cluster: TestCluster = {
      kubeconfigPath,
      server,
      caPem: pki.ca.certPem,
      etcdUrl,
      binDir,
      dir,
      logs,
      processes: () => ({ etcd: etcd?.pid, apiServer: apiServer?.pid }),
      kubectl,
      request: (method, path, opts = {}) => apiRequest(port, tls, method, path, opts),
      async stopApiServer(opts = {}) {
        await apiServer?.stop(opts.graceful ?? true);
      },
      async startApiServer() {
        if (stopped !== undefined) throw new Error('the cluster has been stopped');
        if (apiServer?.pid !== undefined) throw new Error('the API server is running already');
        apiServer = ServerProcess.start('kube-apiserver', join(binDir, 'kube-apiserver'), apiArgs, logs.apiServer, reaper);
        const outcome = await waitReady(apiServer, readyTimeoutMs, () => probeReadyz(port, tls));
        if (outcome !== 'ready') throw startError(apiServer, outcome, `kube-apiserver (restarted) on port ${port}`);
      },
      async tokenFor(serviceAccount, namespace = 'default', opts = {}) {
        const objects = [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } },
        ];
        await mustKubectl(kubectl, ['apply', '-f', '-'], objects.map((o) => YAML.stringify(o)).join('---\n'));
        const token = await mustKubectl(kubectl, ['create', 'token', serviceAccount, '-n', namespace, `--duration=${opts.durationSeconds ?? 3600}s`]);
        return token.trim();
      },
      async kubeconfigForToken(token) {
        const path = join(dir, `kubeconfig-token-${++tokenConfigs}`);
        await writeKubeconfig(path, server, caData, { token });
        return path;
      },
      stop,
    };

    // The bootstrap controller creates `default` shortly after /readyz turns ok, not before.
    await waitFor(() => cluster.request('GET', '/api/v1/namespaces/default').then((res) => res.status === 200, () => false), readyTimeoutMs, 'namespace default');
    if (options.crds ?? true) await applyCrds(kubectl, readyTimeoutMs);
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Applies the files at the top of `crds/` (signalbox's own; the optional Gateway API CRDs in
 * crds/gateway-api/ are left to the tests that install them), waits for Established, then until
 * discovery lists every one of them: kubectl resolves kinds through discovery, and a RouteScript
 * applied between the two fails with "no matches for kind".
 */
async function applyCrds(kubectl: TestCluster['kubectl'], timeoutMs: number): Promise<void> {
  const dir = join(REPO_ROOT, 'crds');
  // Files one by one: `kubectl wait -f DIR` and `get -f DIR` would read subdirectories too.
  const crds = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) => ['-f', join(dir, f)]);
  await mustKubectl(kubectl, ['apply', ...crds]);
  await mustKubectl(kubectl, ['wait', '--for=condition=Established', `--timeout=${Math.ceil(timeoutMs / 1000)}s`, ...crds]);
  const names = (await mustKubectl(kubectl, ['get', ...crds, '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/).filter(Boolean);
  await waitFor(async () => {
    const served = await kubectl(['api-resources', '-o', 'name']);
    return served.status === 0 && names.every((name) => served.stdout.split('\n').includes(name));
  }, timeoutMs, `discovery of ${names.join(', ')}`);
}

/** One etcd or kube-apiserver process, logging to a file. */
class ServerProcess {
  readonly name: string;
  readonly logPath: string;
  readonly exited: Promise<string>;
  #child: ChildProcess;
  #running = true;

  private constructor(name: string, child: ChildProcess, logPath: string, reaper: Reaper) {
    this.name = name;
    this.logPath = logPath;
    this.#child = child;
    const pid = child.pid;
    if (pid !== undefined) reaper.add(pid);
    this.exited = new Promise((resolveExit) => {
      child.on('error', (error) => {
        this.#running = false;
        resolveExit(`could not be started: ${error.message}`);
      });
      child.on('exit', (code, signal) => {
        this.#running = false;
        if (pid !== undefined) reaper.remove(pid);
        resolveExit(signal === null ? `exited with status ${code}` : `was killed by ${signal}`);
      });
    });
    // Unreferenced, so that a test file which forgot stop() still ends (and the reaper cleans up).
    child.unref();
  }

  static start(name: string, bin: string, args: readonly string[], logPath: string, reaper: Reaper): ServerProcess {
    // Appended, so that the log of a restarted API server follows the one of its predecessor.
    const fd = openSync(logPath, 'a');
    try {
      return new ServerProcess(name, spawn(bin, args, { stdio: ['ignore', fd, fd] }), logPath, reaper);
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number | undefined {
    return this.#running ? this.#child.pid : undefined;
  }

  /** Stops the process (SIGTERM, or SIGKILL when not graceful or after the grace period). */
  async stop(graceful: boolean): Promise<void> {
    if (!this.#running) return;
    this.#child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    // The timer also keeps the event loop alive while the unreferenced child winds down.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_GRACE_MS)));
    if ((await Promise.race([this.exited, late])) === 'late') this.#child.kill('SIGKILL');
    await this.exited;
    clearTimeout(timer);
  }

  /** The last lines of the log. */
  tail(lines = LOG_TAIL_LINES): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/**
 * A shell that kills the registered processes and removes the cluster's dir once its stdin closes.
 * The pipe closes however this process ends, SIGKILL included, which no exit or signal handler in
 * here could cover. It runs in a session of its own so that a terminal's Ctrl-C, which reaches the
 * servers directly, leaves it alive to remove the dir.
 */
class Reaper {
  #child: ChildProcess;
  #stdin: Socket;
  #exited: Promise<void>;

  constructor(dir: string, keep: boolean) {
    const script = `
      trap '' INT HUP TERM
      pids=
      while IFS= read -r line; do
        case $line in
          +*) pids="$pids \${line#+}" ;;
          -*) kept=; for p in $pids; do [ "$p" = "\${line#-}" ] || kept="$kept $p"; done; pids=$kept ;;
        esac
      done
      # /proc, not kill -0: a killed child of a dead parent may stay a zombie if pid 1 does not reap.
      running() {
        for p in $pids; do
          state=$(sed -n 's/.*) \\(.\\).*/\\1/p' "/proc/$p/stat" 2>/dev/null)
          [ -n "$state" ] && [ "$state" != Z ] && return 0
        done
        return 1
      }
      for p in $pids; do kill -KILL "$p" 2>/dev/null; done
      n=0
      while [ $n -lt 50 ] && running; do sleep 0.1; n=$((n + 1)); done
      [ "$2" = keep ] || rm -rf "$1"
    `;
    this.#child = spawn('sh', ['-c', script, 'signalbox-e2e-reaper', dir, keep ? 'keep' : 'remove'], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    this.#exited = new Promise((r) => this.#child.on('exit', () => r()));
    this.#stdin = this.#child.stdin as Socket;
    // A reaper that died leaves nothing to tell; writes to it must not crash the test.
    this.#stdin.on('error', () => {});
    this.#child.unref();
    this.#stdin.unref();
  }

  add(pid: number): void {
    this.#stdin.write(`+${pid}\n`);
  }

  remove(pid: number): void {
    if (!this.#stdin.destroyed) this.#stdin.write(`-${pid}\n`);
  }

  /** Closes the pipe (the reaper finds nothing left to stop) and waits for it to exit. */
  async close(): Promise<void> {
    this.#stdin.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#exited, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
    clearTimeout(timer);
  }
}

type Outcome = 'ready' | 'port taken' | { exited: string } | { timedOut: string };

/**
 * Polls `probe` (which answers null for ready, else what it saw) until it is ready, the server exits
 * or `timeoutMs` passes.
 */
async function waitReady(server: ServerProcess, timeoutMs: number, probe: () => Promise<string | null>): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  let exit: string | undefined;
  void server.exited.then((how) => (exit = how));
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (exit !== undefined) {
      // Ports come from binding port 0 and closing again, so another process may take one first.
      return /address already in use/.test(server.tail(10)) ? 'port taken' : { exited: exit };
    }
    const seen = await probe();
    if (seen === null) return 'ready';
    last = seen;
    await sleep(200);
  }
  await server.stop(false);
  return { timedOut: last };
}

function startError(server: ServerProcess, outcome: Exclude<Outcome, 'ready'>, what: string): ClusterStartError {
  const why = outcome === 'port taken' ? 'could not bind its ports'
    : 'exited' in outcome ? outcome.exited
    : `was not ready in time; last answer: ${outcome.timedOut}`;
  return new ClusterStartError(`${what} ${why}. Last lines of ${server.logPath}:\n${server.tail()}`);
}

function probeEtcd(url: string): Promise<string | null> {
  return new Promise((done) => {
    const req = httpGet(`${url}/health`, { agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done(res.statusCode === 200 && /"health":\s*"true"/.test(body) ? null : `${res.statusCode} ${body.trim()}`));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => done(error.message));
  });
}

interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

async function probeReadyz(port: number, tls: ClientTls): Promise<string | null> {
  try {
    // ?verbose lists each check, so a timeout can say which ones never passed.
    const res = await apiRequest(port, tls, 'GET', '/readyz?verbose', {});
    if (res.status === 200) return null;
    const failing = res.body.split('\n').filter((line) => line.startsWith('[-]'));
    return `${res.status}\n${failing.length > 0 ? failing.join('\n') : res.body.trim()}`;
  } catch (error) {
    return (error as Error).message;
  }
}

function apiRequest(port: number, tls: ClientTls, method: string, path: string, opts: { token?: string; body?: unknown; contentType?: string }): Promise<ApiResponse> {
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((done, fail) => {
    const req = httpsRequest({
      host: '127.0.0.1',
      port,
      method,
      path,
      headers,
      ca: tls.ca,
      // The x509 authenticator runs before the token one, so a token request must not present the admin certificate.
      ...(opts.token === undefined ? { cert: tls.cert, key: tls.key } : {}),
      agent: false,
      timeout: 30_000,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', fail);
    req.end(payload);
  });
}

function runKubectl(binDir: string, dir: string, kubeconfig: string, args: readonly string[], input: string | undefined, timeoutMs: number): Promise<KubectlResult> {
  return new Promise((done) => {
    const child = spawn(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
      // Discovery is cached per host:port; ports are random, so the default (~/.kube/cache) would
      // collect a directory per test run.
      env: { ...process.env, KUBECACHEDIR: join(dir, 'kube-cache') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      done({ status: null, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // kubectl may exit before reading all of its input
    child.stdin.end(input ?? '');
  });
}

/** kubectl's stdout; throws with its stderr unless it succeeded. */
async function mustKubectl(kubectl: TestCluster['kubectl'], args: readonly string[], input?: string): Promise<string> {
  const result = await kubectl(args, input === undefined ? {} : { input });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return result.stdout;
}

async function writeKubeconfig(path: string, server: string, caData: string, user: Record<string, string>): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': caData } }],
    users: [{ name: 'e2e', user }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'e2e' } }],
    'current-context': 'e2e',
  };
  await writeFile(path, YAML.stringify(config), { mode: 0o600 });
}

/** `count` distinct free ports on 127.0.0.1: all are held until every one is found. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new ClusterStartError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
