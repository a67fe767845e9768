import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Counter } from 'prom-client';
import type { Logger } from '../../log.ts';
import type { PublishedTable } from '../../model/table.ts';
import type { ScriptStatus } from '../../script/index.ts';
import type { DebugToken } from './debug-token.ts';
import { listenAdmin } from './listen-admin.ts';
import { scriptReport } from '../lifecycle/script-report.ts';
import { redactTable } from './table-redaction.ts';

/** The paths the debug listener serves. */
export const DEBUG_PATHS = ['/debug/table', '/debug/scripts'] as const;

/** The realm named in `WWW-Authenticate` challenges. */
const REALM = 'signalbox-debug';

/** At most one log line per this many milliseconds about refused requests (a scan must not flood the log). */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** What the debug listener reads from the running process. */
export interface DebugSources {
  /** The table published now, or null before the first. */
  currentTable(): PublishedTable | null;
  /** RouteScript health reported by the workers: by script id, by worker index. */
  scriptStatuses(): ReadonlyMap<string, ReadonlyMap<number, ScriptStatus>>;
}

/** How the debug listener is set up. */
export interface DebugServerOptions {
  readonly host: string;
  readonly port: number;
  /** The bearer token every request must carry; null only on a loopback address. */
  readonly token: DebugToken | null;
  readonly log: Logger;
  /** Requests refused for want of the right token, by reason (`missing-token`, `wrong-token`). */
  readonly unauthorized: Counter<'reason'>;
}

/**
 * The debug listener: `/debug/table` (the current table as JSON, with private keys and RouteScript
 * data left out: see table-redaction.ts) and `/debug/scripts` (each RouteScript of the table: the
 * routes it runs on and whether it is failing in any worker). Apart from the admin port because the
 * kubelet and Prometheus need the admin port and nothing needs this one but an operator: it binds
 * loopback by default, and anywhere else only with a bearer token (RFC 6750), checked before
 * anything else about the request, so that without it nothing is learnt, not even which paths exist.
 */
export async function startDebugServer(options: DebugServerOptions, sources: DebugSources): Promise<{ server: Server; port: number }> {
  const { host, port, token, log, unauthorized } = options;
  let lastRefusalLog = -Infinity;
  let refusedSinceLog = 0;
  const refuse = (req: IncomingMessage, res: ServerResponse, reason: 'missing-token' | 'wrong-token'): void => {
    unauthorized.labels(reason).inc();
    refusedSinceLog++;
    const now = performance.now();
    if (now - lastRefusalLog >= REFUSAL_LOG_INTERVAL_MS) {
      // The path only: a client that put its token in the query string must not find it in the log.
      const path = (req.url ?? '').split('?')[0]!.slice(0, 200);
      log.warn({ client: req.socket.remoteAddress, path, reason, refused: refusedSinceLog }, 'debug request refused: no valid bearer token');
      lastRefusalLog = now;
      refusedSinceLog = 0;
    }
    // RFC 6750 §3: a request with no credentials gets the bare challenge, a wrong token `invalid_token`.
    const challenge = reason === 'wrong-token' ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
    text(res, 401, reason === 'wrong-token' ? 'unauthorized: the bearer token is not valid' : 'unauthorized: send Authorization: Bearer <token>', { 'www-authenticate': challenge });
  };

  const server = createServer((req, res) => {
    if (token !== null) {
      const verdict = token.check(req.headers.authorization);
      if (verdict !== 'ok') return refuse(req, res, verdict === 'missing' ? 'missing-token' : 'wrong-token');
    }
    try {
      route(req, res, sources);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${(err as Error).message}\n`);
    }
  });
  return listenAdmin(server, host, port, 'debug');
}

function route(req: IncomingMessage, res: ServerResponse, sources: DebugSources): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed');
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/debug/table': {
      const current = sources.currentTable();
      if (current === null) return text(res, 503, 'no table yet');
      return json(res, { ...current, table: redactTable(current.table) });
    }
    case '/debug/scripts': {
      const current = sources.currentTable();
      if (current === null) return text(res, 503, 'no table yet');
      return json(res, scriptReport(current, sources.scriptStatuses()));
    }
    default:
      return text(res, 404, `not found: try ${DEBUG_PATHS.join(' ')}`);
  }
}

function json(res: ServerResponse, value: unknown): void {
  // The table changes from one request to the next and is nobody's to keep: no cache may store it.
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(value, null, 2)}\n`);
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${body}\n`);
}
