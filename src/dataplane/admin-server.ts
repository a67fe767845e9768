import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AggregatorRegistry } from 'prom-client';
import type { Registry } from 'prom-client';
import type { PublishedTable } from '../model/table.ts';
import { routesByScript } from '../router/routes-by-script.ts';
import type { ScriptStatus } from '../script/index.ts';
import { ListenError } from '../errors.ts';

/** What the admin server reads from the running process. */
export interface AdminSources {
  /** The control plane's own registry. */
  readonly registry: Registry;
  /** Metrics JSON of every data-plane worker. */
  collectWorkerMetrics(): Promise<unknown[]>;
  /** The table published now, or null before the first. */
  currentTable(): PublishedTable | null;
  /** Ready: the first table is live in every worker and the process is not draining. */
  isReady(): boolean;
  /** RouteScript health reported by the workers: by script id, by worker index. */
  scriptStatuses(): ReadonlyMap<string, ReadonlyMap<number, ScriptStatus>>;
}

/**
 * The admin listener: `/healthz` (the process answers), `/readyz` (200 only once the first table is
 * live and until shutdown begins), `/metrics` (Prometheus text, the workers' metrics added up with the
 * control plane's), `/debug/table` (the current table as JSON, private keys left out) and
 * `/debug/scripts` (each RouteScript of the table: the routes it runs on and whether it is failing
 * in any worker). It is a separate port, meant to stay inside the cluster.
 */
export async function startAdminServer(host: string, port: number, sources: AdminSources): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    void route(req, res, sources).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${err.message}\n`);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ListenError(`cannot listen for admin on ${host}:${port}: ${err.message}`, { cause: err })));
    server.listen({ host, port }, resolve);
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : port };
}

async function route(req: IncomingMessage, res: ServerResponse, sources: AdminSources): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed');
  switch (path) {
    case '/healthz':
      return text(res, 200, 'ok');
    case '/readyz':
      return sources.isReady() ? text(res, 200, 'ready') : text(res, 503, 'not ready');
    case '/metrics': {
      const workers = await sources.collectWorkerMetrics();
      const own = await sources.registry.getMetricsAsJSON();
      const merged = AggregatorRegistry.aggregate([own, ...workers] as Parameters<typeof AggregatorRegistry.aggregate>[0]);
      const body = await merged.metrics();
      res.writeHead(200, { 'content-type': merged.contentType });
      res.end(body);
      return;
    }
    case '/debug/table': {
      const current = sources.currentTable();
      if (current === null) return text(res, 503, 'no table yet');
      const body = JSON.stringify(redact(current), null, 2);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${body}\n`);
      return;
    }
    case '/debug/scripts': {
      const current = sources.currentTable();
      if (current === null) return text(res, 503, 'no table yet');
      const body = JSON.stringify(scriptReport(current, sources.scriptStatuses()), null, 2);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${body}\n`);
      return;
    }
    default:
      return text(res, 404, 'not found: try /healthz /readyz /metrics /debug/table /debug/scripts');
  }
}

/**
 * Every RouteScript of the table with the routes that run it and its health: `failing` when any
 * worker is backing off from it, with that worker's last failure; `invalid` when it fails closed
 * (its routes answer its rejectStatus without running anything). `workers` lists only the workers
 * in which the script has failed since it was loaded (a healthy script shows none).
 */
function scriptReport(published: PublishedTable, statuses: ReadonlyMap<string, ReadonlyMap<number, ScriptStatus>>): unknown {
  const { table } = published;
  const routes = routesByScript(table);
  return Object.keys(table.scripts).map((id) => {
    const workers = [...(statuses.get(id) ?? new Map<number, ScriptStatus>())].map(([worker, status]) => ({
      worker,
      ...status,
      retryAt: status.retryAt === null ? null : new Date(status.retryAt).toISOString(),
    }));
    const failing = workers.filter((w) => w.state === 'failing');
    const script = table.scripts[id]!;
    // An invalid script that fails closed never runs: its routes answer its rejectStatus.
    const state = script.invalid ? 'invalid' : failing.length > 0 ? 'failing' : 'ok';
    return { id, state, ...(script.invalid ? { rejectStatus: script.rejectStatus } : {}), routes: (routes.get(id) ?? []).map((r) => r.provenance), workers };
  });
}

/** The table without private keys: `/debug/table` is for reading, not for copying secrets. */
function redact(published: PublishedTable): unknown {
  return {
    ...published,
    table: {
      ...published.table,
      certificates: published.table.certificates.map(({ keyPem: _key, ...rest }) => ({ ...rest, keyPem: '(redacted)' })),
    },
  };
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${body}\n`);
}
