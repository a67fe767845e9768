/**
 * `make demo-pausing` (`node examples/request-pausing/demo.ts [--interactive]`): starts the demo
 * servers (backends.ts, 127.0.0.1:19201-19205) and `signalbox serve` on a copy of the manifests,
 * then, with a small steady load of its own, walks through the three ways of pausing — (a) a
 * deploy that leaves orders without an endpoint for 3 s and brings it back on a new port, (b) the
 * operator's maintenance pause on /admin, (c) a tenant moving to another shard — printing what the
 * clients got each second and how many requests signalbox held, then a summary. It stops by itself
 * after about 25 s and exits 1 if any request failed.
 *
 * `--interactive` starts everything and prints what to try instead; Ctrl-C stops it.
 * `--http-port` and `--admin-port` (8080, 9901) move signalbox's own ports.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { spawnSignalbox, startedOrExit } from '../demo-process.ts';
import { copyManifests, EDITED_FILES, ORDERS_NEW_PORT, setMaintenance, setOrdersEndpoint, setTenantMove, startPausingBackends, type DemoAnswer } from './backends.ts';

const HOST = 'orders.example.com';
const WORKERS = 2;
/** Past this the walkthrough is stuck, not slow: it gives up rather than run forever. */
const HARD_LIMIT_MS = 90_000;

const { values } = parseArgs({ options: { interactive: { type: 'boolean', default: false }, 'http-port': { type: 'string', default: '8080' }, 'admin-port': { type: 'string', default: '9901' } } });
const httpPort = Number(values['http-port']);
const adminPort = Number(values['admin-port']);
const proxyUrl = `http://127.0.0.1:${httpPort}`;
const adminUrl = `http://127.0.0.1:${adminPort}`;

// A copy, so that the walkthrough's edits (and yours) never touch the example's own files.
const base = await mkdtemp(join(tmpdir(), 'signalbox-pausing-'));
const dir = join(base, 'manifests');
await mkdir(dir);
await copyManifests(dir);
const backends = await startedOrExit(startPausingBackends().catch(async (err: unknown) => {
  await rm(base, { recursive: true, force: true });
  throw err;
}));
const accessLog = values.interactive ? 'stdout' : join(base, 'access.log');
const proxy = spawnSignalbox([
  'serve', '--manifests', dir,
  '--bind', '127.0.0.1', '--http-port', String(httpPort), '--https-port', 'off',
  '--admin-bind', '127.0.0.1', '--admin-port', String(adminPort), '--workers', String(WORKERS),
  '--access-log', accessLog, ...(values.interactive ? [] : ['--log-level', 'warn']),
]);
const exited = new Promise<number>((resolve) => proxy.once('exit', (code) => resolve(code ?? 0)));

const cleanUp = async (): Promise<void> => {
  if (proxy.exitCode === null) proxy.kill('SIGTERM');
  await exited;
  await backends.close();
  await rm(base, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

if (!(await serving(proxy))) {
  await cleanUp();
  process.stderr.write('demo: signalbox did not start (is port 8080 or 9901 taken? see --http-port, --admin-port)\n');
  process.exit(1);
}
if (values.interactive) {
  printTryThis();
} else {
  const guard = setTimeout(() => {
    process.stderr.write('demo: the walkthrough took too long; stopping\n');
    void cleanUp().then(() => process.exit(1));
  }, HARD_LIMIT_MS);
  const failed = await walkThrough().catch((err: Error) => {
    process.stderr.write(`demo: the walkthrough failed: ${err.message}\n`);
    return -1;
  });
  clearTimeout(guard);
  await cleanUp();
  process.exit(failed === 0 ? 0 : 1);
}

/** Resolves true once signalbox says it serves and is ready, false if it exits first. */
async function serving(child: ChildProcess): Promise<boolean> {
  const said = await new Promise<boolean>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      if (chunk.toString().includes('signalbox: serving')) resolve(true);
    });
    child.once('exit', () => resolve(false));
  });
  if (!said) return false;
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${adminUrl}/readyz`).catch(() => null))?.ok === true) return true;
    await sleep(50);
  }
  return false;
}

function printTryThis(): void {
  const curl = `curl -s -H 'Host: ${HOST}'`;
  process.stdout.write(`
The manifests are served from a copy: ${dir}
Try:
  ${curl} ${proxyUrl}/orders/42              # → orders-1
  ${curl} ${proxyUrl}/tenants/acme/cart      # → tenants-a (shard-a)
  ${curl} ${proxyUrl}/tenants/globex/cart    # → tenants-b (shard-b)
  ${curl} ${proxyUrl}/admin/reports          # → admin
  curl -s ${adminUrl}/metrics | grep '^signalbox_pause_'

Automatic: in ${join(dir, EDITED_FILES.orders)} replace the endpoints list by
  \`endpoints: []\` and save. An orders request now waits (up to 30 s, pause-max-wait); put the
  endpoint back and it is answered — its access log line has "paused_ms".
Operator: set \`pause: {enabled: true, …}\` in ${join(dir, EDITED_FILES.maintenance)}:
  /admin requests wait until you set it back to false (at most maxWaitSeconds, 60).
Script: put acme in \`moving: [acme]\` in ${join(dir, EDITED_FILES.tenants)}: acme's requests wait,
  globex's do not. Then set \`acme: shard-b\` and \`moving: []\`: they go on, to tenants-b.
Ctrl-C stops.
`);
}

/** One kind of client of the walkthrough and what it got. */
interface Client {
  readonly name: string;
  readonly path: string;
  readonly loops: number;
  ok: number;
  failed: number;
  /** Answers this second, for the running table. */
  okNow: number;
  failedNow: number;
  longestMs: number;
  /** Answers by the backend (or error) that gave them. */
  readonly by: Map<string, number>;
}

/** Runs the scripted walkthrough under load; resolves to the number of failed requests. */
async function walkThrough(): Promise<number> {
  const clients: Client[] = [
    { name: 'orders', path: '/orders/42', loops: 6 },
    { name: 'admin', path: '/admin/reports', loops: 2 },
    { name: 'acme', path: '/tenants/acme/cart', loops: 2 },
    { name: 'globex', path: '/tenants/globex/cart', loops: 2 },
  ].map((c) => ({ ...c, ok: 0, failed: 0, okNow: 0, failedNow: 0, longestMs: 0, by: new Map() }));
  const started = performance.now();
  const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1).padStart(4)} s`;
  let stopping = false;
  /** When acme's move began; an answer from its old shard to a request sent later is a wrong one. */
  let acmeMoveAt = Infinity;
  let acmeLate = 0;

  const loop = async (client: Client, agent: Agent): Promise<void> => {
    while (!stopping) {
      const sent = performance.now();
      const seen = await request(`${proxyUrl}${client.path}`, { headers: { host: HOST }, dispatcher: agent }).then(
        async (res) => (res.statusCode === 200 ? ((await res.body.json()) as DemoAnswer).backend : `${res.statusCode} ${res.headers['x-signalbox-error'] ?? ''}`.trim()),
        (err: Error) => `error ${err.message}`,
      ).catch((err: Error) => `error ${err.message}`);
      const good = !/^(\d|error)/.test(seen);
      if (good) (client.ok++, client.okNow++);
      else (client.failed++, client.failedNow++);
      client.by.set(seen, (client.by.get(seen) ?? 0) + 1);
      client.longestMs = Math.max(client.longestMs, performance.now() - sent);
      if (client.name === 'acme' && sent > acmeMoveAt && seen === 'tenants-a') acmeLate++;
      // Think time: the load stays small (about 10 requests per second per loop) and bounded.
      await sleep(100);
    }
  };
  const agents = clients.map((c) => new Agent({ connections: c.loops }));
  const loops = clients.flatMap((c, i) => Array.from({ length: c.loops }, () => loop(c, agents[i]!)));

  const maxHeld = new Map<string, number>();
  let heldNow = new Map<string, number>();
  const sampler = setInterval(() => {
    void scrape().then((text) => {
      heldNow = sumByKind(text, 'signalbox_pause_held_requests');
      for (const [kind, n] of heldNow) maxHeld.set(kind, Math.max(maxHeld.get(kind) ?? 0, n));
    }, () => {});
  }, 200);
  const KINDS = ['no-endpoint', 'operator', 'script'];
  process.stdout.write(`\n${'time'.padStart(6)}  ${clients.map((c) => `${c.name} ok/5xx`.padEnd(16)).join('')}held: ${KINDS.join(' ')}\n`);
  const printer = setInterval(() => {
    const counts = clients.map((c) => `${c.okNow}/${c.failedNow}`.padEnd(16)).join('');
    for (const c of clients) c.okNow = c.failedNow = 0;
    const held = KINDS.map((k) => String(heldNow.get(k) ?? 0).padStart(k.length)).join(' ');
    process.stdout.write(`${elapsed()}  ${counts}      ${held}\n`);
  }, 1000);

  /** Makes a change and waits until every worker serves it. */
  const step = async (what: string, change: () => Promise<void>): Promise<void> => {
    const before = await tableVersion();
    const t0 = performance.now();
    await change();
    while ((await tableVersion()) <= before) await sleep(25);
    process.stdout.write(`${elapsed()}  -> ${what} (live after ${(performance.now() - t0).toFixed(0)} ms)\n`);
  };
  const at = (seconds: number): Promise<unknown> => sleep(Math.max(0, started + seconds * 1000 - performance.now()));

  await at(2);
  await step('(a) deploy: orders-1 stops, the orders EndpointSlice lists no endpoint', () => setOrdersEndpoint(dir, null));
  await backends.stopOrders();
  await at(5);
  const port = await backends.startOrders(ORDERS_NEW_PORT);
  await step(`(a) orders-2 is ready on port ${port}, the EndpointSlice lists it`, () => setOrdersEndpoint(dir, port));
  await at(9);
  await step('(b) operator: maintenance pause on (spec.pause.enabled: true)', () => setMaintenance(dir, true));
  await at(12);
  await step('(b) operator: maintenance pause off', () => setMaintenance(dir, false));
  await at(15);
  await step('(c) acme starts moving to shard-b (data.moving: [acme])', () => setTenantMove(dir, 'acme', null));
  acmeMoveAt = performance.now();
  await at(18);
  await step('(c) acme moved (data.shards.acme: shard-b, data.moving: [])', () => setTenantMove(dir, 'acme', 'shard-b'));
  await at(21);
  stopping = true;
  await Promise.all(loops);
  clearInterval(printer);
  clearInterval(sampler);
  await Promise.all(agents.map((a) => a.close()));
  const seconds = (performance.now() - started) / 1000;

  const metrics = await scrape();
  proxy.kill('SIGTERM');
  await exited;
  const total = clients.reduce((n, c) => n + c.ok + c.failed, 0);
  const failed = clients.reduce((n, c) => n + c.failed, 0);
  const by = (c: Client): string => [...c.by].map(([k, n]) => `${k} ${n}`).join(', ');
  const perKind = (name: string): string => KINDS.map((k) => `${k} ${sumByKind(metrics, name).get(k) ?? 0}`).join(', ');
  const lines = [
    '',
    `Summary: ${total} requests in ${seconds.toFixed(1)} s, ${failed} failed`,
    ...clients.map((c) => `  ${c.name.padEnd(7)} ${String(c.ok).padStart(4)} ok, ${c.failed} failed, longest ${(c.longestMs / 1000).toFixed(2)} s  (${by(c)})`),
    `  acme requests sent after its move began that reached its old shard: ${acmeLate}`,
    `  most requests held at once (all workers): ${KINDS.map((k) => `${k} ${maxHeld.get(k) ?? 0}`).join(', ')}`,
    `  signalbox_pause_released_total: ${perKind('signalbox_pause_released_total')}`,
    `  expired ${sumAll(metrics, 'signalbox_pause_expired_total')}, rejected ${sumAll(metrics, 'signalbox_pause_rejected_total')}, abandoned ${sumAll(metrics, 'signalbox_pause_abandoned_total')}`,
    ...(await pausedLines()),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  return failed;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`);
  return res.text();
}

async function tableVersion(): Promise<number> {
  return Number(/^signalbox_worker_table_version_min (\d+)/m.exec(await scrape())?.[1] ?? 0);
}

/** The sum of a metric's series by their `kind` label. */
function sumByKind(text: string, name: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{kind="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))) sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]));
  return sums;
}

function sumAll(text: string, name: string): number {
  return [...sumByKind(text, name).values()].reduce((a, b) => a + b, 0);
}

/** What the access log says about held requests: how many, and the longest-held one's line. */
async function pausedLines(): Promise<string[]> {
  const text = await readFile(accessLog, 'utf8').catch(() => '');
  const held = text.split('\n').filter((l) => l.includes('"paused_ms"')).map((l) => ({ line: l, ms: (JSON.parse(l) as { paused_ms: number }).paused_ms }));
  if (held.length === 0) return ['  access log: no line with paused_ms'];
  const longest = held.reduce((a, b) => (b.ms > a.ms ? b : a));
  return [`  access log: ${held.length} lines with paused_ms; the longest-held request:`, `  ${longest.line}`];
}
