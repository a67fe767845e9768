/**
 * The demo servers of examples/shard-routing: the storefront's own backend `shop`, the shards
 * `shop-a` and `shop-b`, and `shard-directory`, the service the lookup-service variant asks where
 * a shop lives. Each backend answers with its name and what it saw (path, the `x-shard` header the
 * RouteScript set), so a user can see where a request went.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The names of the demo servers, as their Services are named. */
export type DemoServer = 'shop' | 'shop-a' | 'shop-b' | 'shard-directory';

/** The ports the example's EndpointSlices point at. */
export const DEMO_PORTS: Readonly<Record<DemoServer, number>> = { shop: 19101, 'shop-a': 19102, 'shop-b': 19103, 'shard-directory': 19104 };

/** The directory's placement at start: the same as the map in data-map/30-routescript.yaml. */
export const INITIAL_SHARDS: Readonly<Record<string, string>> = { '1': 'shard-a', '2': 'shard-b', '3': 'shard-a' };

/** Options for {@link startShardBackends}. */
export interface ShardBackendsOptions {
  /** Where each server listens; 0 picks a free port. Default {@link DEMO_PORTS}. */
  readonly ports?: Readonly<Record<DemoServer, number>>;
  readonly host?: string;
  /** Called with a line for each directory request. */
  readonly log?: (line: string) => void;
}

/** The running demo servers. */
export interface ShardBackends {
  /** The port each server listens on (the free ones picked for 0). */
  readonly ports: Readonly<Record<DemoServer, number>>;
  /** The directory's map, shop id → backend name; a change is what the next directory request answers. */
  readonly directory: Map<string, string>;
  /** How many times the directory was asked about each shop id. */
  readonly asked: Map<string, number>;
  close(): Promise<void>;
}

const DIRECTORY_PATH = /^\/shards\/([^/?]+)$/;

/**
 * Starts the three backends and the shard directory. The directory serves `GET /shards/<id>`
 * (200 with the backend name, 404 for an unknown shop) and, to move shops while the demo runs,
 * `PUT /shards/<id>` with the backend name as body and `DELETE /shards/<id>`.
 */
export async function startShardBackends(options: ShardBackendsOptions = {}): Promise<ShardBackends> {
  const wanted = options.ports ?? DEMO_PORTS;
  const host = options.host ?? '127.0.0.1';
  const directory = new Map(Object.entries(INITIAL_SHARDS));
  const asked = new Map<string, number>();
  const handlers: Record<DemoServer, (req: IncomingMessage, res: ServerResponse) => void> = {
    shop: (req, res) => describeRequest('shop', req, res),
    'shop-a': (req, res) => describeRequest('shop-a', req, res),
    'shop-b': (req, res) => describeRequest('shop-b', req, res),
    'shard-directory': (req, res) => serveDirectory(req, res, directory, asked, options.log),
  };
  // Settled, not all: when one port is taken, the servers that did start must be closed again.
  const started = await Promise.allSettled((Object.keys(handlers) as DemoServer[]).map((name) => listen(name, createServer(handlers[name]), wanted[name], host)));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = async (): Promise<void> => {
    await Promise.all(servers.map(([, server]) => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    })));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await close();
    throw failed.reason;
  }
  const ports = Object.fromEntries(servers.map(([name, server]) => [name, (server.address() as AddressInfo).port])) as Record<DemoServer, number>;
  return { ports, directory, asked, close };
}

function listen(name: DemoServer, server: Server, port: number, host: string): Promise<[DemoServer, Server]> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`demo server ${name} cannot listen on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => resolve([name, server]));
  });
}

function describeRequest(name: string, req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const body = JSON.stringify({ backend: name, method: req.method, path: req.url, shard: req.headers['x-shard'] ?? null, host: req.headers.host }, null, 2);
  res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
  res.end(`${body}\n`);
}

function serveDirectory(req: IncomingMessage, res: ServerResponse, directory: Map<string, string>, asked: Map<string, number>, log?: (line: string) => void): void {
  const answer = (status: number, text: string): void => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(text);
  };
  const id = shopIdOf(req.url ?? '');
  if (id === null || !['GET', 'PUT', 'DELETE'].includes(req.method ?? '')) {
    req.resume();
    return answer(404, 'GET, PUT or DELETE /shards/<shop id>\n');
  }
  if (req.method === 'PUT') {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      directory.set(id, text.trim());
      log?.(`shard-directory: shop ${id} is now on ${text.trim()}`);
      answer(204, '');
    });
    return;
  }
  req.resume();
  if (req.method === 'DELETE') {
    directory.delete(id);
    log?.(`shard-directory: shop ${id} removed`);
    return answer(204, '');
  }
  asked.set(id, (asked.get(id) ?? 0) + 1);
  const shard = directory.get(id);
  log?.(`shard-directory: GET ${req.url} -> ${shard ?? '404'}`);
  if (shard === undefined) answer(404, 'unknown shop\n');
  else answer(200, shard);
}

/** The shop id of a `/shards/<id>` path, or null for any other path. */
function shopIdOf(url: string): string | null {
  const match = DIRECTORY_PATH.exec(url);
  if (match === null) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
}
