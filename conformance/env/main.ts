/**
 * The conformance environment's command line (conformance/README.md):
 *
 *   node conformance/env/main.ts up          build what is missing, clean a stale run, start everything
 *   node conformance/env/main.ts down        stop everything, delete the namespaces and the state
 *   node conformance/env/main.ts status      what runs
 *
 * and, used by `up` itself: `control-plane` (starts the servers from inside the run's namespace) and
 * `pod-runner` (the daemon that runs the Pods). Must run as root: it creates network namespaces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startControlPlane, type BinDirs } from './control-plane.ts';
import { BRIDGE_IP, REPO_ROOT, RUN_NETNS, statePaths } from './layout.ts';
import { createRunNetns, deleteNetns, netnsPath, netnsPids, ourNetns, releaseNetnsDir } from './netns.ts';
import { runPodRunner } from './pod-runner.ts';
import { alive, pidFiles, terminate } from './processes.ts';

const say = (line: string) => process.stderr.write(`signalbox conformance: ${line}\n`);

/** Prints the bin directory a build script prints last; its progress goes to our stderr. */
function binDirOf(script: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn('bash', [join(REPO_ROOT, 'scripts', script)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', fail);
    child.on('close', (code) => {
      const dir = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && dir !== '') done(dir);
      else fail(new Error(`scripts/${script} failed (exit ${code}); see its messages above`));
    });
  });
}

/**
 * Stops whatever a run left: the pod runner first (it stops its pods in order), then the servers in
 * reverse start order, then anything still inside one of our namespaces; deletes the namespaces and
 * the state directory. Safe on a machine where nothing runs.
 */
async function down(quiet = false): Promise<void> {
  const paths = statePaths();
  // A pid file outlives a reboot, and its pid may then be anybody's: only a process that is inside
  // the run's namespace is ours to stop.
  const daemons = await ours(await pidFiles(paths.pids));
  const runner = daemons.filter((d) => d.name.endsWith('pod-runner'));
  // The pod runner stops up to every pod at once, each with a grace of 5 s.
  if (runner.length > 0) await terminate(runner.map((d) => d.pid), 15_000);
  const servers = daemons.filter((d) => !d.name.endsWith('pod-runner'));
  for (const daemon of servers) {
    if (await alive(daemon.pid)) {
      if (!quiet) say(`stopping ${daemon.name.replace(/^\d+-/, '')} (pid ${daemon.pid})`);
      await terminate([daemon.pid], 10_000);
    }
  }
  // Whatever is left in our namespaces (an echo server whose runner was killed, a `signalbox
  // controller` started through exec) cannot outlive them unnoticed.
  for (const name of await ourNetns()) {
    const pids = await netnsPids(name);
    if (pids.length > 0) {
      if (!quiet) {
        const names = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/comm`, 'utf8').then((c) => `${c.trim()} (${pid})`, () => String(pid))));
        say(`stopping what is left in ${name}: ${names.join(', ')}`);
      }
      await terminate(pids, 5_000);
    }
    await deleteNetns(name);
  }
  await releaseNetnsDir();
  await rm(paths.state, { recursive: true, force: true });
  if (!quiet) say('down: no process, namespace or state of the run is left');
}

/** The daemons whose process is inside the run's network namespace (none when it is gone). */
async function ours(daemons: { name: string; pid: number }[]): Promise<{ name: string; pid: number }[]> {
  const inode = await stat(netnsPath(RUN_NETNS)).then((s) => s.ino, () => null);
  if (inode === null) return [];
  const inRun = async (pid: number) => (await readlink(`/proc/${pid}/ns/net`).catch(() => '')) === `net:[${inode}]`;
  return (await Promise.all(daemons.map(async (d) => ((await inRun(d.pid)) ? d : null)))).filter((d): d is { name: string; pid: number } => d !== null);
}

async function up(): Promise<void> {
  const started = Date.now();
  const paths = statePaths();
  // A Ctrl-C (or a TERM) while coming up tears everything down instead of leaving half a cluster.
  let interrupted = false;
  let starter: ChildProcess | null = null;
  let starterGone: Promise<unknown> = Promise.resolve();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: tearing down`);
    // The starter must be gone before `down` reads the pid files, or it could start one more server
    // behind its back. A terminal's Ctrl-C has reached it already; a TERM sent to us alone has not.
    starter?.kill('SIGKILL');
    void starterGone.then(() => down()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const stale = (await ourNetns()).length > 0 || (await readFile(paths.env).then(() => true, () => false));
  if (stale) say('found a stale run; cleaning it up first');
  await down(!stale);
  const binDirs: BinDirs = { k8s: await binDirOf('k8s-binaries.sh'), conformance: await binDirOf('conformance-binaries.sh') };
  if (interrupted) return;
  const built = Date.now();
  await mkdir(paths.state, { recursive: true });
  await createRunNetns();
  say(`network namespace ${RUN_NETNS} with the bridge at ${BRIDGE_IP}`);
  const status = await new Promise<number | null>((done) => {
    // nsenter, not `ip netns exec`: that one also gives the command a mount namespace of its own, in
    // which the pods' namespaces the runner makes would be mounted out of `down`'s sight.
    const child = spawn('nsenter', [`--net=${netnsPath(RUN_NETNS)}`, '--', process.execPath, '--no-node-snapshot', join(import.meta.dirname, 'main.ts'), 'control-plane', binDirs.k8s, binDirs.conformance], { stdio: 'inherit' });
    starter = child;
    starterGone = new Promise((gone) => child.on('close', gone));
    child.on('close', (code) => {
      starter = null;
      done(code);
    });
  });
  if (interrupted) return;
  if (status !== 0) {
    say('the environment did not come up; tearing down (logs were in the state directory, printed above where it mattered)');
    await down(true);
    process.exit(1);
  }
  const env = [
    `export KUBECONFIG=${paths.kubeconfig}`,
    `export SIGNALBOX_CONFORMANCE_BIN=${binDirs.conformance}`,
    `export PATH=${binDirs.conformance}:${binDirs.k8s}:$PATH`,
    '',
  ].join('\n');
  await writeFile(paths.env, env);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  say(`up in ${((Date.now() - built) / 1000).toFixed(1)} s (${((Date.now() - started) / 1000).toFixed(1)} s with the binary checks)`);
  say(`kubeconfig: ${paths.kubeconfig}; logs: ${paths.logs}`);
  say('run a command inside it:  conformance/env/exec kubectl get nodes   (or: make conformance-down to stop it)');
}

async function status(): Promise<void> {
  const paths = statePaths();
  for (const daemon of [...(await pidFiles(paths.pids))].reverse()) {
    process.stdout.write(`${daemon.name.replace(/^\d+-/, '').padEnd(24)} pid ${daemon.pid} ${(await alive(daemon.pid)) ? 'running' : 'gone'}\n`);
  }
  for (const name of await ourNetns()) process.stdout.write(`netns ${name}: ${(await netnsPids(name)).length} process(es)\n`);
}

const [command, ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case 'up':
      await up();
      break;
    case 'down':
      await down();
      break;
    case 'status':
      await status();
      break;
    case 'control-plane': {
      const [k8s, conformance] = rest;
      if (k8s === undefined || conformance === undefined) throw new Error('control-plane needs the two bin directories');
      await startControlPlane({ k8s, conformance }, say);
      break;
    }
    case 'pod-runner': {
      const at = rest.indexOf('--echo-basic');
      const echoBasic = at === -1 ? undefined : rest[at + 1];
      if (echoBasic === undefined) throw new Error('pod-runner needs --echo-basic PATH');
      await runPodRunner({ echoBasic });
      break;
    }
    default:
      process.stderr.write('usage: node conformance/env/main.ts up|down|status\n');
      process.exit(2);
  }
} catch (error) {
  say((error as Error).message);
  process.exit(1);
}
