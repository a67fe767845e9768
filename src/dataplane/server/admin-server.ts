import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AggregatorRegistry } from 'prom-client';
import type { Registry } from 'prom-client';
import { listenAdmin } from './listen-admin.ts';

/** What the admin server reads from the running process. */
export interface AdminSources {
  /** The control plane's own registry. */
  readonly registry: Registry;
  /** Metrics JSON of every data-plane worker. */
  collectWorkerMetrics(): Promise<unknown[]>;
  /** Ready: the first table is live in every worker and the process is not draining. */
  isReady(): boolean;
  /**
   * Where `/debug/*` is served instead (`127.0.0.1:9902`), or null when the debug listener is off:
   * said in the 404 for a `/debug/` path, so that an old bookmark or script learns where to go.
   */
  readonly debugAddress: string | null;
}

/**
 * The admin listener: `/healthz` (the process answers), `/readyz` (200 only once the first table is
 * live and until shutdown begins) and `/metrics` (Prometheus text, the workers' metrics added up with
 * the control plane's): what the kubelet and Prometheus need, and nothing that shows the routing
 * table — that is the debug listener's (debug-server.ts), which stays on loopback or behind a token.
 */
export async function startAdminServer(host: string, port: number, sources: AdminSources): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    void route(req, res, sources).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${err.message}\n`);
    });
  });
  return listenAdmin(server, host, port, 'admin');
}

async function route(req: IncomingMessage, res: ServerResponse, sources: AdminSources): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
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
    default:
      if (path === '/debug' || path.startsWith('/debug/')) return text(res, 404, movedMessage(sources.debugAddress));
      return text(res, 404, 'not found: try /healthz /readyz /metrics');
  }
}

function movedMessage(debugAddress: string | null): string {
  const where = debugAddress === null
    ? 'the debug listener, which is off here (--debug-port off)'
    : `the debug listener on ${debugAddress} (--debug-port, --debug-bind; in a pod: kubectl port-forward POD ${debugAddress.slice(debugAddress.lastIndexOf(':') + 1)})`;
  return `not found: /debug/* is not served on the admin port; it moved to ${where}`;
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${body}\n`);
}
