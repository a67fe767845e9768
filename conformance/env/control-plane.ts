/**
 * The cluster of the conformance environment, started from inside the run's network namespace:
 * etcd and kube-apiserver as e2e/harness/cluster.ts starts them (the same flags, a certificate set
 * like e2e/harness/pki.ts makes, but on the bridge address so the pods' network reaches it), then
 * kube-controller-manager, kube-scheduler and kwok, the fake Node, and the pod runner.
 */
import { generateKeyPairSync } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { createCertificateAuthority, issueCertificate } from '../../e2e/harness/pki.ts';
import { API_PORT, BRIDGE_IP, KUBELET_PORT, ETCD_CLIENT_URL, ETCD_PEER_URL, NODE_NAME, POD_CIDR, REPO_ROOT, SERVICE_CIDR, statePaths } from './layout.ts';
import { startDaemon, type Daemon } from './processes.ts';

/** Where the binaries are: scripts/k8s-binaries.sh's directory and scripts/conformance-binaries.sh's. */
export interface BinDirs {
  readonly k8s: string;
  readonly conformance: string;
}

/** The admin's client TLS material, for the readiness probes. */
interface AdminTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Longest each server may take to become ready. */
const READY_TIMEOUT_MS = 120_000;

/** The controllers the suite's objects need: Deployments → Pods, Services → EndpointSlices, clean-up. */
const CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'endpointslice-controller',
  'endpoints-controller',
  'endpointslice-mirroring-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'serviceaccount-controller',
  'pod-garbage-collector-controller',
];

/** Writes the certificates and the admin kubeconfig; returns the admin's TLS material. */
async function writePki(paths: ReturnType<typeof statePaths>): Promise<AdminTls> {
  const ca = createCertificateAuthority('signalbox-conformance-ca', 7);
  const serving = issueCertificate(ca, {
    commonName: 'kube-apiserver',
    usage: 'server',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    // The first address of the service range is the `kubernetes` Service's ClusterIP.
    ipAddresses: [BRIDGE_IP, '127.0.0.1', '10.96.0.1'],
  }, 7);
  const admin = issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' }, 7);
  // The fake Node's kubelet endpoint (the pod runner's, for pods/log) on the Node's InternalIP, and
  // the API server's client certificate for it: the API server checks the one, the runner the other.
  const kubelet = issueCertificate(ca, { commonName: NODE_NAME, dnsNames: [NODE_NAME], ipAddresses: [BRIDGE_IP], usage: 'server' }, 7);
  const kubeletClient = issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', usage: 'client' }, 7);
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const secret = { mode: 0o600 };
  const file = (name: string) => join(paths.pki, name);
  await mkdir(paths.pki, { recursive: true, mode: 0o700 });
  await Promise.all([
    writeFile(file('ca.crt'), ca.certPem),
    writeFile(file('serving.crt'), serving.certPem),
    writeFile(file('serving.key'), serving.keyPem, secret),
    writeFile(file('kubelet.crt'), kubelet.certPem),
    writeFile(file('kubelet.key'), kubelet.keyPem, secret),
    writeFile(file('kubelet-client.crt'), kubeletClient.certPem),
    writeFile(file('kubelet-client.key'), kubeletClient.keyPem, secret),
    writeFile(file('service-account.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    writeFile(file('service-account.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), secret),
  ]);
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'conformance', cluster: { server: `https://${BRIDGE_IP}:${API_PORT}`, 'certificate-authority-data': b64(ca.certPem) } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': b64(admin.certPem), 'client-key-data': b64(admin.keyPem) } }],
    contexts: [{ name: 'conformance', context: { cluster: 'conformance', user: 'admin' } }],
    'current-context': 'conformance',
  };
  await writeFile(paths.kubeconfig, YAML.stringify(kubeconfig), secret);
  return { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem };
}

/**
 * kwok's stages: its node/fast, node/heartbeat and pod/fast, except that our pod-ready stage
 * replaces kwok's: a Pod becomes Running with its IP but not Ready, and the pod runner marks it Ready
 * once its server accepts connections (kwok's would say Ready before anything listens).
 */
async function writeStages(binDirs: BinDirs, path: string): Promise<void> {
  const stagesDir = join(binDirs.conformance, '../stages');
  const ours = YAML.parse(await readFile(join(REPO_ROOT, 'conformance/env/kwok-pod-ready.yaml'), 'utf8')) as { metadata: { name: string } };
  const docs: string[] = [];
  for (const file of ['node-fast.yaml', 'node-heartbeat.yaml', 'pod-fast.yaml']) {
    for (const doc of YAML.parseAllDocuments(await readFile(join(stagesDir, file), 'utf8'))) {
      const value = doc.toJS() as { metadata?: { name?: string } } | null;
      if (value === null) continue;
      if (value.metadata?.name === ours.metadata.name) continue;
      docs.push(doc.toString());
    }
  }
  docs.push(YAML.stringify(ours));
  await writeFile(path, docs.join('---\n'));
}

/** A started control plane: the daemons, in start order. */
export interface ControlPlane {
  readonly daemons: readonly Daemon[];
}

/**
 * Starts everything, in order, each waited for before the next: etcd, kube-apiserver, the fake Node,
 * kube-controller-manager, kube-scheduler, kwok, the pod runner. Must run inside the run's network
 * namespace. Throws when a server does not come up; `down` cleans up whatever was started.
 */
export async function startControlPlane(binDirs: BinDirs, say: (line: string) => void): Promise<ControlPlane> {
  const paths = statePaths();
  await Promise.all([paths.logs, paths.pids, paths.pods].map((dir) => mkdir(dir, { recursive: true })));
  await mkdir(paths.etcdData, { recursive: true, mode: 0o700 });
  const tls = await writePki(paths);
  await writeStages(binDirs, paths.stages);
  const pki = (name: string) => join(paths.pki, name);
  const daemons: Daemon[] = [];
  const start = async (order: number, name: string, bin: string, args: string[]) => {
    const daemon = await startDaemon(`${order}-${name}`, bin, args, { pidDir: paths.pids, logFile: join(paths.logs, `${name}.log`) });
    daemons.push(daemon);
    return daemon;
  };
  const ready = (daemon: Daemon, what: string, probe: () => Promise<string | null>) => waitReady(daemon, what, join(paths.logs, `${daemon.name.replace(/^\d+-/, '')}.log`), probe);

  let t = Date.now();
  const etcd = await start(10, 'etcd', join(binDirs.k8s, 'etcd'), [
    `--data-dir=${paths.etcdData}`,
    `--listen-client-urls=${ETCD_CLIENT_URL}`,
    `--advertise-client-urls=${ETCD_CLIENT_URL}`,
    `--listen-peer-urls=${ETCD_PEER_URL}`,
    `--initial-advertise-peer-urls=${ETCD_PEER_URL}`,
    `--initial-cluster=default=${ETCD_PEER_URL}`,
    // The run's data is thrown away by `down`; fsync would only make every write wait for the disk.
    '--unsafe-no-fsync',
  ]);
  await ready(etcd, 'etcd', () => probeHttp(`${ETCD_CLIENT_URL}/health`, /"health":\s*"true"/));
  say(`etcd ready (${Date.now() - t} ms)`);

  t = Date.now();
  const apiServer = await start(20, 'kube-apiserver', join(binDirs.k8s, 'kube-apiserver'), [
    `--etcd-servers=${ETCD_CLIENT_URL}`,
    // Every address of the run's namespace: the bridge address for the pods and signalbox, loopback for the controllers.
    '--bind-address=0.0.0.0',
    `--advertise-address=${BRIDGE_IP}`,
    `--secure-port=${API_PORT}`,
    '--endpoint-reconciler-type=none',
    `--tls-cert-file=${pki('serving.crt')}`,
    `--tls-private-key-file=${pki('serving.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    // pods/log goes to the Node's kubelet endpoint, which the pod runner serves: by the InternalIP
    // (the default tries the Hostname first, and nothing resolves `kwok-node-0`), verified against
    // the run's CA, with a client certificate the runner checks.
    '--kubelet-preferred-address-types=InternalIP',
    `--kubelet-certificate-authority=${pki('ca.crt')}`,
    `--kubelet-client-certificate=${pki('kubelet-client.crt')}`,
    `--kubelet-client-key=${pki('kubelet-client.key')}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${pki('service-account.pub')}`,
    `--service-account-signing-key-file=${pki('service-account.key')}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    `--cert-dir=${join(paths.state, 'apiserver-certs')}`,
    // ServiceAccount would add a projected token volume to every Pod, which nothing here mounts, and
    // refuses Pods in a namespace until the controller-manager has made its `default` account.
    // TaintNodesByCondition taints the new Node not-ready:NoSchedule, which nothing would lift
    // (no node-lifecycle controller), so no Pod would ever be scheduled.
    '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
  ]);
  await ready(apiServer, 'kube-apiserver', () => probeApi(tls, '/readyz'));
  say(`kube-apiserver ready on https://${BRIDGE_IP}:${API_PORT} (${Date.now() - t} ms)`);

  t = Date.now();
  await apiCall(tls, 'POST', '/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE_NAME,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    spec: { podCIDR: POD_CIDR, podCIDRs: [POD_CIDR] },
  });
  const kubeconfig = `--kubeconfig=${paths.kubeconfig}`;
  const delegated = [`--authentication-kubeconfig=${paths.kubeconfig}`, `--authorization-kubeconfig=${paths.kubeconfig}`];
  const kwok = await start(30, 'kwok', join(binDirs.conformance, 'kwok'), [
    kubeconfig,
    `--config=${paths.stages}`,
    '--manage-all-nodes=true',
    `--node-ip=${BRIDGE_IP}`,
    // Published as the Node's daemonEndpoints.kubeletEndpoint.Port by the node-initialize stage.
    `--node-port=${KUBELET_PORT}`,
    // Without an address of its own, kwok would serve its kubelet API on 0.0.0.0:<node-port> (its
    // logs come from Logs objects, not from our servers): the port is the pod runner's.
    '--server-address=127.0.0.1:10247',
  ]);
  await ready(kwok, 'kwok (the Node Ready)', () => probeApiJson(tls, `/api/v1/nodes/${NODE_NAME}`, (node) =>
    (node as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true));
  say(`kwok manages Node ${NODE_NAME} (podCIDR ${POD_CIDR}) (${Date.now() - t} ms)`);

  t = Date.now();
  const controllerManager = await start(40, 'kube-controller-manager', join(binDirs.conformance, 'kube-controller-manager'), [
    kubeconfig,
    ...delegated,
    `--controllers=${CONTROLLERS.join(',')}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    `--root-ca-file=${pki('ca.crt')}`,
  ]);
  // The serviceaccount controller makes `default` in every namespace: the controllers are syncing.
  await ready(controllerManager, 'kube-controller-manager', () => probeApiJson(tls, '/api/v1/namespaces/default/serviceaccounts/default', () => true));
  say(`kube-controller-manager ready (${Date.now() - t} ms)`);

  t = Date.now();
  const scheduler = await start(50, 'kube-scheduler', join(binDirs.conformance, 'kube-scheduler'), [
    kubeconfig,
    ...delegated,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
  ]);
  await ready(scheduler, 'kube-scheduler', () => probeHttps('https://127.0.0.1:10259/readyz'));
  say(`kube-scheduler ready (${Date.now() - t} ms)`);

  t = Date.now();
  const runner = await start(60, 'pod-runner', process.execPath, [
    '--no-node-snapshot',
    join(REPO_ROOT, 'conformance/env/main.ts'),
    'pod-runner',
    '--echo-basic', join(binDirs.conformance, 'echo-basic'),
  ]);
  await ready(runner, 'the pod runner', () => probeFile(join(paths.state, 'pod-runner.ready')));
  say(`pod runner watching the Pods of ${NODE_NAME} (${Date.now() - t} ms)`);
  return { daemons };
}

/** Polls `probe` (null: ready, else what it saw) until it is ready, the daemon exits or the timeout. */
async function waitReady(daemon: Daemon, what: string, logFile: string, probe: () => Promise<string | null>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exit: string | undefined;
  void daemon.exited.then((how) => (exit = how));
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`${what} ${exit}. Last lines of ${logFile}:\n${await tail(logFile)}`);
    const seen = await probe();
    if (seen === null) return;
    last = seen;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} was not ready after ${READY_TIMEOUT_MS / 1000} s; last answer: ${last}. Last lines of ${logFile}:\n${await tail(logFile)}`);
}

async function tail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function probeHttp(url: string, expect: RegExp): Promise<string | null> {
  return new Promise((done) => {
    const req = httpGet(url, { agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done(res.statusCode === 200 && expect.test(body) ? null : `${res.statusCode} ${body.trim()}`));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => done(error.message));
  });
}

/** An HTTPS health endpoint with a self-signed certificate (the scheduler's own). */
function probeHttps(url: string): Promise<string | null> {
  return new Promise((done) => {
    const req = httpsRequest(url, { agent: false, timeout: 2_000, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200 ? null : `${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => done(error.message));
    req.end();
  });
}

async function probeFile(path: string): Promise<string | null> {
  return (await readFile(path).then(() => true, () => false)) ? null : `no ${path} yet`;
}

async function probeApi(tls: AdminTls, path: string): Promise<string | null> {
  try {
    const res = await apiCall(tls, 'GET', path, undefined, false);
    return res.status === 200 ? null : `${res.status} ${res.body.trim().slice(0, 200)}`;
  } catch (error) {
    return (error as Error).message;
  }
}

async function probeApiJson(tls: AdminTls, path: string, accept: (object: unknown) => boolean): Promise<string | null> {
  try {
    const res = await apiCall(tls, 'GET', path, undefined, false);
    if (res.status !== 200) return `${res.status}`;
    return accept(JSON.parse(res.body)) ? null : 'not yet';
  } catch (error) {
    return (error as Error).message;
  }
}

/** One request to the API server as the admin; throws for a failing status unless `check` is false. */
function apiCall(tls: AdminTls, method: string, path: string, body?: unknown, check = true): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = httpsRequest({
      host: '127.0.0.1',
      port: API_PORT,
      method,
      path,
      headers: { accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      servername: 'localhost',
      agent: false,
      timeout: 10_000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (check && (status < 200 || status > 299)) fail(new Error(`${method} ${path}: ${status} ${text.trim().slice(0, 300)}`));
        else done({ status, body: text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', fail);
    req.end(payload);
  });
}
