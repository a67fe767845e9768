/**
 * Builders and helpers for health-check tests: tables of clusters with a health-check policy, probe
 * target servers on 127.0.0.1:0 that count what reaches them, a recorder of `onChange` calls to
 * await, a log capture, and metric readers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { ActiveHealthChecker } from '../../src/health/active-health.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { DEFAULT_CLUSTER_POLICY, type HealthCheckPolicy } from '../../src/model/policy.ts';
import type { Cluster, Endpoint, RoutingTable } from '../../src/model/table.ts';
import { deadPort } from '../helpers/upstreams.ts';

/** A health check with test-sized defaults: 50 ms interval, 40 ms timeout, 2 up / 3 down, 200-399. */
export function healthCheck(overrides: Partial<HealthCheckPolicy> = {}): HealthCheckPolicy {
  return { path: '/healthz', intervalMs: 50, timeoutMs: 40, healthyThreshold: 2, unhealthyThreshold: 3, expectedStatuses: [[200, 399]], ...overrides };
}

/** A ready endpoint `address:port`; `overrides` for readiness flags. */
export function endpoint(address: string, port: number, overrides: Partial<Endpoint> = {}): Endpoint {
  return { address, port, weight: 1, ready: true, serving: true, terminating: false, provenance: `EndpointSlice/test/slice/endpoint/${port}`, ...overrides };
}

/**
 * A complete cluster `namespace/service:80` named `name` (which must have that shape), with these
 * endpoints and health check (null: not checked). Endpoints are given as ports on 127.0.0.1 or as
 * full endpoints.
 */
export function cluster(name: string, endpoints: readonly (number | Endpoint)[], check: HealthCheckPolicy | null): Cluster {
  const match = /^([^/]+)\/([^:]+):(\d+)$/.exec(name);
  if (match === null) throw new Error(`cluster name must look like ns/service:80, not ${name}`);
  return {
    name,
    namespace: match[1] ?? '',
    service: match[2] ?? '',
    servicePort: Number(match[3]),
    portName: '',
    endpoints: endpoints.map((e) => (typeof e === 'number' ? endpoint('127.0.0.1', e) : e)),
    policy: { ...DEFAULT_CLUSTER_POLICY, healthCheck: check },
    provenance: [`Ingress/test/${match[2]}/rule/0/path/0`],
  };
}

/** A table holding only these clusters (no virtual hosts: the checker reads clusters alone). */
export function table(...clusters: Cluster[]): RoutingTable {
  const sorted = [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { listeners: [], virtualHosts: [], defaultRoute: null, clusters: Object.fromEntries(sorted.map((c) => [c.name, c])), certificates: [], scripts: {}, streamRoutes: [] };
}

/** Rejects with a message naming `what` unless `promise` settles within `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A pause, only where a test asserts that something does *not* happen. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One request as a probe target saw it. */
export interface SeenRequest {
  readonly at: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** The client's port: distinct ports, distinct connections. */
  readonly remotePort: number | undefined;
  /** The status answered: set on arrival by the default handler, else when the exchange ends. */
  status: number | null;
  /** When the exchange ended, by a complete response or a closed connection (null until then). */
  closedAt: number | null;
}

/** A probe target on 127.0.0.1:0. */
export interface ProbeServer {
  readonly port: number;
  readonly server: Server;
  readonly seen: SeenRequest[];
  /** The status the default handler answers; change it to make the endpoint fail or pass. */
  status: number;
  /** Replaces the default handler (which answers `status` with a short body). */
  handler: ((req: IncomingMessage, res: ServerResponse) => void) | null;
  /** Requests being handled now, and the most there ever were at once. */
  readonly inFlight: { now: number; max: number };
  /** How many requests got (or are getting) status `status`. */
  answered(status: number): number;
  /** Resolves once `count` requests in all have arrived (bounded by `ms`). */
  requests(count: number, ms?: number): Promise<void>;
  /** Resolves once `count` requests in all have had their connection closed (bounded by `ms`). */
  closed(count: number, ms?: number): Promise<void>;
  /** Resolves once `done()` holds, checked at each arrival and close (bounded by `ms`). */
  until(what: string, done: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a probe target answering 200 until told otherwise; rejects if `host` cannot be bound. */
export async function startProbeServer(t: TestContext, host = '127.0.0.1'): Promise<ProbeServer> {
  const waiters = new Set<() => void>();
  const wakeAll = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const until = (ms: number, what: () => string, done: () => boolean): Promise<void> => {
    let check = (): void => {};
    return within(
      ms,
      what(),
      new Promise<void>((resolve) => {
        check = () => {
          if (!done()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    ).finally(() => waiters.delete(check));
  };
  const seen: SeenRequest[] = [];
  const inFlight = { now: 0, max: 0 };
  const target: ProbeServer = {
    port: 0,
    server: createServer((req, res) => {
      const entry: SeenRequest = { at: performance.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, remotePort: req.socket.remotePort, status: null, closedAt: null };
      seen.push(entry);
      inFlight.now++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      res.on('close', () => {
        inFlight.now--;
        entry.closedAt = performance.now();
        entry.status ??= res.headersSent ? res.statusCode : null;
        wakeAll();
      });
      wakeAll();
      if (target.handler) return target.handler(req, res);
      // Counted on arrival: a probe's result is known to the checker before the next probe starts.
      entry.status = target.status;
      res.writeHead(target.status, { 'content-type': 'text/plain' });
      res.end(`status ${target.status}\n`);
    }),
    seen,
    status: 200,
    handler: null,
    inFlight,
    answered: (status) => seen.filter((s) => s.status === status).length,
    requests: (count, ms = 2_000) => until(ms, () => `${count} requests on port ${target.port} (seen ${seen.length})`, () => seen.length >= count),
    until: (what, done, ms = 2_000) => until(ms, () => what, done),
    closed: (count, ms = 2_000) => until(ms, () => `${count} closed requests on port ${target.port}`, () => seen.filter((s) => s.closedAt !== null).length >= count),
    close: () =>
      new Promise<void>((resolve) => {
        target.server.closeAllConnections();
        target.server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve, reject) => {
    target.server.once('error', reject);
    target.server.listen(0, host, resolve);
  });
  (target as { port: number }).port = (target.server.address() as AddressInfo).port;
  t.after(() => target.close());
  return target;
}

/** A port on 127.0.0.1 where nothing listens (helpers/upstreams.ts's deadPort). */
export const closedPort = deadPort;

/** Every `onChange` call, to await one at a time. */
export interface ChangeRecorder {
  readonly onChange: (unhealthy: ReadonlySet<string>) => void;
  /** Every set received, oldest first. */
  readonly all: ReadonlySet<string>[];
  /** The next set not yet taken with `next` (waits for it, bounded by `ms`). */
  next(ms?: number): Promise<ReadonlySet<string>>;
}

/** Records `onChange` calls; `snapshot` runs inside each call, for state to compare at that instant. */
export function changeRecorder(snapshot?: () => void): ChangeRecorder {
  const all: ReadonlySet<string>[] = [];
  let taken = 0;
  let wake: (() => void) | null = null;
  return {
    all,
    onChange(unhealthy) {
      snapshot?.();
      all.push(new Set(unhealthy));
      wake?.();
    },
    next(ms = 2_000) {
      return within(
        ms,
        `onChange call #${taken + 1}`,
        new Promise<ReadonlySet<string>>((resolve) => {
          const check = (): void => {
            const set = all[taken];
            if (set === undefined) return;
            taken++;
            wake = null;
            resolve(set);
          };
          wake = check;
          check();
        }),
      );
    },
  };
}

/** A logger whose lines are kept as parsed objects. */
export function captureLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { log, lines };
}

/** A checker with its own registry, log capture and change recorder, stopped when the test ends. */
export function startChecker(
  t: TestContext,
  options: { random?: () => number; snapshot?: () => void } = {},
): { checker: ActiveHealthChecker; changes: ChangeRecorder; registry: Registry; lines: Record<string, unknown>[] } {
  const registry = new Registry();
  const changes = changeRecorder(options.snapshot);
  const { log, lines } = captureLog();
  const checker = new ActiveHealthChecker({ log, registry, onChange: changes.onChange, ...(options.random ? { random: options.random } : {}) });
  t.after(() => checker.stop());
  return { checker, changes, registry, lines };
}

/**
 * The value of metric `name` with exactly these labels, or undefined when there is no such series.
 * For a histogram, `series` picks the sample (`…_count`, `…_sum`).
 */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>, series?: string): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const want = Object.entries(labels);
  const found = values.find((v) => {
    const have = v.labels as Record<string, unknown>;
    if (series !== undefined && (v as { metricName?: string }).metricName !== series) return false;
    return Object.keys(have).length === want.length && want.every(([k, val]) => have[k] === val);
  });
  return found?.value;
}

/** Every label set of metric `name`. */
export async function metricLabels(registry: Registry, name: string): Promise<Record<string, unknown>[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.map((v) => v.labels as Record<string, unknown>);
}
