/**
 * The demo servers of examples/request-pausing — the orders API, the two tenant shards and the
 * back office — and the manifest edits the demo makes in the cluster's or the operator's place:
 * a deploy that takes the orders pod away and brings it back on a new port, the operator's
 * maintenance switch, and a tenant's move to another shard. Each server answers with its name and
 * the path it saw, so a user (and the test) can tell where a request went.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';

/** The names of the demo servers, as their Services are named. */
export type DemoServer = 'orders' | 'tenants-a' | 'tenants-b' | 'admin';

/** The ports the example's EndpointSlices point at. */
export const DEMO_PORTS: Readonly<Record<DemoServer, number>> = { orders: 19201, 'tenants-a': 19202, 'tenants-b': 19203, admin: 19204 };

/** Where the demo's deploy brings the orders pod back: a new pod, on another port. */
export const ORDERS_NEW_PORT = 19205;

/** The files of examples/request-pausing/manifests that the edits below change. */
export const EDITED_FILES = { orders: '15-orders-endpointslice.yaml', tenants: '30-tenants.yaml', maintenance: '40-maintenance.yaml' } as const;

/** What every demo server answers, as JSON. */
export interface DemoAnswer {
  /** The server's name; for orders, the pod (`orders-1`, then `orders-2` after the deploy). */
  readonly backend: string;
  readonly method: string;
  readonly path: string;
}

/** Options for {@link startPausingBackends}. */
export interface PausingBackendsOptions {
  /** Where each server listens; 0 picks a free port. Default {@link DEMO_PORTS}. */
  readonly ports?: Readonly<Record<DemoServer, number>>;
  readonly host?: string;
}

/** The running demo servers. */
export interface PausingBackends {
  /** The port each server listens on now (orders' changes with {@link startOrders}). */
  readonly ports: Readonly<Record<DemoServer, number>>;
  /**
   * The orders pod goes away as a pod does on a graceful stop: it takes no new connection and
   * closes each one once its request is answered.
   */
  stopOrders(): Promise<void>;
  /** A new orders pod (`orders-2`, `orders-3`, …) on `port` (0: a free one); resolves to its port. */
  startOrders(port: number): Promise<number>;
  close(): Promise<void>;
}

/** Starts orders (`orders-1`), tenants-a, tenants-b and admin. */
export async function startPausingBackends(options: PausingBackendsOptions = {}): Promise<PausingBackends> {
  const wanted = options.ports ?? DEMO_PORTS;
  const host = options.host ?? '127.0.0.1';
  const names = Object.keys(DEMO_PORTS) as DemoServer[];
  let pods = 1;
  // Settled, not all: when one port is taken, the servers that did start must be closed again.
  const started = await Promise.allSettled(names.map((name) => listen(name === 'orders' ? 'orders-1' : name, wanted[name], host)));
  const servers = new Map<DemoServer, Server>();
  started.forEach((s, i) => {
    if (s.status === 'fulfilled') servers.set(names[i]!, s.value);
  });
  const ports = {} as Record<DemoServer, number>;
  for (const [name, server] of servers) ports[name] = (server.address() as AddressInfo).port;
  const stop = async (name: DemoServer): Promise<void> => {
    const server = servers.get(name);
    servers.delete(name);
    if (server !== undefined) await closeGracefully(server);
  };
  const close = async (): Promise<void> => {
    await Promise.all([...servers.keys()].map(stop));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await close();
    throw failed.reason;
  }
  return {
    ports,
    stopOrders: () => stop('orders'),
    async startOrders(port) {
      await stop('orders');
      const server = await listen(`orders-${++pods}`, port, host);
      servers.set('orders', server);
      ports.orders = (server.address() as AddressInfo).port;
      return ports.orders;
    },
    close,
  };
}

function listen(name: string, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => answer(name, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`demo server ${name} cannot listen on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => resolve(server));
  });
}

function answer(name: string, req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const body: DemoAnswer = { backend: name, method: req.method ?? '', path: req.url ?? '' };
  res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
  res.end(`${JSON.stringify(body)}\n`);
}

async function closeGracefully(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Idle keep-alive connections would keep close() waiting; busy ones end after their response.
  server.closeIdleConnections();
  await closed;
}

/**
 * Copies examples/request-pausing/manifests to `dir`, each fixed demo port replaced by the one in
 * `ports` (one pass, so no port is rewritten twice).
 */
export async function copyManifests(dir: string, ports: Readonly<Record<DemoServer, number>> = DEMO_PORTS): Promise<void> {
  const source = join(import.meta.dirname, 'manifests');
  const byPort = new Map(Object.entries(DEMO_PORTS).map(([name, port]) => [String(port), name as DemoServer]));
  const pattern = new RegExp(`\\b(${[...byPort.keys()].join('|')})\\b`, 'g');
  for (const file of await readdir(source)) {
    const text = await readFile(join(source, file), 'utf8');
    await writeFile(join(dir, file), text.replace(pattern, (port) => String(ports[byPort.get(port)!])));
  }
}

/**
 * The deploy, as Kubernetes would write it into the orders EndpointSlice: `null` while no pod is
 * ready (an empty endpoint list), else the new pod on `port`.
 */
export function setOrdersEndpoint(dir: string, port: number | null): Promise<void> {
  return edit(dir, EDITED_FILES.orders, (doc) => {
    if (port === null) {
      doc.setIn(['endpoints'], doc.createNode([]));
      return;
    }
    doc.setIn(['ports', 0, 'port'], port);
    const endpoint = doc.createNode({ addresses: ['127.0.0.1'], conditions: { ready: true } });
    for (const pair of endpoint.items) (pair.value as YAML.Node & { flow?: boolean }).flow = true;
    doc.setIn(['endpoints'], doc.createNode([endpoint]));
  });
}

/** The operator's switch: `spec.pause.enabled` of RouteScript `maintenance`. */
export function setMaintenance(dir: string, enabled: boolean): Promise<void> {
  return edit(dir, EDITED_FILES.maintenance, (doc) => doc.setIn(['spec', 'pause', 'enabled'], enabled));
}

/** A tenant's move: `shard` null starts it (the tenant is listed in `moving`), a backend name ends it there. */
export function setTenantMove(dir: string, tenant: string, shard: string | null): Promise<void> {
  return edit(dir, EDITED_FILES.tenants, (doc) => {
    const moving = (doc.getIn(['spec', 'data', 'moving']) as YAML.YAMLSeq<YAML.Scalar<string>>).items.map((s) => s.value).filter((t) => t !== tenant);
    if (shard === null) moving.push(tenant);
    else doc.setIn(['spec', 'data', 'shards', tenant], shard);
    const list = doc.createNode(moving);
    list.flow = true;
    doc.setIn(['spec', 'data', 'moving'], list);
  });
}

/** Rewrites one manifest file through `change`, keeping its comments; written aside and renamed, as editors do. */
async function edit(dir: string, file: string, change: (doc: YAML.Document) => void): Promise<void> {
  const path = join(dir, file);
  const doc = YAML.parseDocument(await readFile(path, 'utf8'));
  change(doc);
  // A dot-file with another extension: the manifest watcher never reads the half-written copy.
  const aside = join(dir, `.${file}.tmp`);
  await writeFile(aside, doc.toString({ lineWidth: 0, flowCollectionPadding: false }));
  await rename(aside, path);
}
