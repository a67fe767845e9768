/**
 * The fake Node's kubelet endpoint, as far as logs go: the API server proxies `pods/log` (kubectl
 * logs, the suite's mirror tests) to `https://<node InternalIP>:<kubeletEndpoint port>/containerLogs/
 * <namespace>/<pod>/<container>?...`, and this answers it from the pod runner's container logs.
 * HTTPS with a certificate of the run's CA; only clients with a certificate of that CA (the API
 * server's `--kubelet-client-certificate`) are served, as a kubelet with webhook-free x509 auth does.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ContainerLog } from './container-log.ts';
import { ByteLimit, keeps, nanoClock, parseLogQuery, renderRecord, selectRecords, type LogRecord } from './pod-logs.ts';

/** Finds a running container's log; a string says why there is none (answered 404). */
export type LogLookup = (namespace: string, pod: string, container: string) => ContainerLog | string;

/** Options of {@link startKubeletServer}. */
export interface KubeletServerOptions {
  readonly host: string;
  /** 0 for any free port (the tests). */
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  /** The CA whose client certificates are served. */
  readonly clientCa: string;
  readonly lookup: LogLookup;
}

/** Starts the endpoint; resolves once it listens, with its port. */
export async function startKubeletServer(options: KubeletServerOptions): Promise<{ server: Server; port: number }> {
  const now = nanoClock();
  const server = createServer({ cert: options.cert, key: options.key, ca: options.clientCa, requestCert: true, rejectUnauthorized: true },
    (req, res) => serve(req, res, options.lookup, now));
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => done());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function serve(req: IncomingMessage, res: ServerResponse, lookup: LogLookup, now: () => bigint): void {
  const url = new URL(req.url ?? '/', 'https://kubelet');
  if (url.pathname === '/healthz') return answer(res, 200, 'ok');
  const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (match === null || req.method !== 'GET') return answer(res, 404, `not found: ${url.pathname}`);
  const [namespace, pod, container] = match.slice(1).map(decodeURIComponent) as [string, string, string];
  const parsed = parseLogQuery(url.searchParams, now());
  if ('error' in parsed) return answer(res, 400, parsed.error);
  const query = parsed.query;
  // The runner keeps no logs of a container that ran before (a restart starts a fresh directory).
  if (query.previous) return answer(res, 400, `previous terminated container "${container}" in pod "${pod}" not found`);
  const log = lookup(namespace, pod, container);
  if (typeof log === 'string') return answer(res, 404, log);

  const limit = new ByteLimit(query.limitBytes);
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    following.unfollow();
    res.end();
  };
  const send = (record: LogRecord) => {
    if (finished) return;
    res.write(limit.take(renderRecord(query, record)));
    if (limit.done) finish();
  };
  const following = log.readAndFollow(query.follow ? (record) => (record === null ? finish() : keeps(query, record) && send(record)) : null);
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  for (const record of selectRecords(query, following.records)) send(record);
  if (!query.follow || following.ended) return finish();
  // Following: the answer stays open until the container stops or the client goes.
  res.flushHeaders();
  res.once('close', finish);
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}
